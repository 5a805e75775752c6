"""The inbox page: a tab's tasks grouped by urgency, with the words each row shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from sogla.core.text import without_number
from sogla.discussion.selectors import unread_counts
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.bulk import bulk_outcome
from sogla.workflow.labels import kind_icon, kind_label, name_in_language
from sogla.workflow.models import Task
from sogla.workflow.screens.durations import WorkingTime, working_time
from sogla.workflow.selectors import task_list_for_user

PAGE_SIZE = 50

GROUP_TITLES = {
    "overdue": lambda: _("Overdue"),
    "today": lambda: _("Today"),
    "week": lambda: _("This week"),
    "later": lambda: _("Later"),
    "none": lambda: _("No due date"),
    "open": lambda: _("Waiting on others"),
    "done": lambda: _("Done"),
}


@dataclass
class InboxRow:
    task: Task
    group: str  # overdue / today / week / later / none / open / done
    overdue_text: str
    delegated_for: User | None
    stage_name: str = ""
    stage_position: str = ""
    url: str = ""  # the document's card (built once: the row links to it three times)
    icon: str = ""
    kind_word: str = ""
    # The words the row shows, computed once here rather than by the template's
    # lookups and filters (the row is rendered twice: a table row and a phone card).
    number: str = ""
    title: str = ""
    party: str = ""  # the counterparty's name
    type_name: str = ""
    due_text: str = ""  # the due (or, done tab, decision) time as the viewer reads it
    round_text: str = ""  # "round 2" from the second round on
    delegated_text: str = ""  # "for <name>"
    select_label: str = ""
    bulk: str | None = None  # the outcome a bulk decision may give, if any
    unread: int = 0  # unread messages of the document's discussion


@dataclass
class InboxGroup:
    key: str
    title: str
    rows: list[InboxRow] = field(default_factory=list)


@dataclass
class InboxPage:
    groups: list[InboxGroup]
    next_cursor: str | None
    count: int


def inbox_page(
    *,
    user: User,
    tab: str = "mine",
    cursor: str = "",
    doc_type: str = "",
    q: str = "",
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """One page of an inbox tab in one query (``selectors.task_list_for_user``),
    grouped by urgency: overdue, today, this week, later, no due date; plus one
    aggregate query for the rows' unread discussion messages."""
    page = task_list_for_user(
        user=user, tab=tab, cursor=cursor, limit=limit, doc_type=doc_type, q=q
    )
    # the rows are read without the route's JSON: the parsed routes are cached
    definitions.definitions_preload(t.process.route_version for t in page.items)
    timing = (
        working_time(user.organisation)
        if page.items and tab != "done" and user.organisation is not None
        else None
    )
    now = timezone.now()
    unread = unread_counts(
        user=user, document_ids=sorted({t.process.document_id for t in page.items})
    )
    groups: dict[str, InboxGroup] = {}
    for task in page.items:
        row = _row(task, user, tab, now, timing)
        row.unread = unread.get(task.process.document_id, 0)
        title = str(GROUP_TITLES[row.group]())
        groups.setdefault(row.group, InboxGroup(row.group, title)).rows.append(row)
    return InboxPage(list(groups.values()), page.next_cursor, len(page.items))


def _row(
    task: Task, user: User, tab: str, now: datetime, timing: WorkingTime | None
) -> InboxRow:
    group = "done" if tab == "done" else _group(task, now)
    if tab in ("started", "watching") and group != "overdue":
        group = "open"
    text = ""
    if group == "overdue" and timing is not None and task.due_at is not None:
        text = timing.overdue(task.due_at, now)
    delegated = task.on_behalf_of if task.assignee_id == user.pk else None
    name, position = _stage_name(task)
    document = task.process.document
    moment = task.decided_at if tab == "done" else task.due_at
    return InboxRow(
        task,
        group,
        text,
        delegated,
        name,
        position,
        reverse("documents:card", args=[task.process.document_id]),
        kind_icon(task.kind),
        kind_label(task.kind),
        number=document.number,
        title=without_number(document.title, document.number),
        party=document.counterparty.name if document.counterparty else "",
        type_name=document.doc_type.name,
        due_text=(
            formats.date_format(
                timezone.localtime(moment),
                "SHORT_DATETIME_FORMAT" if tab == "done" else "SHORT_DATE_FORMAT",
            )
            if moment is not None
            else ""
        ),
        round_text=_("round %(n)s") % {"n": task.round} if task.round > 1 else "",
        delegated_text=(
            _("for %(name)s") % {"name": delegated.short_name} if delegated else ""
        ),
        select_label=_("Select %(number)s") % {"number": document.number}
        if tab == "mine"
        else "",
        bulk=bulk_outcome(task) if tab == "mine" else None,
    )


def _stage_name(task: Task) -> tuple[str, str]:
    """The stage's name and "3/5" from the (cached) route definition."""
    if task.kind == "revision":
        return kind_label("revision"), ""
    definition = definitions.definition_for(task.process.route_version)
    for index, stage in enumerate(definition.stages):
        if stage.key == task.stage_key:
            name = name_in_language(stage.name) or stage.key
            return name, f"{index + 1}/{len(definition.stages)}"
    return task.stage_key, ""


def _group(task: Task, now: datetime) -> str:
    """Overdue, today, this week or later: the calendar days of the viewer, who
    sees the due times in their own time zone."""
    if task.due_at is None:
        return "overdue" if task.overdue else "none"
    if task.overdue or task.due_at < now:
        return "overdue"
    today = timezone.localtime(now).date()
    due = timezone.localtime(task.due_at).date()
    if due <= today:
        return "today"
    if due <= _week_end(today):
        return "week"
    return "later"


def _week_end(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())
