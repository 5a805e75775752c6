"""Template helpers shared by every screen: status chips, field errors, file sizes."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()

STATUS_ICONS = {
    "neutral": "circle",
    "active": "arrow-right-circle",
    "waiting": "hourglass-split",
    "overdue": "alarm-fill",
    "returned": "arrow-counterclockwise",
    "rejected": "x-octagon-fill",
    "approved": "check-circle-fill",
    "signed": "patch-check-fill",
    "guest": "globe2",
    "cancelled": "slash-circle",
}


@register.inclusion_tag("web/status_chip.html")
def status_chip(status: Any) -> dict[str, Any]:
    """A status as icon + word + colour (UI.md §1); ``status`` is a StatusDef."""
    token = getattr(status, "token", "")
    if token not in STATUS_ICONS:
        token = next(iter(STATUS_ICONS))
    return {"token": token, "icon": STATUS_ICONS[token], "name": str(status)}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if not mapping:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def size(value: int) -> str:
    return str(filesizeformat(value))


@register.filter
def short_sha(value: str) -> str:
    return (value or "")[:4]
