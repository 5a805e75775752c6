"""Loading the part of a process one command needs, and saving what changed.

The engine works on a ``ProcessState``. Rows are the source of truth, so the
repository rebuilds a *partial* state for one command: the Process row, the stage
and step runs of the current stage in the current round with their tasks, every open
task, the pending timers and the task the command names. For ``Resubmit`` on a route
that re-asks only those who had not approved, it also loads the step runs and tasks
of the round that ends (carry-over reads them). Nothing else of the history is read,
so a decision costs the same on the 100th stage as on the first and whatever the
number of finished processes.

After ``handle`` the repository diffs the loaded state against the result and writes
only new or changed rows, then moves ``Process.version`` on with a compare-and-set
``UPDATE ... WHERE id = %s AND version = %s``; no row updated means another
transaction saved the process first: ``ConcurrentUpdate``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model, QuerySet
from django.utils import timezone

from sogla.core.prepared import Prepared, insert_rows
from sogla.engine.commands import Command, Decide, Reassign, Resubmit, TimerFired
from sogla.engine.definition import RouteDefinition
from sogla.engine.states import (
    Participant,
    ProcessState,
    StageRun,
    StepOverride,
    StepRun,
    StepState,
    TaskRun,
    TaskState,
    TimerKind,
    TimerRun,
)
from sogla.engine.states import ProcessStatus as EngineStatus
from sogla.engine.states import StageState as EngineStageState
from sogla.workflow import models as m


class ConcurrentUpdate(Exception):
    """Another transaction saved the process since it was loaded."""


# --- published definitions, parsed once per version ---------------------------------

_definitions: dict[tuple[int, str], RouteDefinition] = {}
_definitions_lock = threading.Lock()
_DEFINITIONS_MAX = 2000


def definition_for(version: m.RouteVersion) -> RouteDefinition:
    """The parsed definition of a version; published ones are cached (immutable).

    The key is the id plus the publication time, so a row id reused after a
    rolled-back transaction (tests) never returns another route's definition.
    """
    if version.status != m.RouteVersionStatus.PUBLISHED or version.published_at is None:
        return RouteDefinition.model_validate(version.definition)
    key = (version.pk, version.published_at.isoformat())
    cached = _definitions.get(key)
    if cached is not None:
        return cached
    parsed = RouteDefinition.model_validate(version.definition)
    with _definitions_lock:
        if len(_definitions) >= _DEFINITIONS_MAX:
            _definitions.clear()
        _definitions[key] = parsed
    return parsed


# --- participants <-> columns ---------------------------------------------------------


def user_ref(user_id: int) -> str:
    return f"user:{user_id}"


def ref_user_id(ref: str | None) -> int | None:
    if ref and ref.startswith("user:"):
        try:
            return int(ref[5:])
        except ValueError:
            return None
    return None


def _participant(user_id: int | None, email: str) -> Participant:
    if user_id is not None:
        return Participant.user(user_id)
    return Participant.guest(email)


def _task_run(row: m.Task) -> TaskRun:
    obo = Participant.user(row.on_behalf_of_id) if row.on_behalf_of_id else None
    return TaskRun(
        id=row.engine_id,
        round=row.round,
        stage=row.stage_key,
        step=row.step_key,
        kind=row.kind,
        participant=_participant(row.assignee_id, row.guest_email),
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


def _quorum_text(quorum: str | int) -> str:
    return str(quorum)


def _quorum_value(text: str) -> Any:
    return int(text) if text.isdigit() else text


def _step_run(row: m.StepRun) -> StepRun:
    return StepRun(
        round=row.round,
        stage=row.stage_key,
        step=row.step_key,
        kind=row.kind,
        state=StepState(row.state),
        reason=row.reason,
        quorum=_quorum_value(row.quorum),
        task_ids=list(row.task_ids),
    )


def _step_columns(run: StepRun) -> dict[str, Any]:
    return {
        "round": run.round,
        "stage_key": run.stage,
        "step_key": run.step,
        "kind": run.kind,
        "state": run.state.value,
        "reason": run.reason[:500],
        "quorum": _quorum_text(run.quorum),
        "task_ids": list(run.task_ids),
    }


def _stage_run(row: m.StageRun) -> StageRun:
    return StageRun(
        round=row.round,
        stage=row.stage_key,
        index=row.index,
        state=EngineStageState(row.state),
        reason=row.reason,
        opened_at=row.opened_at,
        finished_at=row.finished_at,
    )


def _stage_columns(run: StageRun) -> dict[str, Any]:
    return {
        "round": run.round,
        "stage_key": run.stage,
        "index": run.index,
        "state": run.state.value,
        "reason": run.reason[:500],
        "opened_at": run.opened_at,
        "finished_at": run.finished_at,
    }


# --- the loaded aggregate -------------------------------------------------------------


@dataclass
class Loaded:
    """A partial state plus the row ids needed to write the changes back."""

    process: m.Process
    definition: RouteDefinition
    state: ProcessState
    task_pks: dict[str, int] = field(default_factory=dict)
    step_pks: dict[str, int] = field(default_factory=dict)
    stage_pks: dict[str, int] = field(default_factory=dict)


def lock_process(process_id: int, organisation_id: int) -> m.Process:
    """The Process row, locked on PostgreSQL (an optimisation: the CAS is the guard)."""
    rows = m.Process.objects.filter(pk=process_id, organisation_id=organisation_id)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("self",))
    return rows.select_related("route_version").get()


def _task_with_process(task_pk: int, organisation_id: int) -> QuerySet[m.Task]:
    rows = m.Task.objects.filter(
        pk=task_pk,
        organisation_id=organisation_id,
        process__organisation_id=organisation_id,
    )
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("process",))
    return rows.select_related("process__route_version")


_task_with_process_prepared = Prepared(_task_with_process, arity=2)


def lock_task(task_pk: int, organisation_id: int) -> m.Task:
    """A task row with its process (and route version), the process locked as in
    ``lock_process``: one statement instead of two. The task's own columns are
    read again by ``load``, under the lock."""
    return _task_with_process_prepared.get(task_pk, organisation_id)


# --- the current stage's rows in one statement ----------------------------------------
#
# The stage runs, step runs, tasks and pending timers a command needs are read with a
# single UNION ALL. Each table's columns go into typed slots (text, integer, time,
# boolean, JSON); the other tables' slots are NULL, so every column of the union has
# one type on every database. Values go through Django's converters for their field,
# then ``Model.from_db`` builds the rows, as a queryset would.

_UNION_MODELS: tuple[type[Model], ...] = (m.StageRun, m.StepRun, m.Task, m.Timer)
# The columns the engine's state is built from (other columns stay deferred).
_STATE_FIELDS: dict[type[Model], tuple[str, ...]] = {
    m.StageRun: (
        "id",
        "round",
        "stage_key",
        "index",
        "state",
        "reason",
        "opened_at",
        "finished_at",
    ),
    m.StepRun: (
        "id",
        "round",
        "stage_key",
        "step_key",
        "kind",
        "state",
        "reason",
        "quorum",
        "task_ids",
    ),
    m.Task: (
        "id",
        "engine_id",
        "round",
        "stage_key",
        "step_key",
        "kind",
        "assignee",
        "guest_email",
        "on_behalf_of",
        "state",
        "outcome",
        "comment",
        "due_at",
        "decided_at",
        "decided_by_ref",
        "files_sha256",
        "request_id",
        "closed_reason",
        "carried_from",
        "overdue",
        "created_at",
    ),
    m.Timer: ("id", "engine_id", "kind", "target", "due_at"),
}
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
class _Branch:
    model: type[Model]
    select: str  # the SELECT list of this table's branch
    slots: tuple[int, ...]  # the position of each concrete field in a row
    attnames: tuple[str, ...]
    converters: tuple[tuple[Any, tuple[Any, ...]], ...]  # (column, converters)
    ordering: tuple[str, ...]


# Each table's Meta.ordering within one process.
_STATE_ORDER: dict[type[Model], tuple[str, ...]] = {
    m.StageRun: ("round", "index"),
    m.StepRun: ("round", "id"),
    m.Task: ("id",),
    m.Timer: ("due_at", "id"),
}

_shapes: dict[str, tuple[_Branch, ...]] = {}


def _slot_types() -> dict[str, str]:
    from django.db import models

    return {
        "int": "bigint",
        "text": "text",
        "dt": models.DateTimeField().db_type(connection) or "timestamp",
        "bool": models.BooleanField().db_type(connection) or "boolean",
        "json": models.JSONField().db_type(connection) or "text",
    }


def _shape() -> tuple[_Branch, ...]:
    """The union's branches for this database (computed once per vendor)."""
    shape = _shapes.get(connection.vendor)
    if shape is not None:
        return shape
    quote = connection.ops.quote_name
    fields: dict[type[Model], list[Field[Any, Any]]] = {}
    for model in _UNION_MODELS:
        fields[model] = []
        for name in _STATE_FIELDS[model]:
            found = model._meta.get_field(name)
            assert isinstance(found, Field)  # noqa: S101 - concrete columns only
            fields[model].append(found)
    widths = {
        kind: max(
            sum(1 for f in fields[model] if _KIND_OF[f.get_internal_type()] == kind)
            for model in _UNION_MODELS
        )
        for kind in _SLOT_KINDS
    }
    start: dict[str, int] = {}
    position = 1  # column 0 is the table's tag
    for kind in _SLOT_KINDS:
        start[kind] = position
        position += widths[kind]
    types = _slot_types()
    branches = []
    for tag, model in enumerate(_UNION_MODELS):
        columns = [
            f"CAST(NULL AS {types[k]})" for k in _SLOT_KINDS for _ in range(widths[k])
        ]
        used = dict.fromkeys(_SLOT_KINDS, 0)
        slots = []
        converters = []
        table = model._meta.db_table
        for f in fields[model]:
            kind = _KIND_OF[f.get_internal_type()]
            slot = start[kind] + used[kind]
            used[kind] += 1
            columns[slot - 1] = f"{quote(table)}.{quote(f.column or f.name)}"
            slots.append(slot)
            col = f.get_col(table)
            convert = connection.ops.get_db_converters(col) + col.get_db_converters(
                connection
            )
            converters.append((col, tuple(convert)))
        branches.append(
            _Branch(
                model=model,
                select=f"SELECT {tag}, " + ", ".join(columns),
                slots=tuple(slots),
                attnames=tuple(f.attname for f in fields[model]),
                converters=tuple(converters),
                ordering=_STATE_ORDER[model],
            )
        )
    shape = tuple(branches)
    _shapes[connection.vendor] = shape
    return shape


