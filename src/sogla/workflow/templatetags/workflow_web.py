"""Template helpers of the route map: a state as icon + word + colour (UI.md §1-§2)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from sogla.workflow.views_support import KIND_ICONS, kind_words

register = template.Library()

# colour -> (chip class, icon); full class names for the CSS purge.
STATES = {
    "not_started": ("status-chip status-neutral", "bi-circle"),
    "waiting": ("status-chip status-waiting", "bi-hourglass-split"),
    "overdue": ("status-chip status-overdue", "bi-alarm-fill"),
    "returned": ("status-chip status-returned", "bi-arrow-counterclockwise"),
    "rejected": ("status-chip status-rejected", "bi-x-octagon-fill"),
    "done": ("status-chip status-approved", "bi-check-circle-fill"),
    "skipped": ("status-chip status-neutral", "bi-skip-forward"),
    "carried_over": ("status-chip status-approved chip-outlined", "bi-arrow-repeat"),
}
# colour -> the map's stage/step frame class.
FRAMES = {
    "not_started": "map-neutral",
    "waiting": "map-waiting",
    "overdue": "map-overdue",
    "returned": "map-returned",
    "rejected": "map-rejected",
    "done": "map-done",
    "skipped": "map-skipped",
    "carried_over": "map-carried",
}


def state_word(colour: str) -> str:
    words = {
        "not_started": _("Not started"),
        "waiting": _("Waiting"),
        "overdue": _("Overdue"),
        "returned": _("Returned"),
        "rejected": _("Rejected"),
        "done": _("Done"),
        "skipped": _("Skipped"),
        "carried_over": _("Carried over"),
    }
    return str(words.get(colour, colour))


@register.inclusion_tag("workflow/partials/state_chip.html")
def state_chip(colour: str, word: str = "") -> dict[str, Any]:
    css, icon = STATES.get(colour, STATES["not_started"])
    return {"css": css, "icon": icon, "word": word or state_word(colour)}


@register.filter
def state_text(colour: str) -> str:
    return state_word(colour)


@register.filter
def frame(colour: str) -> str:
    return FRAMES.get(colour, "map-neutral")


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "bi-circle")


@register.filter
def kind_word(kind: str) -> str:
    return kind_words(kind)


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def pair(stage: str, step: str) -> tuple[str, str]:
    return (stage, step)


@register.filter
def from_round(carried_from: str) -> str:
    """ "r1:lawyer:lawyer:3" -> "1": the round a carried-over decision was made in."""
    head = (carried_from or "").split(":", 1)[0]
    return head[1:] if head.startswith("r") and head[1:].isdigit() else "?"


@register.filter
def quorum_words(quorum: str) -> str:
    if quorum == "any":
        return _("any one of them")
    if quorum == "all":
        return _("all of them")
    return _("%(n)s of them") % {"n": quorum}


@register.filter
def concat(value: Any, arg: Any) -> str:
    return f"{value}{arg}"


@register.filter
def lookup_pair(mapping: Any, task: Any) -> Any:
    """``step_names|lookup_pair:task``: the name of the task's stage and step."""
    try:
        return mapping.get((task.stage_key, task.step_key), task.step_key)
    except AttributeError:
        return ""
