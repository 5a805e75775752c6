"""Loading the part of a process one command needs, and saving what changed.

The engine works on a ``ProcessState``. Rows are the source of truth, so the
repository rebuilds a *partial* state for one command: the Process row, the stage
and step runs of the current stage in the current round with their tasks, every open
task, the pending timers and the task the command names. On a route that asks a
person once a round (``duplicates: merge``, the default) it also loads this round's
decided tasks (a stage the command opens carries their approvals over): rows in
the same query, as many as the round's decisions. For ``Resubmit`` on a route
that may re-ask only those who had not approved, it also loads the step runs and tasks
of the round that ends (carry-over reads them); so does a decision sending the
process back to an earlier stage. In a later round of such a route, a command that
may open the next stages (a decision, a resolved step, a timer, a withdrawal; any
command of a round sent back to an earlier stage) loads the round before, which
those stages carry over from. Nothing else of the history is read,
so a decision costs one set of queries on the 100th stage as on the first, whatever
the number of finished processes.

After ``handle`` the repository diffs the loaded state against the result and writes
only new or changed rows, then moves ``Process.version`` on with a compare-and-set
``UPDATE ... WHERE id = %s AND version = %s``; no row updated means another
transaction saved the process first: ``ConcurrentUpdate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.utils import timezone

from sogla.core.prepared import (
    Prepared,
    db,
    db_value,
    insert_rows,
    insert_values,
    insert_values_sql,
    passed_as_is,
    statement_cursor,
)
from sogla.documents.models import Document
from sogla.engine.commands import (
    Command,
    Decide,
    Reassign,
    ResolveStep,
    Resubmit,
    TimerFired,
    Withdraw,
)
from sogla.engine.definition import RouteDefinition
from sogla.engine.states import (
    Participant,
    ProcessState,
    StepOverride,
    TaskState,
    TimerKind,
    TimerRun,
)
from sogla.engine.states import ProcessStatus as EngineStatus
from sogla.workflow import models as m
from sogla.workflow import tenant
from sogla.workflow.definitions import definition_for
from sogla.workflow.state_rows import (
    STATE,
    document_of,
    document_where,
    stage_columns,
    stage_run,
    step_columns,
    step_run,
    task_columns,
    task_run,
)


class ConcurrentUpdate(Exception):
    """Another transaction saved the process since it was loaded."""


# --- the loaded aggregate -------------------------------------------------------------


@dataclass
class Loaded:
    """A partial state plus the row ids needed to write the changes back, and the
    process's document (with its type, status, organisation, initiator and the
    initiator's department, and counterparty)."""

    process: m.Process
    definition: RouteDefinition
    state: ProcessState
    document: Document
    task_pks: dict[str, int] = field(default_factory=dict)
    step_pks: dict[str, int] = field(default_factory=dict)
    stage_pks: dict[str, int] = field(default_factory=dict)


def lock_process(process_id: int, organisation_id: int) -> m.Process:
    """The Process row, locked on PostgreSQL (an optimisation: the CAS is the guard)."""
    rows = m.Process.objects.filter(pk=process_id, organisation_id=organisation_id)
    if db().features.has_select_for_update:
        rows = rows.select_for_update(of=("self",))
    # The route's JSON is read only when its parsed definition is not cached
    # (``definition_for``): a published version never changes.
    return rows.select_related("route_version").defer("route_version__definition").get()


def _task_with_process(task_pk: int, organisation_id: int) -> QuerySet[m.Task]:
    rows = m.Task.objects.filter(
        pk=task_pk,
        organisation_id=organisation_id,
        process__organisation_id=organisation_id,
    )
    if db().features.has_select_for_update:
        rows = rows.select_for_update(of=("process",))
    return rows.select_related("process__route_version").defer(
        "process__route_version__definition"  # as in ``lock_process``
    )


_task_with_process_prepared = Prepared(_task_with_process, arity=2)


def lock_task(task_pk: int, organisation_id: int) -> m.Task:
    """A task row with its process (and route version), the process locked as in
    ``lock_process``: one statement instead of two. The task's own columns are
    read again by ``load``, under the lock."""
    return _task_with_process_prepared.get(task_pk, organisation_id)


