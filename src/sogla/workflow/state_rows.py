"""The rows that hold a process's state: the engine's runs they map to and back, and
reading several tables' rows in one statement.

``Union`` reads rows of several tables with a single ``SELECT ... UNION ALL``. Each
table's columns go into typed slots (integer, text, time, boolean, JSON); the other
tables' slots are ``CAST(NULL AS ...)``, so every column of the union has one type
on every database. Values go through Django's converters for their field, then
``Model.from_db`` builds the rows, as a queryset would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from sogla.core.prepared import db, statement_cursor
from sogla.documents.models import Counterparty, Document
from sogla.engine.states import (
    Participant,
    StageRun,
    StepRun,
    StepState,
    TaskRun,
    TaskState,
)
from sogla.engine.states import StageState as EngineStageState
from sogla.orgs.models import Department, User
from sogla.workflow import models as m
from sogla.workflow.refs import participant, ref_user_id

# --- rows <-> the engine's runs ---------------------------------------------------------


def task_run(row: m.Task) -> TaskRun:
    obo = Participant.user(row.on_behalf_of_id) if row.on_behalf_of_id else None
    return TaskRun(
        id=row.engine_id,
        round=row.round,
        stage=row.stage_key,
        step=row.step_key,
        kind=row.kind,
        participant=participant(row.assignee_id, row.guest_email),
        on_behalf_of=obo,
        state=TaskState(row.state),
        created_at=row.created_at,
        due_at=row.due_at,
        outcome=row.outcome or None,
        comment=row.comment,
        decided_at=row.decided_at,
        decided_by=row.decided_by_ref or None,
        files_sha256=row.files_sha256 or None,
        request_id=row.request_id or None,
        closed_reason=row.closed_reason or None,
        carried_from=row.carried_from or None,
        overdue=row.overdue,
    )


def task_columns(task: TaskRun) -> dict[str, Any]:
    person = task.participant
    obo = task.on_behalf_of
    return {
        "engine_id": task.id,
        "round": task.round,
        "stage_key": task.stage,
        "step_key": task.step,
        "kind": task.kind,
        "assignee_id": int(person.id) if person.kind == "user" else None,
        "guest_email": person.id if person.kind == "guest" else "",
        "on_behalf_of_id": int(obo.id)
        if obo is not None and obo.kind == "user"
        else None,
        "state": task.state.value,
        "outcome": task.outcome or "",
        "comment": task.comment,
        "due_at": task.due_at,
        "decided_at": task.decided_at,
        "decided_by_id": ref_user_id(task.decided_by),
        "decided_by_ref": task.decided_by or "",
        "files_sha256": task.files_sha256 or "",
        "request_id": task.request_id or "",
        "closed_reason": (task.closed_reason or "")[:200],
        "carried_from": task.carried_from or "",
        "overdue": task.overdue,
        "created_at": task.created_at,
    }


def _quorum(text: str) -> Any:  # "any", "all" or a number
    return int(text) if text.isdigit() else text


def step_run(row: m.StepRun) -> StepRun:
    return StepRun(
        round=row.round,
        stage=row.stage_key,
        step=row.step_key,
        kind=row.kind,
        state=StepState(row.state),
        reason=row.reason,
        quorum=_quorum(row.quorum),
        task_ids=list(row.task_ids),
    )


def step_columns(run: StepRun) -> dict[str, Any]:
    return {
        "round": run.round,
        "stage_key": run.stage,
        "step_key": run.step,
        "kind": run.kind,
        "state": run.state.value,
        "reason": run.reason[:500],
        "quorum": str(run.quorum),
        "task_ids": list(run.task_ids),
    }


def stage_run(row: m.StageRun) -> StageRun:
    return StageRun(
        round=row.round,
        stage=row.stage_key,
        index=row.index,
        state=EngineStageState(row.state),
        reason=row.reason,
        opened_at=row.opened_at,
        finished_at=row.finished_at,
    )


def stage_columns(run: StageRun) -> dict[str, Any]:
    return {
        "round": run.round,
        "stage_key": run.stage,
        "index": run.index,
        "state": run.state.value,
        "reason": run.reason[:500],
        "opened_at": run.opened_at,
        "finished_at": run.finished_at,
    }


# --- several tables' rows in one statement ----------------------------------------------

_SLOT_KINDS = ("int", "text", "dt", "bool", "json")
_KIND_OF = {
    "AutoField": "int",
    "BigAutoField": "int",
    "ForeignKey": "int",
    "IntegerField": "int",
    "BigIntegerField": "int",
    "PositiveIntegerField": "int",
    "PositiveBigIntegerField": "int",
    "CharField": "text",
    "TextField": "text",
    "EmailField": "text",
    "SlugField": "text",
    "DateTimeField": "dt",
    "BooleanField": "bool",
    "JSONField": "json",
}


@dataclass(frozen=True)
class Table:
    """One table of a union: the columns read (the others stay deferred) and the
    order its rows come back in."""

    model: type[Model]
    fields: tuple[str, ...]
    ordering: tuple[str, ...] = ("id",)
    light: bool = False  # rows as ``Light`` records instead of model instances


@dataclass(frozen=True)
class _Branch:
    model: type[Model]
    select: str  # the SELECT list of this table's branch
    table: str  # its quoted name
    slots: tuple[int, ...]  # the position of each read field in a row
    attnames: tuple[str, ...]
    # (position among the read fields, column, its converters): only the fields
    # whose value the database's type does not already give (times, JSON, ...)
    converters: tuple[tuple[int, Any, tuple[Any, ...]], ...]
    ordering: tuple[str, ...]
    light: bool


def _slot_types() -> dict[str, str]:
    return {
        "int": "bigint",
        "text": "text",
        "dt": models.DateTimeField().db_type(connection) or "timestamp",
        "bool": models.BooleanField().db_type(connection) or "boolean",
        "json": models.JSONField().db_type(connection) or "text",
    }


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, Field)  # noqa: S101 - concrete columns only
    return found


class Union:
    """``Union([Table(A, ...), Table(B, ...)]).read([(where_a, params_a), ...])``
    returns ``([A rows], [B rows])``: one statement, rows as a queryset builds them."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self.tables = tuple(tables)
        self._shapes: dict[str, tuple[_Branch, ...]] = {}

    def _shape(self, wrapper: BaseDatabaseWrapper) -> tuple[_Branch, ...]:
        """The branches for this database (computed once per vendor)."""
        shape = self._shapes.get(wrapper.vendor)
        if shape is None:
            shape = self._shapes[wrapper.vendor] = self._branches()
        return shape

    def _branches(self) -> tuple[_Branch, ...]:
        fields = {
            t.model: [_field(t.model, name) for name in t.fields] for t in self.tables
        }
        widths = {
            kind: max(
                sum(
                    1
                    for f in fields[t.model]
                    if _KIND_OF[f.get_internal_type()] == kind
                )
                for t in self.tables
            )
            for kind in _SLOT_KINDS
        }
        start: dict[str, int] = {}
        position = 1  # column 0 is the table's tag
        for kind in _SLOT_KINDS:
            start[kind] = position
            position += widths[kind]
        types = _slot_types()
        quote = connection.ops.quote_name
        branches = []
        for tag, table in enumerate(self.tables):
            columns = [
                f"CAST(NULL AS {types[k]})"
                for k in _SLOT_KINDS
                for _ in range(widths[k])
            ]
            used = dict.fromkeys(_SLOT_KINDS, 0)
            slots = []
            converters = []
            name = table.model._meta.db_table
            for index, f in enumerate(fields[table.model]):
                kind = _KIND_OF[f.get_internal_type()]
                slot = start[kind] + used[kind]
                used[kind] += 1
                columns[slot - 1] = f"{quote(name)}.{quote(f.column or f.name)}"
                slots.append(slot)
                col = f.get_col(name)
                convert = connection.ops.get_db_converters(col) + col.get_db_converters(
                    connection
                )
                if convert:
                    converters.append((index, col, tuple(convert)))
            branches.append(
                _Branch(
                    model=table.model,
                    select=f"SELECT {tag}, " + ", ".join(columns),
                    table=quote(name),
                    slots=tuple(slots),
                    attnames=tuple(f.attname for f in fields[table.model]),
                    converters=tuple(converters),
                    ordering=table.ordering,
                    light=table.light,
                )
            )
        return tuple(branches)

    def read(self, where: Sequence[tuple[str, Sequence[Any]]]) -> tuple[list[Any], ...]:
        """The rows of each table matching its WHERE clause (a condition over the
        table's columns with ``%s`` parameters), in the table's order."""
        wrapper = db()
        branches = self._shape(wrapper)
        sql = []
        params: list[Any] = []
        for branch, (condition, values) in zip(branches, where, strict=True):
            sql.append(f"{branch.select} FROM {branch.table} WHERE {condition}")
            params += values
        found: tuple[list[Any], ...] = tuple([] for _ in branches)
        # a union is read on every decision or card: planned once per connection
        # on PostgreSQL (``core.prepared.statement_cursor``)
        with statement_cursor(wrapper) as cursor:
            cursor.execute(" UNION ALL ".join(sql), params)
            for record in cursor.fetchall():
                found[record[0]].append(_row(wrapper, branches[record[0]], record))
        for branch, rows in zip(branches, found, strict=True):
            order = branch.ordering
            rows.sort(key=lambda row: tuple(getattr(row, name) for name in order))
        return found


