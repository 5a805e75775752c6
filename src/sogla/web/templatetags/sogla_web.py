"""Template helpers shared by every screen: status chips, field errors, file sizes."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import filesizeformat

from sogla.core import text

register = template.Library()

# Full class names, so that the CSS purge at build time sees them.
STATUS_ICONS = {
    "neutral": "bi-circle",
    "active": "bi-arrow-right-circle",
    "waiting": "bi-hourglass-split",
    "overdue": "bi-alarm-fill",
    "returned": "bi-arrow-counterclockwise",
    "rejected": "bi-x-octagon-fill",
    "approved": "bi-check-circle-fill",
    "signed": "bi-patch-check-fill",
    "guest": "bi-globe2",
    "cancelled": "bi-slash-circle",
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
def without_number(title: str, number: str) -> str:
    """The title beside its number, the number said once (``core.text``)."""
    return text.without_number(title, number)


@register.filter
def size(value: int) -> str:
    return str(filesizeformat(value))


@register.filter
def short_sha(value: str) -> str:
    return (value or "")[:4]
