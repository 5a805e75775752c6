"""The inbox: the tasks of a tab, a page of them, and the navigation's counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from sogla.core.access import organisation_id_of
from sogla.core.cursors import FAR_FUTURE, Keyset
from sogla.core.errors import NotFound
from sogla.core.prepared import Prepared, db, sql_literal, statement_cursor
from sogla.documents.models import fold
from sogla.notifications.selectors import UNREAD_SQL
from sogla.orgs.models import User, short_name
from sogla.workflow.models import ACTIVE_PROCESS_STATUSES, Task, TaskState

PAGE_SIZE = 25
_CURSOR = Keyset("sogla.workflow.inbox")

Tab = Literal["mine", "started", "watching", "done"]
TABS: tuple[Tab, ...] = ("mine", "started", "watching", "done")


@dataclass
class TaskPage:
    items: list[Task]
    next_cursor: str | None


@dataclass(frozen=True)
class TaskCounts:
    mine: int
    overdue: int
    started: int
    acting: int = 0  # open tasks the user holds for someone away (the deputy's banner)


def inbox_rows(user: User) -> QuerySet[Task]:
    """The user's organisation's tasks with what an inbox row shows, joined.

    The route version's ``definition`` is not read (``definitions.definition_for``
    caches published ones by id), nor the document's field values and search text:
    decoding those JSON columns for every row was a tenth of the inbox's time.
    """
    return inbox_rows_of(organisation_id_of(user))


def inbox_rows_of(organisation_id: int) -> QuerySet[Task]:
    """``inbox_rows`` of an organisation by its id."""
    return (
        Task.objects.for_org(organisation_id)
        .select_related(
            "process__document__doc_type",
            "process__document__status",
            "process__document__counterparty",
            "process__route_version",
            "process__initiator",
            "assignee",
            "on_behalf_of",
        )
        .defer(
            "process__route_version__definition",
            "process__document__fields",
            "process__document__search_text",
        )
    )


def _mine(rows: QuerySet[Task], user_id: int) -> QuerySet[Task]:
    """My open tasks, delegated to me included."""
    return rows.filter(state=TaskState.OPEN).filter(
        Q(assignee_id=user_id) | Q(on_behalf_of_id=user_id)
    )


def tab_rows(user: User, tab: str) -> QuerySet[Task]:
    """The tasks of an inbox tab, unordered (the web inbox and the API share it).

    ``mine``: my open tasks (delegated to me included); ``started``: open tasks in
    approvals I started; ``watching``: open tasks of others in running approvals I
    took part in (who holds them now); ``done``: tasks I decided.
    """
    if tab not in TABS:
        raise NotFound()
    rows = inbox_rows(user)
    if tab == "done":
        return rows.filter(decided_by=user, state=TaskState.DONE)
    if tab == "mine":
        return _mine(rows, user.pk)
    open_rows = rows.filter(state=TaskState.OPEN)
    if tab == "started":
        # open tasks exist only in running approvals (the engine closes them when
        # an approval ends): the index reads those, not all the user ever started
        return open_rows.filter(
            process__initiator=user, process__status__in=ACTIVE_PROCESS_STATUSES
        )
    took_part = (
        Task.objects.for_org(organisation_id_of(user))
        .filter(decided_by=user)
        .values("process_id")
    )
    return open_rows.filter(process_id__in=took_part).exclude(
        Q(assignee=user) | Q(on_behalf_of=user)
    )


_UNLISTED = (
    "process__document__fields",
    "process__document__search_text",
    "process__overrides",
    "process__route_version__definition",
)


def task_list_for_user(
    *,
    user: User,
    tab: str = "mine",
    cursor: str = "",
    limit: int = PAGE_SIZE,
    doc_type: str = "",
    q: str = "",
) -> TaskPage:
    """One page of a user's inbox tab (see ``tab_rows``), in one query.

    Open tasks come overdue first, then by due time (no due time last); done tasks
    newest first. ``doc_type`` and ``q`` narrow the tab (``_narrowed``). A cursor that does not verify is NotFound.

    A row reads only what a list shows: not the document's field values, its search
    text, the process's overrides or the route's definition (JSON decoded per row;
    ``definitions.definitions_by_version`` gives the definitions a screen needs,
    reading together those not parsed yet).
    """
    rows = _narrowed(tab_rows(user, tab).defer(*_UNLISTED), doc_type, q)
    items, next_cursor = _paged(rows, tab, cursor, limit)
    return TaskPage(items, next_cursor)


def person_columns(prefix: str) -> tuple[str, ...]:
    """The columns ``PersonValues`` reads of the person a row names under ``prefix``."""
    return (
        f"{prefix}_id",
        f"{prefix}__username",
        f"{prefix}__first_name",
        f"{prefix}__last_name",
    )


# What the API's task list shows of a task, read as plain values: building the eight
# model instances of a joined row (and converting their twenty-odd dates) was most
# of the API's time (``workflow.schemas.tasks.task_out_values`` writes them out).
TASK_VALUES = (
    "id",
    "process_id",
    "round",
    "stage_key",
    "step_key",
    "kind",
    "state",
    "created_at",
    "due_at",
    "overdue",
    "outcome",
    "comment",
    "decided_at",
    "process__document_id",
    "process__document__number",
    "process__document__title",
    "process__document__doc_type__key",
    "process__document__status__key",
    *person_columns("process__initiator"),
    *person_columns("assignee"),
    *person_columns("on_behalf_of"),
)


# What an inbox row shows (``workflow.screens.inbox``): the route version's id and
# publication, not its definition (``definitions.definitions_by_version`` keeps the
# parsed ones); names of the type in both languages, not the type's row.
INBOX_VALUES = (
    "id",
    "round",
    "stage_key",
    "kind",
    "state",
    "due_at",
    "overdue",
    "outcome",
    "decided_at",
    "guest_email",
    "process__document_id",
    "process__document__number",
    "process__document__title",
    "process__document__counterparty__name",
    "process__document__doc_type__name_ru",
    "process__document__doc_type__name_en",
    "process__route_version_id",
    "process__route_version__status",
    "process__route_version__published_at",
    *person_columns("assignee"),
    *person_columns("on_behalf_of"),
)


@dataclass
class TaskValuesPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def task_values_for_user(
    *,
    user: User,
    tab: str = "mine",
    cursor: str = "",
    limit: int = PAGE_SIZE,
    values: tuple[str, ...] = TASK_VALUES,
    doc_type: str = "",
    q: str = "",
) -> TaskValuesPage:
    """The page ``task_list_for_user`` gives (same tab, filters, order and cursors),
    each task as a dict of ``values`` (one query, no model instances)."""
    if tab == "mine" and not (cursor or doc_type or q.strip()):
        prepared = _first_mine(values, limit)
        items = prepared.all(organisation_id_of(user), user.pk)
        return TaskValuesPage(*_page_of(items, tab, limit, bool(values)))
    rows = _narrowed(tab_rows(user, tab), doc_type, q)
    items, next_cursor = _paged(rows, tab, cursor, limit, values)
    return TaskValuesPage(items, next_cursor)


_first_mine_cache: dict[tuple[tuple[str, ...], int], Prepared[Any]] = {}


def _first_mine(values: tuple[str, ...], limit: int) -> Prepared[Any]:
    """The first page of "mine" (every inbox opens on it, the API's default tab),
    compiled once per shape (``core.prepared``): the same query as ``tab_rows`` and
    ``_paged`` build, run with the organisation's and the user's ids."""
    key = (values, limit)
    prepared = _first_mine_cache.get(key)
    if prepared is None:

        def build(org_id: int, user_id: int) -> QuerySet[Any]:
            rows = _ordered(_mine(inbox_rows_of(org_id), user_id), "mine")
            page: QuerySet[Any] = rows.values(*values)[: limit + 1]
            return page

        prepared = _first_mine_cache[key] = Prepared(build, arity=2)
    return prepared


def _narrowed(rows: QuerySet[Task], doc_type: str, q: str) -> QuerySet[Task]:
    """``doc_type`` (a type key) and ``q`` (words of the number, title or
    counterparty) narrow a tab."""
    if doc_type:
        rows = rows.filter(process__document__doc_type__key=doc_type)
    if q.strip():
        rows = rows.filter(process__document__search_text__contains=fold(q.strip()))
    return rows


class PersonValues:
    """A person read as values (``<prefix>_id``, ``<prefix>__username``, …), named
    by the same code as a ``User`` (its ``short_name`` and ``get_full_name``)."""

    __slots__ = ("first_name", "last_name", "pk", "username")

    def __init__(self, row: dict[str, Any], prefix: str) -> None:
        self.pk: int = row[f"{prefix}_id"]
        self.username: str = row[f"{prefix}__username"]
        self.first_name: str = row[f"{prefix}__first_name"]
        self.last_name: str = row[f"{prefix}__last_name"]

    @property
    def short_name(self) -> str:
        return short_name(self.first_name, self.last_name, self.username)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def person_values(row: dict[str, Any], prefix: str) -> PersonValues | None:
    """The person a row names under ``prefix``, or None."""
    return PersonValues(row, prefix) if row[f"{prefix}_id"] is not None else None


def _paged(
    rows: QuerySet[Task],
    tab: str,
    cursor: str,
    limit: int,
    values: tuple[str, ...] = (),
) -> tuple[list[Any], str | None]:
    """One page of a tab's rows in its order, and the cursor of the next page."""
    if cursor:
        moment, pk = _CURSOR.decode(cursor)
        if tab == "done":
            rows = rows.filter(
                Q(decided_at__lt=moment) | Q(decided_at=moment, pk__lt=pk)
            )
        else:
            sorted_rows: QuerySet[Any] = rows.annotate(
                due_sort=Coalesce("due_at", FAR_FUTURE)
            )
            rows = sorted_rows.filter(
                Q(due_sort__gt=moment) | Q(due_sort=moment, pk__gt=pk)
            )
    rows = _ordered(rows, tab)
    items: list[Any] = list((rows.values(*values) if values else rows)[: limit + 1])
    return _page_of(items, tab, limit, bool(values))


def _ordered(rows: QuerySet[Task], tab: str) -> QuerySet[Task]:
    """Open tasks overdue first, then by due time (none last); done newest first."""
    if tab == "done":
        return rows.order_by("-decided_at", "-id")
    sorted_rows: QuerySet[Any] = (
        rows
        if "due_sort" in rows.query.annotations
        else rows.annotate(due_sort=Coalesce("due_at", FAR_FUTURE))
    )
    return sorted_rows.order_by("due_sort", "id")


def _page_of(
    items: list[Any], tab: str, limit: int, values: bool
) -> tuple[list[Any], str | None]:
    """The first ``limit`` of ``limit + 1`` rows read, and the next page's cursor."""
    if len(items) <= limit:
        return items, None
    last = items[limit - 1]
    key = "decided_at" if tab == "done" else "due_at"
    if values:
        moment, pk = last[key], last["id"]
    else:
        moment, pk = getattr(last, key), last.pk
    return items[:limit], _CURSOR.encode(moment or FAR_FUTURE, pk)


def navigation_counts(*, user: User) -> tuple[TaskCounts, int]:
    """What the shell of every page counts, in one statement: the navigation's task
    counts (``task_counts_for_user``) and the bell's unread notifications
    (``notifications.selectors.notification_unread_count``, its SQL folded in as a
    fifth count). Prepared on the server on PostgreSQL (``core.prepared``)."""
    row = _counts_row(_NAVIGATION_SQL, user)
    if row is None:  # pragma: no cover - an aggregate always answers one row
        return TaskCounts(0, 0, 0), 0
    return TaskCounts(*(int(n or 0) for n in row[:4])), int(row[4] or 0)


def task_counts_for_user(*, user: User) -> TaskCounts:
    """The navigation's counts in one statement of four selective counts.

    Each count reads only the user's own rows through an index: mine, overdue and
    acting through the tasks' ``assignee`` / ``on_behalf_of`` indexes, started
    through the running approvals the user started (``process_initiator_active``:
    not every approval they ever started) and their open tasks. The cost does not
    grow with the organisation (an earlier single aggregation over ``mine OR
    started`` joined every process of the organisation on PostgreSQL).
    """
    row = _counts_row(_COUNTS_SQL, user)
    return TaskCounts(*(int(n or 0) for n in row)) if row else TaskCounts(0, 0, 0)


def _counts_row(sql: str, user: User) -> Any:
    wrapper = db()
    params: dict[str, Any] = {
        "org": organisation_id_of(user),
        "user": user.pk,
        "now": wrapper.ops.adapt_datetimefield_value(timezone.now()),
    }
    # the same text on every page: planned once per connection on PostgreSQL
    with statement_cursor(wrapper) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# Written out (not composed with the ORM): it runs on every page, and compiling four
# subqueries cost more than running them.
_OPEN = sql_literal(TaskState.OPEN.value)
_ACTIVE = ", ".join(sql_literal(status.value) for status in ACTIVE_PROCESS_STATUSES)
_MINE = (
    f"FROM workflow_task t WHERE t.organisation_id = %(org)s AND t.state = {_OPEN} "
    "AND (t.assignee_id = %(user)s OR t.on_behalf_of_id = %(user)s)"
)
# The task state is written into the text, not bound: the generic plan of the
# prepared statement then knows how few tasks are open (bound, the server found
# its generic plan worse and planned the statement anew on every page).
_COUNTS_SQL = (
    f"SELECT (SELECT COUNT(*) {_MINE}), "  # noqa: S608 - constant SQL, bound params
    f"(SELECT COUNT(*) {_MINE} AND (t.due_at < %(now)s OR t.overdue)), "
    # The user's running approvals, then their open tasks: SQLite without statistics
    # would read every open task of the organisation instead. CROSS JOIN keeps this
    # order on SQLite (for PostgreSQL it is a plain join) and the unary + keeps the
    # tasks' organisation index out of it.
    "(SELECT COUNT(*) FROM workflow_process p CROSS JOIN workflow_task t "
    f"WHERE p.initiator_id = %(user)s AND p.status IN ({_ACTIVE}) "
    f"AND t.process_id = p.id AND +t.organisation_id = %(org)s AND t.state = {_OPEN}), "
    "(SELECT COUNT(*) FROM workflow_task t WHERE t.organisation_id = %(org)s "
    f"AND t.state = {_OPEN} AND t.assignee_id = %(user)s "
    "AND t.on_behalf_of_id IS NOT NULL)"
)
_NAVIGATION_SQL = f"{_COUNTS_SQL}, {UNREAD_SQL}"
