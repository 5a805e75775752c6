"""The registry's kanban (UI.md screen 3): the documents of one type in columns.

The columns are a draft column, the stages of the type's routes (their newest
published versions, in route order), a column of documents returned for revision,
and the final states: approved, rejected, cancelled. A document stands where its
current process (the active one, else the latest) stands: a running process in the
column of its open stage. Nothing is dragged: documents move by decisions only.

The board is one query for the routes and one for every column's count and overdue
count; each column's cards are a page of their own (loaded when the column is
revealed, 20 at a time), a constant number of queries whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.documents.models import Document, DocumentType
from sogla.documents.selectors import DocumentFilter, document_queryset
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.labels import name_in_language
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    ProcessStatus,
    RouteVersion,
    RouteVersionStatus,
    StageRun,
    Task,
    TaskState,
)

COLUMN_SIZE = 20
DRAFT = "draft"
REVISION = "revision"
FINALS = (ProcessStatus.APPROVED, ProcessStatus.REJECTED, ProcessStatus.CANCELLED)
STAGE_PREFIX = "stage-"
# The colour token of a column's header (UI.md §1).
TOKENS = {
    DRAFT: "neutral",
    REVISION: "returned",
    ProcessStatus.APPROVED: "approved",
    ProcessStatus.REJECTED: "rejected",
    ProcessStatus.CANCELLED: "cancelled",
}


@dataclass
class KanbanColumn:
    key: str
    name: str
    token: str
    count: int = 0
    overdue: int = 0


@dataclass
class KanbanCards:
    documents: list[Document]
    next_offset: int | None


def _positioned(documents: QuerySet[Document]) -> QuerySet[Document]:
    """Each document with its current process's status, the key of that process's
    open stage and whether one of its open tasks is past due."""
    current = Process.objects.filter(document=OuterRef("pk")).order_by(
        Case(When(status__in=ACTIVE_PROCESS_STATUSES, then=Value(0)), default=Value(1)),
        "-started_at",
        "-id",
    )
    stage = StageRun.objects.filter(
        process__document=OuterRef("pk"),
        process__status=ProcessStatus.RUNNING,
        round=F("process__round"),
        state="open",
    ).order_by("index", "id")
    late = Task.objects.filter(
        process__document=OuterRef("pk"),
        process__status__in=ACTIVE_PROCESS_STATUSES,
        state=TaskState.OPEN,
    ).filter(Q(overdue=True) | Q(due_at__lt=timezone.now()))
    return documents.annotate(
        k_status=Subquery(current.values("status")[:1]),
        k_stage=Subquery(stage.values("stage_key")[:1]),
        k_late=Exists(late),
    )


def _column_key(status: str | None, stage: str | None) -> str:
    if status is None:
        return DRAFT
    if status == ProcessStatus.RUNNING:
        return f"{STAGE_PREFIX}{stage or ''}"
    if status == ProcessStatus.REVISION:
        return REVISION
    return str(status)


def _route_stages(doc_type: DocumentType) -> list[tuple[str, str]]:
    """(stage key, name) of the type's active routes' newest published versions,
    in route order, each key once (one query): a stage stands after every stage a
    route puts before it (``_in_route_order``)."""
    names: dict[str, str] = {}
    routes: list[list[str]] = []
    templates: set[int] = set()
    for version in RouteVersion.objects.filter(
        organisation_id=doc_type.organisation_id,
        template__doc_type=doc_type,
        template__is_active=True,
        status=RouteVersionStatus.PUBLISHED,
    ).order_by("template__order", "template_id", "-number"):
        if version.template_id in templates:
            continue
        templates.add(version.template_id)
        stages = definitions.definition_for(version).stages
        routes.append([stage.key for stage in stages])
        for stage in stages:
            names.setdefault(stage.key, name_in_language(stage.name) or stage.key)
    return [(key, names[key]) for key in _in_route_order(routes)]


def _in_route_order(routes: list[list[str]]) -> list[str]:
    """The stage keys of all routes, each once, every route's order kept: a key
    comes after the keys any route puts before it; among the keys free to come
    next, the one met first (the first route's, then the next route's) comes first.
    Where two routes disagree (a before b in one, b before a in another), the key
    met first breaks the tie."""
    met: dict[str, set[str]] = {}  # key -> the keys some route puts just before it
    for stages in routes:
        for i, key in enumerate(stages):
            met.setdefault(key, set()).update(stages[i - 1 : i])
    placed: list[str] = []
    left = list(met)
    while left:
        done = set(placed)
        key = next((k for k in left if met[k] <= done), left[0])
        placed.append(key)
        left.remove(key)
    return placed


def kanban_columns(
    *, user: User, doc_type: DocumentType, filters: DocumentFilter
) -> list[KanbanColumn]:
    """The board's columns with their counts and overdue counts (two queries)."""
    columns = [KanbanColumn(DRAFT, _("Draft"), TOKENS[DRAFT])]
    columns += [
        KanbanColumn(f"{STAGE_PREFIX}{key}", name, "active")
        for key, name in _route_stages(doc_type)
    ]
    columns.append(KanbanColumn(REVISION, _("Returned for revision"), "returned"))
    columns += [
        KanbanColumn(str(status), str(status.label), TOKENS[status])
        for status in FINALS
    ]
    by_key = {c.key: c for c in columns}
    counted = (
        _positioned(document_queryset(user, filters))
        .order_by()
        .values("k_status", "k_stage")  # type: ignore[misc]  # annotations
        .annotate(n=Count("id"), late=Count("id", filter=Q(k_late=True)))
    )
    for row in counted:
        key = _column_key(row["k_status"], row["k_stage"])
        column = by_key.get(key)
        if column is None:  # a stage of an older route version: a column of its own
            column = KanbanColumn(key, key.removeprefix(STAGE_PREFIX), "active")
            columns.insert(len(columns) - len(FINALS) - 1, column)
            by_key[key] = column
        column.count += row["n"]
        column.overdue += row["late"]
    return columns


def kanban_cards(
    *,
    user: User,
    filters: DocumentFilter,
    column: str,
    offset: int = 0,
    limit: int = COLUMN_SIZE,
) -> KanbanCards:
    """One page of a column's documents, newest first (one query)."""
    documents = _positioned(document_queryset(user, filters))
    condition: dict[str, Any]
    if column == DRAFT:
        condition = {"k_status__isnull": True}
    elif column == REVISION:
        condition = {"k_status": ProcessStatus.REVISION}
    elif column.startswith(STAGE_PREFIX):
        condition = {
            "k_status": ProcessStatus.RUNNING,
            "k_stage": column.removeprefix(STAGE_PREFIX),
        }
    elif column in FINALS:
        condition = {"k_status": column}
    else:
        return KanbanCards([], None)
    rows = list(
        documents.filter(**condition)
        .select_related("doc_type", "status", "counterparty", "initiator")
        .order_by("-created_at", "-id")[offset : offset + limit + 1]
    )
    return KanbanCards(rows[:limit], offset + limit if len(rows) > limit else None)