def load(
    process: m.Process,
    command: Command | None = None,
    *,
    task_id: str = "",
    whole_round: bool = False,
) -> Loaded:
    """The partial state ``command`` needs (see the module docstring).

    ``task_id`` names one more task to load (the task a decision is about, which
    may be closed and of another stage or round). ``whole_round``: the command may
    start a new round (a decision sending the process back to an earlier stage),
    which carries over decisions of this one, as ``Resubmit`` does.
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
    carried_from = _carry_source(process, definition, command, whole_round)
    if carried_from is not None:
        # Carry-over reads the positive decisions of that round (all stages).
        step_where += " OR round = %s"
        step_params.append(carried_from)
        task_where += " OR round = %s"
        task_params.append(carried_from)
    if definition.duplicates == "merge":
        # A stage this command opens carries over approvals given earlier in the
        # round (``engine.editing``): this round's positive decisions, few rows.
        task_where += " OR (round = %s AND state IN (%s, %s))"
        task_params.extend([round_, TaskState.DONE.value, TaskState.CARRIED_OVER.value])
    of_process = "process_id = %s AND "
    stage_rows, step_rows, task_rows, timer_rows, *document_rows = STATE.read(
        [
            (of_process + f"({this_stage})", [process.pk, round_, stage_key]),
            (of_process + f"({step_where})", [process.pk, *step_params]),
            (of_process + f"({task_where})", [process.pk, *task_params]),
            (
                of_process + "state = %s AND kind <> %s",
                [process.pk, m.TimerState.PENDING, m.FIELD_REMINDER],
            ),
            *document_where(process.document_id, process.organisation_id),
        ]
    )
    document = tenant.attach(document_of(*document_rows))

    tasks = {row.engine_id: task_run(row) for row in task_rows}
    state = ProcessState(
        status=EngineStatus(process.status),
        round=round_,
        stage_index=process.stage_index,
        initiator=Participant.user(process.initiator_id),
        started_at=process.started_at,
        finished_at=process.finished_at,
        returned_from=process.returned_from or None,
        sent_back_to=process.sent_back_to or None,
        seq=process.seq,
        stages={f"{r.round}:{r.stage_key}": stage_run(r) for r in stage_rows},
        steps={f"{r.round}:{r.stage_key}:{r.step_key}": step_run(r) for r in step_rows},
        tasks=tasks,
        timers={
            t.engine_id: TimerRun(t.engine_id, TimerKind(t.kind), t.due_at, t.target)
            for t in timer_rows
        },
        overrides={
            k: StepOverride.from_dict(v) for k, v in (process.overrides or {}).items()
        },
        reask=process.reask or None,
        open_tasks=[t.id for t in tasks.values() if t.state is TaskState.OPEN],
    )
    return Loaded(
        process=process,
        definition=definition,
        state=state,
        document=document,
        task_pks={row.engine_id: row.pk for row in task_rows},
        step_pks={f"{r.round}:{r.stage_key}:{r.step_key}": r.pk for r in step_rows},
        stage_pks={f"{r.round}:{r.stage_key}": r.pk for r in stage_rows},
    )


def _carry_source(
    process: m.Process,
    definition: RouteDefinition,
    command: Command | None,
    whole_round: bool = False,
) -> int | None:
    """The round whose decisions ``command`` may carry over, or None.

    ``Resubmit`` (or a decision sending the process back to an earlier stage) ends
    this round: the new one carries from it. In a later round that re-asks only
    those who had not approved, a command that may open the next stages loads the
    round before, which they carry from.
    """
    on_return = definition.on_return
    mode = process.reask or on_return.reask
    if isinstance(command, Resubmit):
        may = on_return.reask != "all" or on_return.initiator_may_choose_reask
        return process.round if may else None
    if whole_round:
        return process.round if mode != "all" else None
    if process.round == 1 or mode == "all":
        return None
    if process.sent_back_to:  # a round sent back opens the later stages again
        return process.round - 1
    # None: a decision loaded by its task (``services.decisions``).
    if command is None or isinstance(
        command, Decide | ResolveStep | TimerFired | Withdraw
    ):
        return process.round - 1
    return None


def _named_task(command: Command | None) -> str:
    # A timer's task ("due:<task>", "remind:<task>") is open, hence loaded anyway.
    return command.task_id if isinstance(command, Decide | Reassign | Withdraw) else ""


# --- saving ---------------------------------------------------------------------------


def _process_columns(state: ProcessState) -> dict[str, Any]:
    return {
        "status": state.status.value,
        "round": state.round,
        "stage_index": state.stage_index,
        "seq": state.seq,
        "finished_at": state.finished_at,
        "returned_from": state.returned_from or "",
        "sent_back_to": state.sent_back_to or "",
        "overrides": {k: o.to_dict() for k, o in state.overrides.items()},
        "reask": state.reask or "",
    }


_updates: dict[tuple[str, type[Model], tuple[str, ...], tuple[str, ...]], str] = {}


def _column_field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(found, Field)  # noqa: S101 - concrete columns only
    return found


def update_sql(
    wrapper: BaseDatabaseWrapper,
    model: type[Model],
    pk: int,
    columns: Mapping[str, Any],
    **where: Any,
) -> tuple[str, list[Any]]:
    """``model.objects.filter(pk=pk, **where).update(**columns)`` for plain values
    as a text and its parameters, without building a query each time: the UPDATE
    text is kept per set of columns, values go through each field's
    ``get_db_prep_save`` as the ORM's would (``db_value``)."""
    names, conditions = tuple(columns), ("pk", *where)
    key = (wrapper.vendor, model, names, conditions)
    sql = _updates.get(key)
    if sql is None:
        quote = wrapper.ops.quote_name

        def column(name: str) -> str:
            return quote(_column_field(model, name).column or name)

        assignments = ", ".join(f"{column(name)} = %s" for name in names)
        tests = " AND ".join(f"{column(name)} = %s" for name in conditions)
        table = quote(model._meta.db_table)
        sql = f"UPDATE {table} SET {assignments} WHERE {tests}"  # noqa: S608
        _updates[key] = sql
    as_is = passed_as_is(wrapper)
    params = [
        db_value(_column_field(model, name), value, wrapper, as_is)
        for name, value in (*columns.items(), ("pk", pk), *where.items())
    ]
    return sql, params