class Light:
    """A row read for the engine's state only: its columns as attributes (by
    attname: ``assignee_id``), ``pk``, and nothing of a model instance (no
    ``save``, no relations): building one costs a dict, not ``Model.__init__``."""

    pk: int

    def __init__(self, attnames: Sequence[str], values: Sequence[Any]) -> None:
        self.__dict__.update(zip(attnames, values, strict=True))
        self.pk = self.__dict__["id"]


def _row(wrapper: BaseDatabaseWrapper, branch: _Branch, record: Sequence[Any]) -> Any:
    values = [record[slot] for slot in branch.slots]
    for index, col, converters in branch.converters:
        value = values[index]
        for converter in converters:
            value = converter(value, col, wrapper)
        values[index] = value
    if branch.light:
        return Light(branch.attnames, values)
    return branch.model.from_db(wrapper.alias, list(branch.attnames), values)


# The stage runs, step runs, tasks and pending timers of a process, as the repository
# reads them: the columns the engine's state is built from, as ``Light`` records
# (only the engine's runs and the row ids are made of them), each table in its
# Meta.ordering. Then the process's document with its
# initiator, the initiator's department and its counterparty, whole (as
# ``select_related`` reads them): ``document_where`` and ``document_of`` below.
_DOCUMENT_MODELS: tuple[type[Model], ...] = (Document, User, Department, Counterparty)


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STATE = Union(
    (
        Table(
            m.StageRun,
            _names("id round stage_key index state reason opened_at finished_at"),
            ordering=("round", "index"),
            light=True,
        ),
        Table(
            m.StepRun,
            _names("id round stage_key step_key kind state reason quorum task_ids"),
            ordering=("round", "id"),
            light=True,
        ),
        Table(
            m.Task,
            _names(
                """id engine_id round stage_key step_key kind assignee guest_email
                on_behalf_of state outcome comment due_at decided_at decided_by_ref
                files_sha256 request_id closed_reason carried_from overdue created_at"""
            ),
            light=True,
        ),
        Table(
            m.Timer,
            ("id", "engine_id", "kind", "target", "due_at"),
            ("due_at", "id"),
            light=True,
        ),
        *(
            Table(model, tuple(f.name for f in model._meta.concrete_fields))
            for model in _DOCUMENT_MODELS
        ),
    )
)


