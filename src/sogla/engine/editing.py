"""Changing a round while it runs (``EditStep``) and asking a person once per round
(``duplicates: merge``).

``EditStep`` on the open stage adds people (a task each, notified), removes pending
ones (their task closed as "removed", and they are told) and moves pending
deadlines; a removal that leaves the step's quorum out of reach is refused, one
that leaves only people who already decided finishes the step (and maybe the
stage). On a stage still to come the edits are kept in the step's override
(``ProcessState.overrides``, as the initiator's round changes are) and apply when
the stage opens. Stages already passed cannot be changed.

Merging (``duplicates: merge``, the default) applies to ``MERGED_KINDS`` steps
without a confirmation: a person who approved earlier in the round (an earlier
stage) has that decision carried to a later step of the same kind that names them
(``TaskRun.carried_from`` is the earlier task, of this round, which tells it from a
previous round's carry-over); parallel steps of one stage that name the same person
share one task: its id is listed in each step's ``task_ids`` and its decision counts
for every step that lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sogla.engine import effects as fx
from sogla.engine import errors
from sogla.engine.commands import EditStep
from sogla.engine.definition import (
    HUMAN_KINDS,
    MERGED_KINDS,
    POSITIVE,
    RouteDefinition,
    StageDef,
    StepDef,
)
from sogla.engine.rescheduling import plan_again
from sogla.engine.states import (
    Participant,
    ProcessState,
    ProcessStatus,
    StageState,
    StepOverride,
    StepRun,
    StepState,
    TaskRun,
    TaskState,
    TimerKind,
)

if TYPE_CHECKING:
    from sogla.engine.working import WorkingCopy

REMOVED = "removed"  # the closed_reason of a task whose person was taken off


# --- guard ------------------------------------------------------------------------------


def check_edit(
    definition: RouteDefinition, state: ProcessState, command: EditStep
) -> None:
    """Refuse an edit that may not run now (nothing changes)."""
    if state.status is not ProcessStatus.RUNNING:
        raise errors.ProcessNotRunning(f"the process is {state.status}")
    if command.is_empty:
        raise errors.NoParticipants("nothing to change")
    index = next(
        (i for i, s in enumerate(definition.stages) if s.key == command.stage), None
    )
    step = definition.stages[index].step(command.step) if index is not None else None
    if index is None or step is None or step.kind not in HUMAN_KINDS:
        raise errors.StepNotFound(
            f'no step "{command.stage}.{command.step}" with people in this route'
        )
    current = state.stage_run(command.stage)
    if index < state.stage_index or (
        current is not None and current.state is not StageState.OPEN
    ):
        raise errors.StagePassed("this stage has already passed")
    if index > state.stage_index:
        _check_later(state, command)
        return
    run = state.step_run(command.stage, command.step)
    if run is None or run.state is not StepState.OPEN:
        raise errors.StepNotOpen(f"the step is {run.state if run else 'not started'}")
    _check_open_step(state, run, command)


def _check_later(state: ProcessState, command: EditStep) -> None:
    override = state.overrides.get(f"{command.stage}.{command.step}", StepOverride())
    added = {p.seat for p in override.add}
    for person in command.add:
        if person.seat in added:
            raise errors.AlreadyAssigned("this person is already added to the step")


def _check_open_step(state: ProcessState, run: StepRun, command: EditStep) -> None:
    tasks = [state.tasks[t] for t in run.task_ids]
    live = [t for t in tasks if t.state is not TaskState.CANCELLED]
    pending = {t.seat for t in live if t.state is TaskState.OPEN}
    for person in command.add:
        if any(t.seat == person.seat for t in live):
            raise errors.AlreadyAssigned("this person already has a task in the step")
    for seat in (*command.remove, *command.due_for):
        if seat not in pending:
            raise errors.NotPending("this person has no pending task in the step")
    if command.remove:
        removed = set(command.remove)
        # every open step sharing a removed task loses it too (``duplicates: merge``)
        for other in sharing_runs(state, run, removed):
            left = [
                t
                for t in (state.tasks[i] for i in other.task_ids)
                if t.state is not TaskState.CANCELLED and not _removed(t, removed)
            ]
            left_count = len(left) + (len(command.add) if other is run else 0)
            if left_count == 0:
                raise errors.QuorumUnreachable("nobody would be left in the step")
            quorum = other.quorum
            if isinstance(quorum, int) and quorum > left_count:
                raise errors.QuorumUnreachable(
                    f"the quorum is {quorum} but only {left_count} people would be left"
                )


def _removed(task: TaskRun, seats: set[str]) -> bool:
    return task.state is TaskState.OPEN and task.seat in seats


def sharing_runs(
    state: ProcessState, run: StepRun, seats: set[str]
) -> Iterator[StepRun]:
    """``run`` and the open step runs of its stage that list a pending task of
    ``seats`` from ``run`` (a task shared by merging)."""
    yield run
    ids = {
        t
        for t in run.task_ids
        if state.tasks[t].state is TaskState.OPEN and state.tasks[t].seat in seats
    }
    for other in state.steps.values():
        if (
            other is not run
            and other.round == run.round
            and other.stage == run.stage
            and other.state is StepState.OPEN
            and ids.intersection(other.task_ids)
        ):
            yield other


# --- applying an edit -------------------------------------------------------------------


def edit_step(
    w: WorkingCopy,
    command: EditStep,
    stage: StageDef,
    step: StepDef,
    due: Callable[[Participant], datetime | None],
) -> StepRun | None:
    """Apply a checked ``EditStep``; the step run of the open stage it changed, or
    None for a stage still to come (the caller then finishes what the quorum
    allows). ``due`` is the step's deadline for a person added."""
    if command.due_at is not None and command.due_at <= w.now:
        raise errors.DeadlinePassed("the new deadline has already passed")
    index = next(i for i, s in enumerate(w.d.stages) if s.key == stage.key)
    if index > w.s.stage_index:
        _edit_later(w, command)
        return None
    run = w.step(f"{w.s.round}:{stage.key}:{step.key}")
    removed = set(command.remove)
    for task_id in list(run.task_ids):
        task = w.s.tasks[task_id]
        if task.state is TaskState.OPEN and task.seat in removed:
            w.close_task(task_id, TaskState.CANCELLED, REMOVED)
            w.emit(
                fx.Notify(
                    "task_removed",
                    (task.participant.ref,),
                    task_id=task_id,
                    stage=task.stage,
                    data={"by": command.by.ref},
                )
            )
    for person in command.add:
        due_at = command.due_at if not command.due_for else None
        if due_at is None:
            override = w.s.overrides.get(f"{stage.key}.{step.key}")
            due_at = override.due_at if override and override.due_at else due(person)
        run.task_ids.append(w.open_task(stage.key, step, person, due_at).id)
    if command.due_at is not None:
        seats = set(command.due_for)
        for task_id in list(run.task_ids):
            task = w.s.tasks[task_id]
            if task.state is not TaskState.OPEN or (seats and task.seat not in seats):
                continue
            if any(p.seat == task.seat for p in command.add):
                continue
            move_deadline(w, task, command.due_at, command.by.ref)
    return run


