"""Template helpers of the route map: a state as icon + word + colour (UI.md §1-§2),
and the inbox's row."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.workflow.labels import (
    colour_label,
    kind_icon,
    kind_label,
    look,
    outcome_chip,
    quorum_label,
)
from sogla.workflow.reask_words import reask_label
from sogla.workflow.screens.inbox import InboxRow

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


@register.simple_tag
def inbox_row(row: InboxRow, tab: str) -> SafeString:
    """One inbox row (``<tr>``), written here rather than as a template: a page has
    fifty of them, and the template engine spent about 70 µs on each row's
    twenty-odd nodes, this about a sixth of that (the way Django's admin writes its
    list's cells).

    The markup is lean (UI.md: the inbox's fifty rows in 40 KB): the cells are
    styled by their column in main.css (``.inbox-table``), an overdue row's due
    date is drawn there as the overdue chip, the task's kind icon and the chip's
    alarm too (with empty alternative text, as the ``aria-hidden`` icons they
    replace), and a click on the row opens the link of its number (main.js)."""
    select = ""
    if tab == "mine":
        select = format_html(
            "<td>{}</td>",
            format_html(
                '<input class="form-check-input" type="checkbox" name="task" '
                'value="{}" form="bulk-form" data-bulk="{}" aria-label="{}">',
                row.task_id,
                row.bulk,
                row.select_label,
            )
            if row.bulk
            else "",
        )
    if row.group == "overdue":
        due = format_html(
            "<td><span>{}</span></td>",  # a chip: main.css, .inbox-group-overdue
            row.overdue_text or _("Overdue"),
        )
    elif row.due_text:
        due = format_html("<td>{}</td>", row.due_text)
    else:
        due = mark_safe('<td class="inbox-no-due">—</td>')
    unread = ""
    if row.unread:
        unread = format_html(
            ' <span class="badge text-bg-primary"><i class="bi bi-chat-dots" '
            'aria-hidden="true"></i> {}<span class="visually-hidden"> {}</span></span>',
            row.unread,
            ngettext("unread message", "unread messages", row.unread),
        )
    about = " · ".join(x for x in (row.party, row.type_name, row.round_text) if x)
    stage = format_html(
        "{}{}",
        row.stage_name,
        format_html(" <span>{}</span>", row.stage_position)
        if row.stage_position
        else "",
    )
    if tab == "mine":
        # the kind's icon: main.css draws it before the word (its bootstrap-icons
        # class, which tests/web/test_drawn_icons.py keeps drawn without alt text)
        task = format_html(
            '<td class="{}">{}{}</td>',
            row.icon,
            row.kind_word,
            format_html('<div class="inbox-for">{}</div>', row.delegated_text)
            if row.delegated_text
            else "",
        )
    elif tab == "done":
        task = format_html("<td>{}</td>", outcome_chip_tag(row.outcome))
    elif row.holder:
        task = format_html("<td>{}</td>", row.holder)
    else:
        task = format_html(
            '<td><i class="bi bi-globe2" aria-hidden="true"></i> {}</td>',
            row.guest_email,
        )
    return format_html(
        '<tr class="inbox-row">{}{}<td><a class="doc-number" href="{}">{}</a> '
        '<span class="inbox-title">{}</span>{}<div>{}</div></td><td>{}</td>{}</tr>\n',
        select,
        due,
        row.url,
        row.number,
        row.title,
        unread,
        about,
        stage,
        task,
    )
