"""Template helpers of the route map: a state as icon + word + colour (UI.md §1-§2)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from sogla.workflow.labels import (
    colour_label,
    kind_icon,
    kind_label,
    look,
    outcome_chip,
    quorum_label,
)
from sogla.workflow.reask_words import reask_label

register = template.Library()

# The words and looks themselves are ``sogla.workflow.labels``.
register.filter("state_text", colour_label)
register.filter("kind_icon", kind_icon)
register.filter("kind_word", kind_label)
register.filter("quorum_words", quorum_label)
register.filter("reask_word", reask_label)


def _chip(css: str, icon: str, word: Any) -> SafeString:
    # A small fixed fragment, built here: a route map draws a dozen or more, and an
    # inclusion template costs a context and a render each.
    return format_html(
        '<span class="{}"><i class="bi {}" aria-hidden="true"></i>{}</span>',
        css,
        icon,
        word,
    )


@register.simple_tag
def state_chip(colour: str, word: str = "") -> SafeString:
    drawn = look(colour)
    return _chip(drawn.chip, drawn.icon, word or colour_label(colour))


@register.simple_tag(name="outcome_chip")
def outcome_chip_tag(outcome: str) -> SafeString:
    css, icon, word = outcome_chip(outcome)
    return _chip(css, icon, word)


@register.filter
def frame(colour: str) -> str:
    return look(colour).frame


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
def concat(value: Any, arg: Any) -> str:
    return f"{value}{arg}"


@register.filter
def lookup_pair(mapping: Any, task: Any) -> Any:
    """``step_names|lookup_pair:task``: the name of the task's stage and step."""
    try:
        return mapping.get((task.stage_key, task.step_key), task.step_key)
    except AttributeError:
        return ""