def _edit_later(w: WorkingCopy, command: EditStep) -> None:
    key = f"{command.stage}.{command.step}"
    old = w.s.overrides.get(key, StepOverride())
    removed = set(command.remove)
    add = [p for p in old.add if p.seat not in removed]
    add.extend(command.add)
    added = {p.seat for p in command.add}
    remove = [s for s in old.remove if s not in added]
    remove.extend(s for s in command.remove if s not in remove)
    w.s.overrides[key] = StepOverride(
        add=tuple(add),
        remove=tuple(remove),
        due_at=command.due_at or old.due_at,
    )


def move_deadline(w: WorkingCopy, task: TaskRun, due_at: datetime, by: str) -> None:
    """A pending task's deadline moved by hand: its timers follow, the assignee is
    told (``DeadlineMoved``); an overdue task moved into the future is no longer
    overdue."""
    was = task.due_at
    moved = w.task(task.id)
    moved.due_at = due_at
    if was is None:
        moved.overdue = False
        w.cancel_timer(f"escalate:{task.id}")
        w.set_timer(f"due:{task.id}", TimerKind.DUE, due_at, task.id)
        step = w.d.step(task.stage, task.step)
        remind_at = w.clock.remind_at(step.due if step else None, due_at)
        if remind_at is not None and remind_at > w.now:
            w.set_timer(f"remind:{task.id}", TimerKind.REMINDER, remind_at, task.id)
        w.emit(fx.DeadlineMoved(task.id, task.participant, None, due_at, by))
        return
    plan_again(w, moved, due_at)
    w.emit(fx.DeadlineMoved(task.id, task.participant, was, due_at, by))


# --- merging ----------------------------------------------------------------------------


def merges(definition: RouteDefinition, step: StepDef) -> bool:
    return (
        definition.duplicates == "merge"
        and step.kind in MERGED_KINDS
        and step.confirm is None
    )


def decided_earlier(
    state: ProcessState, stage: StageDef, step: StepDef, files_sha256: str | None
) -> dict[str, TaskRun]:
    """Positive decisions of this round in earlier stages on steps of the same
    kind, on the same files, by seat (the first one each)."""
    found: dict[str, TaskRun] = {}
    for task in state.tasks.values():
        if task.round != state.round or task.stage == stage.key:
            continue
        if task.kind != str(step.kind) or task.files_sha256 != files_sha256:
            continue
        positive = task.state is TaskState.CARRIED_OVER or (
            task.state is TaskState.DONE and task.outcome in POSITIVE
        )
        if positive:
            best = found.get(task.seat)
            if best is None or task.id < best.id:
                found[task.seat] = task
    return found


def open_in_stage(
    state: ProcessState, stage: StageDef, step: StepDef
) -> dict[str, str]:
    """Open tasks of parallel steps of the same kind in this stage, by seat."""
    found: dict[str, str] = {}
    for other in stage.steps:
        if other.key == step.key or other.kind is not step.kind:
            continue
        run = state.step_run(stage.key, other.key)
        if run is None or run.state is not StepState.OPEN:
            continue
        for task_id in run.task_ids:
            task = state.tasks[task_id]
            if task.state is TaskState.OPEN and task.step == other.key:
                found.setdefault(task.seat, task_id)
    return found


def merge_decision(
    w: WorkingCopy, run: StepRun, earlier: TaskRun, person: Participant
) -> None:
    """Carry a decision given earlier in this round into ``run`` for the same
    person; ``carried_from`` names the earlier task (this round's)."""
    task = TaskRun(
        id=w.new_task_id(run.stage, run.step),
        round=w.s.round,
        stage=run.stage,
        step=run.step,
        kind=run.kind,
        participant=person.bare(),
        on_behalf_of=person.on_behalf_of,
        state=TaskState.CARRIED_OVER,
        created_at=w.now,
        outcome=earlier.outcome,
        comment=earlier.comment,
        decided_at=earlier.decided_at,
        decided_by=earlier.decided_by,
        files_sha256=earlier.files_sha256,
        carried_from=earlier.id,
    )
    w.s.tasks[task.id] = task
    w._own_tasks.add(task.id)
    run.task_ids.append(task.id)
    w.emit(
        fx.CarryOver(
            task.id,
            earlier.id,
            task.round,
            task.stage,
            task.step,
            task.participant,
            task.on_behalf_of,
            task.outcome or "",
        )
    )