def document_where(
    document_id: int, organisation_id: int
) -> list[tuple[str, list[Any]]]:
    """The WHERE clauses of the document's four tables in ``STATE``."""
    vendor = db().vendor
    texts = _document_texts.get(vendor)
    if texts is None:
        texts = _document_texts[vendor] = _document_clauses()
    mine, initiator, department, party = texts
    return [
        (mine, [document_id, organisation_id]),
        (initiator, [document_id]),
        (department, [document_id]),
        (party, [document_id]),
    ]


_document_texts: dict[str, tuple[str, str, str, str]] = {}


def _document_clauses() -> tuple[str, str, str, str]:
    quote = connection.ops.quote_name

    def column(model: type[Model], name: str) -> str:
        return quote(_field(model, name).column or name)

    documents = quote(Document._meta.db_table)
    users = quote(User._meta.db_table)
    # Identifiers come from the models' metadata; values are parameters.
    initiator = (
        f"(SELECT {column(Document, 'initiator')} FROM {documents} WHERE id = %s)"  # noqa: S608
    )
    department = (
        f"(SELECT {column(User, 'department')} FROM {users} WHERE id = {initiator})"  # noqa: S608
    )
    party = (
        f"(SELECT {column(Document, 'counterparty')} FROM {documents} WHERE id = %s)"  # noqa: S608
    )
    return (
        "id = %s AND organisation_id = %s",
        f"id = {initiator}",
        f"id = {department}",
        f"id = {party}",
    )


def document_of(
    documents: list[Document],
    initiators: list[User],
    departments: list[Department],
    parties: list[Counterparty],
) -> Document:
    """The document of ``document_where``'s rows, its initiator (with department)
    and counterparty in place as ``select_related`` would put them."""
    if not documents:
        raise Document.DoesNotExist("Document matching query does not exist.")
    document, initiator = documents[0], initiators[0]
    User._meta.get_field("department").set_cached_value(
        initiator, departments[0] if departments else None
    )
    meta = Document._meta
    meta.get_field("initiator").set_cached_value(document, initiator)
    meta.get_field("counterparty").set_cached_value(
        document, parties[0] if parties else None
    )
    return document
