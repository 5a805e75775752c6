"""Numbers, titles and folder paths made from a type's templates.

A template is text with placeholders such as ``{prefix}-{yyyy}-{seq:05}`` or
``Contract {number} with {counterparty}: {subject}``. Only names are substituted:
there is no format language beyond zero padding, so a template cannot run code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)(?::0?(\d{1,2}))?\}")
NUMBER_PLACEHOLDERS = frozenset({"prefix", "yyyy", "yy", "mm", "seq", "department"})
TITLE_BUILTINS = frozenset(
    {"number", "type", "counterparty", "initiator", "department"}
)


def placeholders(template: str) -> set[str]:
    return {match.group(1) for match in _PLACEHOLDER.finditer(template)}


def render(template: str, values: Mapping[str, object]) -> str:
    """Substitute each ``{name}`` or ``{name:0N}``; a missing value renders empty."""

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        text = "" if value is None else str(value)
        width = match.group(2)
        return text.zfill(int(width)) if width else text

    rendered = _PLACEHOLDER.sub(substitute, template)
    return re.sub(r"\s{2,}", " ", rendered).strip()


def unknown_placeholders(template: str, known: set[str] | frozenset[str]) -> set[str]:
    return placeholders(template) - set(known)


def safe_folder_path(path: str) -> str:
    """A folder path with no empty, '.' or '..' parts and no stray slashes."""
    parts = [part.strip() for part in path.replace("\\", "/").split("/")]
    return "/".join(part for part in parts if part and part not in {".", ".."})