def _run_updates(
    process: m.Process,
    state: ProcessState,
    updates: list[tuple[str, list[Any]]],
    inserts: Sequence[_Insert] = (),
) -> None:
    """The process row's compare-and-set, then the runs' UPDATEs and INSERTs;
    nothing of them is written when the process changed meanwhile
    (``ConcurrentUpdate``). The INSERTs teach their ``pks`` the new rows' ids.

    On PostgreSQL they are one statement: the compare-and-set is a data-modifying
    WITH, each run's UPDATE runs only when it updated the process row
    (``WHERE ... AND EXISTS (SELECT 1 FROM cas)``) and so does each INSERT
    (``INSERT ... SELECT ... WHERE EXISTS (SELECT 1 FROM cas) RETURNING id``): one
    round trip instead of one per row and table. Elsewhere (SQLite, in-process:
    no round trips) one statement each."""
    columns = _process_columns(state)
    wrapper = db()
    cas_sql, cas_params = update_sql(
        wrapper,
        m.Process,
        process.pk,
        {"version": process.version + 1, **columns},
        version=process.version,
    )
    if (updates or inserts) and wrapper.vendor == "postgresql":
        updated = _write_in_one(wrapper, cas_sql, cas_params, updates, inserts)
    else:
        with statement_cursor(wrapper) as cursor:
            cursor.execute(cas_sql, cas_params)
            updated = int(cursor.rowcount)
            if updated == 1:
                for sql, values in updates:
                    cursor.execute(sql, values)
        if updated == 1:
            for insert in inserts:
                ids = insert_values(insert.model, list(insert.rows.values()))
                insert.pks.update(zip(insert.rows, ids, strict=True))
    if updated != 1:
        raise ConcurrentUpdate(f"process {process.pk} changed meanwhile")
    process.version += 1
    for name, value in columns.items():
        setattr(process, name, value)


def _write_in_one(
    wrapper: BaseDatabaseWrapper,
    cas_sql: str,
    cas_params: list[Any],
    updates: list[tuple[str, list[Any]]],
    inserts: Sequence[_Insert],
) -> int:
    """PostgreSQL: ``_run_updates``'s statements as one ``WITH``; returns how many
    process rows the compare-and-set updated (0 or 1)."""
    guard = "EXISTS (SELECT 1 FROM cas)"
    parts = [f"cas AS ({cas_sql} RETURNING 1)"]
    params = list(cas_params)
    for index, (sql, values) in enumerate(updates):
        parts.append(f"u{index} AS ({sql} AND {guard})")
        params += values
    results = ["SELECT -1, COUNT(*) FROM cas"]
    for index, insert in enumerate(inserts):
        sql, values = insert_values_sql(
            wrapper, insert.model, list(insert.rows.values()), guard=guard
        )
        parts.append(f"i{index} AS ({sql})")
        results.append(f"SELECT {index}, id FROM i{index}")  # noqa: S608
        params += values
    with statement_cursor(wrapper) as cursor:
        cursor.execute(
            "WITH " + ", ".join(parts) + " " + " UNION ALL ".join(results), params
        )
        found = cursor.fetchall()
    ids: list[list[int]] = [[] for _ in inserts]
    updated = 0
    for tag, value in found:
        if tag == -1:
            updated = int(value)
        else:
            ids[tag].append(int(value))
    if updated == 1:
        for insert, new_ids in zip(inserts, ids, strict=True):
            # one INSERT's ids come from its sequence in the order of its rows
            insert.pks.update(zip(insert.rows, sorted(new_ids), strict=True))
    return updated


