"""Typed readers for ``SOGLA_*`` environment variables.

Every setting Sogla reads from the environment goes through one of these, so that a
bad value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "SOGLA_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    return os.environ.get(PREFIX + name)


def env_str(name: str, default: str) -> str:
    """The variable's value; unset or empty gives ``default``."""
    value = _raw(name)
    return value if value and value.strip() else default


def env_bool(name: str, *, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    msg = f"{PREFIX}{name} must be one of 1/0, true/false, yes/no; got {value!r}"
    raise ImproperlyConfigured(msg)


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        msg = f"{PREFIX}{name} must be an integer; got {value!r}"
        raise ImproperlyConfigured(msg) from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return Path(value).expanduser().resolve() if value else default
