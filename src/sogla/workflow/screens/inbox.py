"""The inbox page: a tab's tasks grouped by urgency, with the words each row shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import dateformat, formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.core.text import without_number
from sogla.discussion.selectors import unread_counts
from sogla.engine.definition import RouteDefinition
from sogla.orgs.models import User
from sogla.web.links import id_link
from sogla.workflow import definitions
from sogla.workflow.bulk import bulk_outcome_of
from sogla.workflow.labels import kind_icon, kind_label, name_in_language
from sogla.workflow.screens.durations import WorkingTime, working_time
from sogla.workflow.selectors import INBOX_VALUES, person_values, task_values_for_user

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
    task_id: int
    group: str  # overdue / today / week / later / none / open / done
    overdue_text: str
    stage_name: str = ""
    stage_position: str = ""
    url: str = ""  # the document's card (built once: the row links to it three times)
    icon: str = ""
    kind_word: str = ""
    # The words the row shows, computed once here rather than by the template's
    # lookups and filters.
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
    outcome: str = ""  # the done tab's decision
    holder: str = ""  # who holds the task now (started, watching), or ""
    guest_email: str = ""  # … or the outside approver's address


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
    """One page of an inbox tab in one query (``selectors.task_values_for_user``:
    the columns a row shows as plain values, no model instances), grouped by
    urgency: overdue, today, this week, later, no due date; plus one aggregate query
    for the rows' unread discussion messages (and one for route definitions this
    process has not parsed yet)."""
    page = task_values_for_user(
        user=user,
        tab=tab,
        cursor=cursor,
        limit=limit,
        values=INBOX_VALUES,
        doc_type=doc_type,
        q=q,
    )
    routes = definitions.definitions_by_version(
        (
            t["process__route_version_id"],
            t["process__route_version__status"],
            t["process__route_version__published_at"],
        )
        for t in page.items
    )
    timing = (
        working_time(user.organisation)
        if page.items and tab != "done" and user.organisation is not None
        else None
    )
    words = _Words(user.pk, tab, timing)
    unread = unread_counts(
        user=user, document_ids=sorted({t["process__document_id"] for t in page.items})
    )
    groups: dict[str, InboxGroup] = {}
    for task in page.items:
        row = words.row(task, routes[task["process__route_version_id"]])
        row.unread = unread.get(task["process__document_id"], 0)
        group = groups.get(row.group)
        if group is None:
            title = str(GROUP_TITLES[row.group]())
            group = groups[row.group] = InboxGroup(row.group, title)
        group.rows.append(row)
    return InboxPage(list(groups.values()), page.next_cursor, len(page.items))


class _Words:
    """What the rows of one page say, worked out once per page where rows share it
    (the language, the viewer's time zone and date format, the card's URL pattern,
    a kind's word, a stage's name, an overdue text per due day): a row is then
    mostly look-ups, which matters at fifty rows per page."""

    def __init__(self, user_id: int, tab: str, timing: WorkingTime | None) -> None:
        self.user_id = user_id
        self.tab = tab
        self.timing = timing
        self.now = timezone.now()
        self.zone = timezone.get_current_timezone()
        self.today = self.now.astimezone(self.zone).date()
        self.week_end = _week_end(self.today)
        self.english = get_language() == "en"
        self.date_format = formats.get_format(
            "SHORT_DATETIME_FORMAT" if tab == "done" else "SHORT_DATE_FORMAT"
        )
        self.card = id_link("documents:card")
        self.select = _("Select %(number)s") if tab == "mine" else ""
        self.memo: dict[tuple[Any, ...], Any] = {}

    def _memo(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        value = self.memo.get(key)
        if value is None:
            value = self.memo[key] = make()
        return value

    def group(self, due_at: datetime | None, overdue: bool) -> str:
        """Overdue, today, this week or later: the calendar days of the viewer, who
        sees the due times in their own time zone."""
        if due_at is None:
            return "overdue" if overdue else "none"
        if overdue or due_at < self.now:
            return "overdue"
        due = due_at.astimezone(self.zone).date()
        if due <= self.today:
            return "today"
        if due <= self.week_end:
            return "week"
        return "later"

    def row(self, task: dict[str, Any], route: RouteDefinition) -> InboxRow:
        tab = self.tab
        due_at: datetime | None = task["due_at"]
        group = "done" if tab == "done" else self.group(due_at, task["overdue"])
        if tab in ("started", "watching") and group != "overdue":
            group = "open"
        text = ""
        timing = self.timing
        if group == "overdue" and timing is not None and due_at is not None:
            text = self._memo(
                ("overdue", due_at.astimezone(timing.zone).date()),
                lambda: timing.overdue(due_at, self.now),
            )
        delegated = (
            person_values(task, "on_behalf_of")
            if task["assignee_id"] == self.user_id
            else None
        )
        holder = person_values(task, "assignee")
        kind, number = task["kind"], task["process__document__number"]
        name, position = self._memo(
            ("stage", id(route), kind, task["stage_key"]),
            lambda: _stage_name(kind, task["stage_key"], route),
        )
        moment = task["decided_at"] if tab == "done" else due_at
        return InboxRow(
            task["id"],
            group,
            text,
            name,
            position,
            self.card(task["process__document_id"]),
            kind_icon(kind),
            self._memo(("kind", kind), lambda: kind_label(kind)),
            number=number,
            title=without_number(task["process__document__title"], number),
            party=task["process__document__counterparty__name"] or "",
            type_name=task[
                "process__document__doc_type__name_en"
                if self.english
                else "process__document__doc_type__name_ru"
            ],
            due_text=(
                dateformat.format(moment.astimezone(self.zone), self.date_format)
                if moment is not None
                else ""
            ),
            round_text=(
                _("round %(n)s") % {"n": task["round"]} if task["round"] > 1 else ""
            ),
            delegated_text=(
                _("for %(name)s") % {"name": delegated.short_name} if delegated else ""
            ),
            select_label=self.select % {"number": number} if self.select else "",
            bulk=(
                bulk_outcome_of(task["state"], kind, lambda: route)
                if tab == "mine"
                else None
            ),
            outcome=task["outcome"],
            holder=holder.short_name if holder is not None else "",
            guest_email=task["guest_email"],
        )


def _stage_name(kind: str, stage_key: str, route: RouteDefinition) -> tuple[str, str]:
    """The stage's name and "3/5" from the (cached) route definition."""
    if kind == "revision":
        return kind_label("revision"), ""
    for index, stage in enumerate(route.stages):
        if stage.key == stage_key:
            name = name_in_language(stage.name) or stage.key
            return name, f"{index + 1}/{len(route.stages)}"
    return stage_key, ""


def _week_end(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())