def compare_and_set(process: m.Process, state: ProcessState) -> None:
    """Write the process row if nobody else did since it was read; bump the version."""
    _run_updates(process, state, [])


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
    updates: list[tuple[str, list[Any]]] = []
    inserts = _changed_rows(loaded, result, task_extra or {}, updates)
    _run_updates(loaded.process, result, updates, inserts)  # the compare-and-set first
    _write_timers(loaded, result, fired_timer, now or timezone.now())
    return loaded.task_pks


def new(process: m.Process, document: Document) -> Loaded:
    """A process row just created (version 0) as loaded: no runs yet, so ``save``
    after ``Start`` inserts its first rows."""
    return Loaded(
        process=process,
        definition=definition_for(process.route_version),
        state=ProcessState(
            status=EngineStatus(process.status),
            round=process.round,
            stage_index=process.stage_index,
            initiator=Participant.user(process.initiator_id),
            started_at=process.started_at,
        ),
        document=document,
    )


def _changed(old: Any, new: Any) -> bool:
    return old is not new and old != new


@dataclass(frozen=True)
class _Insert:
    """New rows of one kind of run: their columns by run key, and where their ids
    go (run key -> row id)."""

    model: type[Model]
    rows: dict[str, dict[str, Any]]
    pks: dict[str, int]


@dataclass(frozen=True)
class _Rows:
    """How one kind of run becomes rows: its model and its columns."""

    model: type[Model]
    columns: Callable[[Any], dict[str, Any]]


_STAGES = _Rows(m.StageRun, stage_columns)
_STEPS = _Rows(m.StepRun, step_columns)
_TASKS = _Rows(m.Task, task_columns)


def _sync(
    rows: _Rows,
    process: m.Process,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    pks: dict[str, int],
    extra: Mapping[str, Mapping[str, Any]],
    updates: list[tuple[str, list[Any]]],
) -> _Insert | None:
    """The UPDATEs of the columns that changed in runs already in ``before``
    (added to ``updates``), and the runs new in ``after`` (returned, to insert
    after the compare-and-set, teaching ``pks``, run key -> row id, the new rows'
    ids). ``extra`` adds columns the engine does not know to the rows of the runs
    it names."""
    new: dict[str, dict[str, Any]] = {}
    for key, run in after.items():
        old = before.get(key)
        more = extra.get(key, {})
        if old is None:
            new[key] = {
                "organisation_id": process.organisation_id,
                "process_id": process.pk,
                **rows.columns(run),
                **more,
            }
        elif _changed(old, run) or more:
            was = rows.columns(old)
            changes = {k: v for k, v in rows.columns(run).items() if was[k] != v}
            if changes or more:
                updates.append(
                    update_sql(db(), rows.model, pks[key], {**changes, **more})
                )
    return _Insert(rows.model, new, pks) if new else None


def _changed_rows(
    loaded: Loaded,
    result: ProcessState,
    task_extra: Mapping[str, Mapping[str, Any]],
    updates: list[tuple[str, list[Any]]],
) -> list[_Insert]:
    """The runs' UPDATEs (into ``updates``) and INSERTs (returned) of ``save``."""
    process, before = loaded.process, loaded.state
    found = (
        _sync(
            _STAGES,
            process,
            before.stages,
            result.stages,
            loaded.stage_pks,
            {},
            updates,
        ),
        _sync(
            _STEPS, process, before.steps, result.steps, loaded.step_pks, {}, updates
        ),
        _sync(
            _TASKS,
            process,
            before.tasks,
            result.tasks,
            loaded.task_pks,
            task_extra,
            updates,
        ),
    )
    return [insert for insert in found if insert is not None]


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
