"""Counterparty names as people write them: one normal form to find duplicates by.

Pure (no Django): the services store it, the search and the admin compare with it.
"""

from __future__ import annotations

import re

_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|ип|нко|ано|фгуп|муп|гуп|llc|ltd|inc|gmbh|jsc|plc)\b"
)
_NOT_WORD = re.compile(r"[^\w]+")


def normalize_name(name: str) -> str:
    """'ООО «Ромашка»' and 'Ромашка, ООО' both become 'ромашка'."""
    lowered = name.lower().replace("ё", "е")
    lowered = _LEGAL_FORMS.sub(" ", lowered)
    return " ".join(_NOT_WORD.sub(" ", lowered).split())