def _rows(
    process: m.Process, where: Sequence[tuple[str, Sequence[Any]]]
) -> tuple[list[Any], ...]:
    """One statement: the rows of each union table matching its WHERE clause."""
    branches = _shape()
    sql = []
    params: list[Any] = []
    for branch, (condition, values) in zip(branches, where, strict=True):
        table = connection.ops.quote_name(branch.model._meta.db_table)
        sql.append(
            f"{branch.select} FROM {table} WHERE {table}.process_id = %s "
            f"AND ({condition})"
        )
        params += [process.pk, *values]
    found: tuple[list[Any], ...] = tuple([] for _ in branches)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql), params)
        for record in cursor.fetchall():
            branch = branches[record[0]]
            values = []
            for slot, (col, converters) in zip(
                branch.slots, branch.converters, strict=True
            ):
                value = record[slot]
                for converter in converters:
                    value = converter(value, col, connection)
                values.append(value)
            found[record[0]].append(
                branch.model.from_db(connection.alias, list(branch.attnames), values)
            )
    for branch, rows in zip(branches, found, strict=True):
        order = branch.ordering
        rows.sort(key=lambda row: tuple(getattr(row, name) for name in order))
        for row in rows:
            if isinstance(row, m.StageRun | m.StepRun | m.Task | m.Timer):
                row.process = process  # as select_related would
    return found


