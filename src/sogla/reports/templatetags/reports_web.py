"""Template helpers of the report page and the card's on-time mark."""

from __future__ import annotations

from typing import Any

from django import template

from sogla.reports import formatting

register = template.Library()


@register.inclusion_tag("reports/partials/timeliness.html")
def timeliness_mark(task: Any) -> dict[str, Any]:
    """«в срок» / «просрочено на 2 дн.» for a decided task with a deadline, else
    nothing; reads the task's own fields only (no query)."""
    return {"mark": formatting.timeliness(task)}


@register.filter
def duration(seconds: float | None) -> str:
    return formatting.duration_text(seconds)


@register.filter
def percent(value: float | None) -> str:
    return formatting.percent_text(value)


@register.filter
def share(value: float | None) -> str:
    return formatting.share_text(value)