def load(
    process: m.Process, command: Command | None = None, *, task_id: str = ""
) -> Loaded:
    """The partial state ``command`` needs (see the module docstring).

    ``task_id`` names one more task to load (the task a decision is about, which
    may be closed and of another stage or round).
    """
    definition = definition_for(process.route_version)
    index = min(process.stage_index, len(definition.stages) - 1)
    stage_key = definition.stages[index].key
    round_ = process.round

    this_stage = "round = %s AND stage_key = %s"
    step_where, step_params = this_stage, [round_, stage_key]
    task_where, task_params = (
        f"({this_stage}) OR state = %s",
        [
            round_,
            stage_key,
            TaskState.OPEN.value,
        ],
    )
    named = task_id or _named_task(command)
    if named:
        task_where += " OR engine_id = %s"
        task_params.append(named)
    if isinstance(command, Resubmit) and definition.on_return.reask == "not_approved":
        # The new round carries over positive decisions of this one (all stages).
        step_where += " OR round = %s"
        step_params.append(round_)
        task_where += " OR round = %s"
        task_params.append(round_)
    stage_rows, step_rows, task_rows, timer_rows = _rows(
        process,
        [
            (this_stage, [round_, stage_key]),
            (step_where, step_params),
            (task_where, task_params),
            ("state = %s AND kind <> %s", [m.TimerState.PENDING, m.FIELD_REMINDER]),
        ],
    )

    tasks = {row.engine_id: _task_run(row) for row in task_rows}
    state = ProcessState(
        status=EngineStatus(process.status),
        round=round_,
        stage_index=process.stage_index,
        initiator=Participant.user(process.initiator_id),
        started_at=process.started_at,
        finished_at=process.finished_at,
        returned_from=process.returned_from or None,
        seq=process.seq,
        stages={f"{r.round}:{r.stage_key}": _stage_run(r) for r in stage_rows},
        steps={
            f"{r.round}:{r.stage_key}:{r.step_key}": _step_run(r) for r in step_rows
        },
        tasks=tasks,
        timers={
            t.engine_id: TimerRun(t.engine_id, TimerKind(t.kind), t.due_at, t.target)
            for t in timer_rows
        },
        overrides={
            k: StepOverride.from_dict(v) for k, v in (process.overrides or {}).items()
        },
        open_tasks=[t.id for t in tasks.values() if t.state is TaskState.OPEN],
    )
    return Loaded(
        process=process,
        definition=definition,
        state=state,
        task_pks={row.engine_id: row.pk for row in task_rows},
        step_pks={f"{r.round}:{r.stage_key}:{r.step_key}": r.pk for r in step_rows},
        stage_pks={f"{r.round}:{r.stage_key}": r.pk for r in stage_rows},
    )


def _named_task(command: Command | None) -> str:
    if isinstance(command, Decide | Reassign):
        return command.task_id
    if isinstance(command, TimerFired):
        # "due:<task>" / "remind:<task>": the task is open, hence loaded anyway.
        return ""
    return ""


# --- saving ---------------------------------------------------------------------------


def _process_columns(state: ProcessState) -> dict[str, Any]:
    return {
        "status": state.status.value,
        "round": state.round,
        "stage_index": state.stage_index,
        "seq": state.seq,
        "finished_at": state.finished_at,
        "returned_from": state.returned_from or "",
        "overrides": {k: o.to_dict() for k, o in state.overrides.items()},
    }


_updates: dict[tuple[str, type[Model], tuple[str, ...], tuple[str, ...]], str] = {}


def _column_field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(found, Field)  # noqa: S101 - concrete columns only
    return found


def update_row(
    model: type[Model], pk: int, columns: Mapping[str, Any], **where: Any
) -> int:
    """``model.objects.filter(pk=pk, **where).update(**columns)`` for plain values,
    without building a query each time: the UPDATE text is kept per set of
    columns, values go through each field's ``get_db_prep_save`` as the ORM's
    would. Returns the number of rows updated."""
    names, conditions = tuple(columns), ("pk", *where)
    key = (connection.vendor, model, names, conditions)
    sql = _updates.get(key)
    if sql is None:
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            return quote(_column_field(model, name).column or name)

        assignments = ", ".join(f"{column(name)} = %s" for name in names)
        tests = " AND ".join(f"{column(name)} = %s" for name in conditions)
        table = quote(model._meta.db_table)
        sql = f"UPDATE {table} SET {assignments} WHERE {tests}"  # noqa: S608
        _updates[key] = sql
    params = [
        _column_field(model, name).get_db_prep_save(value, connection)
        for name, value in (*columns.items(), ("pk", pk), *where.items())
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def compare_and_set(process: m.Process, state: ProcessState) -> None:
    """Write the process row if nobody else did since it was read; bump the version."""
    columns = _process_columns(state)
    updated = update_row(
        m.Process,
        process.pk,
        {"version": process.version + 1, **columns},
        version=process.version,
    )
    if updated != 1:
        raise ConcurrentUpdate(f"process {process.pk} changed meanwhile")
    process.version += 1
    for name, value in columns.items():
        setattr(process, name, value)


def save(
    loaded: Loaded,
    result: ProcessState,
    *,
    fired_timer: str | None = None,
    task_extra: Mapping[str, Mapping[str, Any]] | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Write what changed between ``loaded.state`` and ``result``; returns task pks.

    ``task_extra`` adds columns the engine does not know (channel, ip, user agent)
    to the rows of the named tasks. The compare-and-set on the process row comes
    first, so a concurrent writer fails before anything else is written.
    """
    compare_and_set(loaded.process, result)
    _write_rows(loaded, result, task_extra or {})
    _write_timers(loaded, result, fired_timer, now or timezone.now())
    return loaded.task_pks


def insert_started(process: m.Process, result: ProcessState) -> Loaded:
    """After ``Start``: the process row exists (version 0); write its first rows."""
    loaded = Loaded(
        process=process,
        definition=definition_for(process.route_version),
        state=ProcessState(
            status=result.status,
            round=result.round,
            stage_index=0,
            initiator=result.initiator,
            started_at=result.started_at,
        ),
    )
    save(loaded, result)
    return loaded


def _changed(old: Any, new: Any) -> bool:
    return old is not new and old != new


def _write_rows(
    loaded: Loaded, result: ProcessState, task_extra: Mapping[str, Mapping[str, Any]]
) -> None:
    process = loaded.process
    org_id = process.organisation_id
    before = loaded.state

    new_stages = []
    for key, run in result.stages.items():
        old = before.stages.get(key)
        if old is None:
            new_stages.append(
                m.StageRun(
                    organisation_id=org_id, process=process, **_stage_columns(run)
                )
            )
        elif _changed(old, run):
            update_row(m.StageRun, loaded.stage_pks[key], _stage_columns(run))
    if new_stages:
        insert_rows(new_stages)
        for stage_row in new_stages:
            loaded.stage_pks[f"{stage_row.round}:{stage_row.stage_key}"] = stage_row.pk

    new_steps = []
    for key, step in result.steps.items():
        old_step = before.steps.get(key)
        if old_step is None:
            new_steps.append(
                m.StepRun(
                    organisation_id=org_id, process=process, **_step_columns(step)
                )
            )
        elif _changed(old_step, step):
            update_row(m.StepRun, loaded.step_pks[key], _step_columns(step))
    if new_steps:
        insert_rows(new_steps)
        for step_row in new_steps:
            key = f"{step_row.round}:{step_row.stage_key}:{step_row.step_key}"
            loaded.step_pks[key] = step_row.pk

    new_tasks = []
    for task_id, task in result.tasks.items():
        old_task = before.tasks.get(task_id)
        extra = dict(task_extra.get(task_id, {}))
        if old_task is None:
            new_tasks.append(
                m.Task(
                    organisation_id=org_id,
                    process=process,
                    **{**task_columns(task), **extra},
                )
            )
        elif _changed(old_task, task) or extra:
            columns = task_columns(task)
            old_columns = task_columns(old_task)
            changes = {k: v for k, v in columns.items() if old_columns[k] != v}
            changes.update(extra)
            if changes:
                update_row(m.Task, loaded.task_pks[task_id], changes)
    if new_tasks:
        insert_rows(new_tasks)
        for row in new_tasks:
            loaded.task_pks[row.engine_id] = row.pk


def _write_timers(
    loaded: Loaded, result: ProcessState, fired_timer: str | None, now: datetime
) -> None:
    process = loaded.process
    before = loaded.state.timers
    gone = [timer_id for timer_id in before if timer_id not in result.timers]
    cancelled = [t for t in gone if t != fired_timer]
    cancelled += [
        timer_id
        for timer_id, timer in result.timers.items()
        if timer_id in before and _changed(before[timer_id], timer)
    ]
    if fired_timer is not None and fired_timer in before:
        m.Timer.objects.filter(
            process=process, state=m.TimerState.PENDING, engine_id=fired_timer
        ).update(state=m.TimerState.FIRED, fired_at=now)
    if cancelled:
        m.Timer.objects.filter(
            process=process, state=m.TimerState.PENDING, engine_id__in=cancelled
        ).update(state=m.TimerState.CANCELLED)
    new = [
        m.Timer(
            organisation_id=process.organisation_id,
            process=process,
            engine_id=timer.id,
            kind=timer.kind.value,
            target=timer.target,
            due_at=timer.at,
        )
        for timer_id, timer in result.timers.items()
        if timer_id not in before or _changed(before[timer_id], timer)
    ]
    if new:
        insert_rows(new)
