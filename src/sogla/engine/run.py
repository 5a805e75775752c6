"""The run state machine: ``handle(definition, state, command, ctx) -> Result``.

A pure function. It takes the route definition the process pinned, the process
state (``None`` before ``Start``), one command and a context (the time, the
document's facts, the working calendar and a resolver for assignees), and returns
the new state and the effects the caller must apply in the same transaction. The
input state is never changed; a refused command raises an :class:`EngineError`
subclass and changes nothing. See ``docs/engine.md`` for the table of states and
commands.

Cost: a call touches the current stage only (its steps and tasks) plus the stages it
skips or opens; it never walks the route or the history, apart from one shallow copy
of the state's indices.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sogla.engine import effects as fx
from sogla.engine import errors
from sogla.engine.calendar import WorkCalendar
from sogla.engine.commands import (
    Cancel,
    Command,
    Decide,
    Reassign,
    ResolveStep,
    Resubmit,
    RoundChanges,
    Start,
    TimerFired,
)
from sogla.engine.conditions import Condition, describe, evaluate, referenced_fields
from sogla.engine.definition import (
    COMMENT_REQUIRED,
    HUMAN_KINDS,
    POSITIVE,
    Assignee,
    Due,
    Outcome,
    RouteDefinition,
    Span,
    StageDef,
    StepDef,
    StepKind,
    Text,
)
from sogla.engine.effects import Effect
from sogla.engine.states import (
    REVISION_STEP,
    Participant,
    ProcessState,
    ProcessStatus,
    StageRun,
    StageState,
    StepOverride,
    StepRun,
    StepState,
    TaskRun,
    TaskState,
    TimerKind,
    TimerRun,
)

# Outcomes that count towards a step's quorum (a consult's opinion counts for it).
COUNTING = POSITIVE | {Outcome.OPINION}
# The default reminder: after 80% of the time, or one working day before, if later.
REMINDER_SHARE = 0.8


@dataclass(frozen=True)
class Unresolved:
    """The resolver could not find anyone: the reason is shown to people."""

    reason: str


Resolver = Callable[[Assignee], Sequence[Participant] | Unresolved]


def _resolve_nobody(assignee: Assignee) -> Unresolved:
    return Unresolved("no resolver was given")


def _no_zone(person: Participant) -> tzinfo | None:
    return None


@dataclass(frozen=True)
class Context:
    """What the caller knows at the moment of the command.

    ``facts`` are the document's current field values plus derived facts
    (``initiator.department``...). ``files_sha256`` is the hash of the document's
    current files: previous-round approvals carry over only when it matches the
    hash recorded with the decision.
    """

    now: datetime
    facts: Mapping[str, Any] = field(default_factory=dict)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    resolve: Resolver = _resolve_nobody
    files_sha256: str | None = None
    zone: Callable[[Participant], tzinfo | None] = _no_zone


@dataclass(frozen=True)
class Result:
    state: ProcessState
    effects: tuple[Effect, ...]


def handle(
    definition: RouteDefinition,
    state: ProcessState | None,
    command: Command,
    ctx: Context,
) -> Result:
    """Apply one command; raise an ``EngineError`` (and change nothing) to refuse it."""
    if ctx.now.tzinfo is None or ctx.now.utcoffset() is None:
        msg = "ctx.now must be an aware datetime"
        raise ValueError(msg)
    if isinstance(command, Start):
        if state is not None:
            raise errors.ProcessAlreadyStarted("the process has already started")
        return _Run.start(definition, command, ctx)
    if state is None:
        raise errors.ProcessNotStarted("the process has not started")
    if isinstance(command, TimerFired):
        timer = state.timers.get(command.timer_id)
        if timer is None or state.is_finished:
            return Result(state, ())  # fired twice, or cancelled meanwhile: no-op
        run = _Run(definition, state, ctx)
        run.timer_fired(timer)
        return run.result()
    if isinstance(command, Decide):
        repeat = _check_decide(definition, state, command)
        if repeat:
            return Result(state, ())
        run = _Run(definition, state, ctx)
        run.decide(command)
        return run.result()
    if isinstance(command, Resubmit):
        _check_resubmit(definition, state, command)
        run = _Run(definition, state, ctx)
        run.resubmit(command)
        return run.result()
    if isinstance(command, Cancel):
        if state.is_finished:
            raise errors.ProcessNotRunning(f"the process is already {state.status}")
        run = _Run(definition, state, ctx)
        run.cancel(command)
        return run.result()
    if isinstance(command, Reassign):
        _check_reassign(definition, state, command)
        run = _Run(definition, state, ctx)
        run.reassign(command)
        return run.result()
    _check_resolve(definition, state, command)
    run = _Run(definition, state, ctx)
    run.resolve_step(command)
    return run.result()


# --- guards: read-only checks before anything changes -----------------------------


def _require_running(state: ProcessState) -> None:
    if state.status is not ProcessStatus.RUNNING:
        raise errors.ProcessNotRunning(f"the process is {state.status}")


def _current_step(stage: StageDef, key: str) -> StepDef:
    step = stage.step(key)
    if step is None:  # pragma: no cover - the guards checked it
        raise errors.StepNotFound(f'no step "{key}" in stage "{stage.key}"')
    return step


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _check_decide(
    definition: RouteDefinition, state: ProcessState, command: Decide
) -> bool:
    """True for a harmless repeat of a recorded decision; raise when refused."""
    task = state.tasks.get(command.task_id)
    if task is None:
        raise errors.TaskNotFound(f'no task "{command.task_id}" in this process')
    if command.request_id and task.request_id == command.request_id:
        if task.outcome != command.outcome:
            raise errors.RequestIdReused(
                "this request id was already used for another decision"
            )
        return True
    _require_running(state)
    if task.state is not TaskState.OPEN:
        raise errors.TaskNotOpen(f"the task is {task.state}, not open")
    if task.step == REVISION_STEP:
        raise errors.TaskNotDecidable("a revision task ends by resubmitting")
    stage = definition.stages[state.stage_index]
    step = stage.step(task.step) if stage.key == task.stage else None
    if step is None:  # pragma: no cover - open tasks belong to the current stage
        raise errors.TaskNotOpen("the task is not part of the current stage")
    allowed = [str(o) for o in step.allowed_outcomes()]
    if command.outcome not in allowed:
        raise errors.OutcomeNotAllowed(
            f'"{command.outcome}" is not allowed here; allowed: {", ".join(allowed)}'
        )
    outcome = Outcome(command.outcome)
    if outcome in COMMENT_REQUIRED and not command.comment.strip():
        raise errors.CommentRequired(f'a comment is required to "{outcome}"')
    extra = sorted(set(command.fields) - set(step.fields))
    if extra:
        raise errors.FieldNotAllowed(
            "this step does not fill " + ", ".join(extra), fields=extra
        )
    if outcome in POSITIVE:
        missing = [f for f in step.required_fields if _is_empty(command.fields.get(f))]
        if missing:
            raise errors.FieldsRequired(
                "required: " + ", ".join(missing), fields=missing
            )
    return False


def _check_resubmit(
    definition: RouteDefinition, state: ProcessState, command: Resubmit
) -> None:
    if state.status is not ProcessStatus.REVISION:
        raise errors.ProcessNotInRevision(f"the process is {state.status}")
    changes = command.changes
    if not changes:
        return
    if not definition.on_return.initiator_may_edit:
        raise errors.EditNotAllowed("this route does not let the initiator edit it")
    for ref in (*changes.add, *changes.remove, *changes.due):
        stage_key, _, step_key = ref.partition(".")
        try:
            step = definition.stage(stage_key).step(step_key)
        except KeyError:
            step = None
        if step is None or step.kind not in HUMAN_KINDS:
            raise errors.StepNotFound(f'no step "{ref}" with people in this route')


def _check_reassign(
    definition: RouteDefinition, state: ProcessState, command: Reassign
) -> None:
    task = state.tasks.get(command.task_id)
    if task is None:
        raise errors.TaskNotFound(f'no task "{command.task_id}" in this process')
    _require_running(state)
    if task.state is not TaskState.OPEN:
        raise errors.TaskNotOpen(f"the task is {task.state}, not open")
    step = state.steps[f"{task.round}:{task.stage}:{task.step}"]
    for task_id in step.task_ids:
        other = state.tasks[task_id]
        if other.state is TaskState.OPEN and other.seat == command.to.seat:
            raise errors.AlreadyAssigned("this person already has a task in the step")


def _check_resolve(
    definition: RouteDefinition, state: ProcessState, command: ResolveStep
) -> None:
    _require_running(state)
    stage = definition.stages[state.stage_index]
    step = stage.step(command.step) if stage.key == command.stage else None
    if step is None:
        raise errors.StepNotFound(
            f'no step "{command.stage}.{command.step}" in the current stage'
        )
    run = state.step_run(command.stage, command.step)
    if run is None or run.state is not StepState.FAILED:
        raise errors.StepNotFailed("only a failed step can be resolved")
    if command.participants is not None:
        if step.kind not in HUMAN_KINDS:
            raise errors.NoParticipants(f"a {step.kind} step has no participants")
        if not command.participants:
            raise errors.NoParticipants("give at least one participant")


# --- the run: a working copy of the state plus the effects so far ------------------


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _counts(task: TaskRun) -> bool:
    """Whether a task counts towards its step's quorum in its round."""
    if task.state is TaskState.CARRIED_OVER:
        return True
    return task.state is TaskState.DONE and task.outcome in COUNTING


class _Run:
    def __init__(
        self, definition: RouteDefinition, state: ProcessState, ctx: Context
    ) -> None:
        self.d = definition
        self.s = state.clone()
        self.ctx = ctx
        self.facts: Mapping[str, Any] = ctx.facts
        self.effects: list[Effect] = []
        self._own_tasks: set[str] = set()
        self._own_steps: set[str] = set()
        self._own_stages: set[str] = set()

    @classmethod
    def start(cls, definition: RouteDefinition, command: Start, ctx: Context) -> Result:
        state = ProcessState(
            status=ProcessStatus.RUNNING,
            round=1,
            stage_index=0,
            initiator=command.actor.bare(),
            started_at=ctx.now,
        )
        run = cls(definition, state, ctx)
        run.emit(fx.RoundStarted(1), fx.SetStatus(meaning="active"))
        run.advance(0)
        return run.result()

    def result(self) -> Result:
        return Result(self.s, tuple(self.effects))

    def emit(self, *effects: Effect) -> None:
        self.effects.extend(effects)

    @property
    def now(self) -> datetime:
        return self.ctx.now

    # copy on write ------------------------------------------------------------------

    def task(self, task_id: str) -> TaskRun:
        if task_id not in self._own_tasks:
            self.s.tasks[task_id] = copy.copy(self.s.tasks[task_id])
            self._own_tasks.add(task_id)
        return self.s.tasks[task_id]

    def step(self, key: str) -> StepRun:
        if key not in self._own_steps:
            old = self.s.steps[key]
            self.s.steps[key] = replace(old, task_ids=list(old.task_ids))
            self._own_steps.add(key)
        return self.s.steps[key]

    def stage_run(self, key: str) -> StageRun:
        if key not in self._own_stages:
            self.s.stages[key] = copy.copy(self.s.stages[key])
            self._own_stages.add(key)
        return self.s.stages[key]

    def add_step(self, run: StepRun) -> StepRun:
        self.s.steps[run.key] = run
        self._own_steps.add(run.key)
        return run

    def add_stage(self, run: StageRun) -> StageRun:
        if run.key in self.s.stages:  # a stage opens at most once per round
            msg = f"stage {run.key} already ran in this round"
            raise AssertionError(msg)
        self.s.stages[run.key] = run
        self._own_stages.add(run.key)
        return run

    # timers -------------------------------------------------------------------------

    def set_timer(
        self, timer_id: str, kind: TimerKind, at: datetime, target: str
    ) -> None:
        self.s.timers[timer_id] = TimerRun(timer_id, kind, at, target)
        self.emit(fx.SetTimer(timer_id, kind, at, target))

    def cancel_timer(self, timer_id: str) -> None:
        if self.s.timers.pop(timer_id, None) is not None:
            self.emit(fx.CancelTimer(timer_id))

    def cancel_all_timers(self) -> None:
        for timer_id in list(self.s.timers):
            self.cancel_timer(timer_id)

    # tasks --------------------------------------------------------------------------

    def new_task_id(self, stage: str, step: str) -> str:
        self.s.seq += 1
        return f"r{self.s.round}:{stage}:{step}:{self.s.seq}"

    def open_task(
        self,
        stage: str,
        step: StepDef | None,
        person: Participant,
        due_at: datetime | None,
    ) -> TaskRun:
        step_key = step.key if step else REVISION_STEP
        task = TaskRun(
            id=self.new_task_id(stage, step_key),
            round=self.s.round,
            stage=stage,
            step=step_key,
            kind=str(step.kind) if step else REVISION_STEP,
            participant=person.bare(),
            on_behalf_of=person.on_behalf_of,
            state=TaskState.OPEN,
            created_at=self.now,
            due_at=due_at,
        )
        self.s.tasks[task.id] = task
        self._own_tasks.add(task.id)
        self.s.open_tasks.append(task.id)
        self.emit(
            fx.OpenTask(
                task.id,
                task.round,
                stage,
                step_key,
                task.kind,
                task.participant,
                task.on_behalf_of,
                due_at,
            )
        )
        if due_at is not None:
            self.set_timer(f"due:{task.id}", TimerKind.DUE, due_at, task.id)
            remind_at = self.remind_at(step.due if step else None, due_at)
            if remind_at is not None:
                self.set_timer(
                    f"remind:{task.id}", TimerKind.REMINDER, remind_at, task.id
                )
        return task

    def remind_at(self, due: Due | None, due_at: datetime) -> datetime | None:
        """When to remind of a deadline: never in the past, never after it."""
        if due is not None and not due.reminder:
            return None
        if due is not None and due.remind_before is not None:
            at = self.before(due_at, due.remind_before)
        else:
            share = self.now + (due_at - self.now) * REMINDER_SHARE
            at = max(share, self.before(due_at, Span(working_days=1)))
            at = self.ctx.calendar.within_working_hours(at.astimezone(due_at.tzinfo))
        return at if self.now < at < due_at else None

    def before(self, moment: datetime, span: Span) -> datetime:
        """``span`` of working time before ``moment`` (hours count working hours),
        counted in the local time of the command's clock."""
        moment = moment.astimezone(self.now.tzinfo)
        if span.hours is not None:
            return self.ctx.calendar.subtract_working_hours(moment, span.hours)
        return self.ctx.calendar.working_days_before(moment, span.working_days or 0)

    def after(self, moment: datetime, span: Span) -> datetime:
        """``span`` of working time after ``moment`` (hours count working hours),
        counted in the local time of the command's clock."""
        moment = moment.astimezone(self.now.tzinfo)
        if span.hours is not None:
            return self.ctx.calendar.add_working_hours(moment, span.hours)
        return self.ctx.calendar.working_days_after(moment, span.working_days or 0)

    def close_task(self, task_id: str, state: TaskState, reason: str) -> None:
        task = self.task(task_id)
        task.state = state
        task.closed_reason = reason
        self.s.open_tasks.remove(task_id)
        self.cancel_task_timers(task_id)
        self.emit(fx.CloseTask(task_id, state.value, reason=reason))

    def cancel_task_timers(self, task_id: str) -> None:
        for kind in ("due", "remind", "escalate"):
            self.cancel_timer(f"{kind}:{task_id}")

    def close_all_open_tasks(self, reason: str) -> None:
        for task_id in list(self.s.open_tasks):
            self.close_task(task_id, TaskState.CANCELLED, reason)

    # stages and steps ---------------------------------------------------------------

    def advance(self, index: int) -> None:
        """Open stages from ``index`` on until one waits, or finish the process."""
        while index < len(self.d.stages):
            self.s.stage_index = index
            if self.open_stage(self.d.stages[index], index):
                return
            index += 1
        self.close_all_open_tasks("process finished")
        self.cancel_all_timers()
        self.finish(ProcessStatus.APPROVED)
        self.emit(fx.SetStatus(meaning="success"))
        self.emit(*(fx.RunAction(action) for action in self.d.on_finish))
        self.emit(fx.Notify("approved", ("initiator",)))

    def open_stage(self, stage: StageDef, index: int) -> bool:
        """Open a stage; False when it was skipped or finished at once."""
        round_ = self.s.round
        if stage.when is not None and not evaluate(stage.when, self.facts):
            reason = f"condition not met: {describe(stage.when)}"
            self.add_stage(
                StageRun(round_, stage.key, index, StageState.SKIPPED, reason)
            )
            self.emit(fx.StageSkipped(round_, stage.key, reason))
            return False
        skipped = {
            step.key: f"condition not met: {describe(step.when)}"
            for step in stage.steps
            if step.when is not None and not evaluate(step.when, self.facts)
        }
        if len(skipped) == len(stage.steps):
            reason = "every step is skipped"
            self.add_stage(
                StageRun(round_, stage.key, index, StageState.SKIPPED, reason)
            )
            for step in stage.steps:
                self.add_step(
                    StepRun(
                        round_, stage.key, step.key, str(step.kind),
                        StepState.SKIPPED, skipped[step.key],
                    )
                )  # fmt: skip
            self.emit(fx.StageSkipped(round_, stage.key, reason))
            return False
        stage_run = StageRun(
            round_, stage.key, index, StageState.OPEN, opened_at=self.now
        )
        self.add_stage(stage_run)
        self.emit(fx.StageOpened(round_, stage.key))
        if self.d.stall_alert is not None:
            self.set_timer(
                f"stall:{stage_run.key}",
                TimerKind.STALL,
                self.now + timedelta(hours=self.d.stall_alert.hours),
                stage_run.key,
            )
        for step in stage.steps:
            run = self.add_step(
                StepRun(
                    round_, stage.key, step.key, str(step.kind),
                    quorum=step.effective_quorum(),
                )
            )  # fmt: skip
            if step.key in skipped:
                run.state = StepState.SKIPPED
                run.reason = skipped[step.key]
                self.emit(fx.StepSkipped(round_, stage.key, step.key, run.reason))
        for step in stage.steps:
            if step.key not in skipped:
                self.start_step(stage, step, None)
        if self.stage_complete(stage):
            self.finish_stage(stage)
            return False
        return True

    def fail_step(self, run: StepRun, reason: str) -> None:
        run.state = StepState.FAILED
        run.reason = reason
        self.emit(fx.ReportUnresolved(run.stage, run.step, reason))

    def start_step(
        self, stage: StageDef, step: StepDef, given: Sequence[Participant] | None
    ) -> None:
        run = self.step(f"{self.s.round}:{stage.key}:{step.key}")
        run.state = StepState.OPEN
        run.reason = ""
        if step.kind is StepKind.SYSTEM:
            for action in step.actions:
                self.emit(fx.RunAction(action, stage.key, step.key))
            self.finish_step(run)
            return
        if step.kind is StepKind.WAIT:
            if step.wait_for is not None:
                at = self.after(self.now, step.wait_for)
            else:
                raw = self.facts.get(step.wait_until or "")
                day = _as_date(raw)
                if day is None:
                    what = "is empty" if _is_empty(raw) else "is not a date"
                    self.fail_step(run, f'the date field "{step.wait_until}" {what}')
                    return
                day += timedelta(days=step.wait_offset_days)
                at = datetime.combine(
                    day, self.ctx.calendar.day_ends, tzinfo=self.now.tzinfo
                )
            self.set_timer(f"wait:{run.key}", TimerKind.WAIT, at, run.key)
            return
        override = self.s.overrides.get(f"{stage.key}.{step.key}", StepOverride())
        if given is None:
            found = (
                self.ctx.resolve(step.assignee)
                if step.assignee is not None
                else Unresolved("the step has no assignee")
            )
            if isinstance(found, Unresolved):
                self.fail_step(run, found.reason)
                return
            people = [p for p in found if p.seat not in override.remove]
            people.extend(override.add)
        else:
            people = list(given)
        unique: dict[str, Participant] = {}
        for person in people:
            unique.setdefault(person.seat, person)
        if not unique:
            self.fail_step(run, "nobody to assign")
            return
        quorum = run.quorum
        if isinstance(quorum, int) and quorum > len(unique):
            self.fail_step(
                run,
                f"the quorum is {quorum} but only {len(unique)} people are assigned",
            )
            return
        for seat, previous in self.carried(stage, step).items():
            if seat in unique:
                self.carry_over(run, previous, unique.pop(seat))
        if self.quorum_met(run):
            self.finish_step(run)
            return
        for person in unique.values():
            due_at = override.due_at or self.due_at(stage, step, person)
            run.task_ids.append(self.open_task(stage.key, step, person, due_at).id)

    def carried(self, stage: StageDef, step: StepDef) -> dict[str, TaskRun]:
        """Positive decisions of the previous round on the same files, by seat."""
        if self.d.on_return.reask != "not_approved" or self.s.round == 1:
            return {}
        previous = self.s.step_run(stage.key, step.key, self.s.round - 1)
        if previous is None:
            return {}
        found: dict[str, TaskRun] = {}
        for task_id in previous.task_ids:
            task = self.s.tasks[task_id]
            positive = task.state is TaskState.CARRIED_OVER or (
                task.state is TaskState.DONE and task.outcome in POSITIVE
            )
            if positive and task.files_sha256 == self.ctx.files_sha256:
                found[task.seat] = task
        return found

    def carry_over(self, run: StepRun, previous: TaskRun, person: Participant) -> None:
        task = TaskRun(
            id=self.new_task_id(run.stage, run.step),
            round=self.s.round,
            stage=run.stage,
            step=run.step,
            kind=run.kind,
            participant=person.bare(),
            on_behalf_of=person.on_behalf_of,
            state=TaskState.CARRIED_OVER,
            created_at=self.now,
            outcome=previous.outcome,
            comment=previous.comment,  # "approve with remarks" keeps its remark
            decided_at=previous.decided_at,
            decided_by=previous.decided_by,
            files_sha256=previous.files_sha256,
            carried_from=previous.carried_from or previous.id,
        )
        self.s.tasks[task.id] = task
        self._own_tasks.add(task.id)
        run.task_ids.append(task.id)
        self.emit(
            fx.CarryOver(
                task.id,
                task.carried_from or previous.id,
                task.round,
                task.stage,
                task.step,
                task.participant,
                task.on_behalf_of,
                task.outcome or "",
            )
        )

    def due_at(
        self, stage: StageDef, step: StepDef, person: Participant
    ) -> datetime | None:
        """The deadline in working time, at the end of the assignee's working day."""
        due = step.due
        if due is None:
            return None
        local = self.now.astimezone(self.ctx.zone(person) or self.now.tzinfo)
        if due.working_days is not None:
            return self.ctx.calendar.deadline(local, due.working_days)
        if due.hours is not None:  # working hours of the calendar, in the local day
            return self.ctx.calendar.add_working_hours(local, due.hours)
        raw = self.facts.get(due.field or "")
        day = _as_date(raw)
        if day is None:
            what = "is empty" if _is_empty(raw) else "is not a date"
            self.emit(
                fx.DeadlineUnknown(
                    stage.key, step.key, f'the deadline field "{due.field}" {what}'
                )
            )
            return None
        return datetime.combine(day, self.ctx.calendar.day_ends, tzinfo=local.tzinfo)

    def quorum_met(self, run: StepRun) -> bool:
        tasks = [self.s.tasks[task_id] for task_id in run.task_ids]
        live = [t for t in tasks if t.state is not TaskState.CANCELLED]
        positive = sum(1 for t in live if _counts(t))
        if run.quorum == "any":
            needed = 1
        elif run.quorum == "all":
            needed = len(live)
        else:
            needed = run.quorum
        return bool(live) and positive >= needed

    def finish_step(self, run: StepRun) -> None:
        run.state = StepState.DONE
        for task_id in run.task_ids:
            if self.s.tasks[task_id].state is TaskState.OPEN:
                self.close_task(task_id, TaskState.CLOSED_BY_QUORUM, "quorum reached")
        self.cancel_timer(f"wait:{run.key}")
        self.emit(fx.StepFinished(run.round, run.stage, run.step))

    def stage_steps(self, stage: StageDef) -> list[tuple[StepDef, StepRun]]:
        round_ = self.s.round
        return [
            (step, self.s.steps[f"{round_}:{stage.key}:{step.key}"])
            for step in stage.steps
        ]

    def stage_complete(self, stage: StageDef) -> bool:
        """All blocking steps done; consult steps block only a consult-only stage."""
        active = [
            (step, run)
            for step, run in self.stage_steps(stage)
            if run.state is not StepState.SKIPPED
        ]
        blocking = [r for s, r in active if s.kind is not StepKind.CONSULT] or [
            r for _, r in active
        ]
        return all(run.state is StepState.DONE for run in blocking)

    def close_stage_steps(self, stage: StageDef, reason: str) -> None:
        for _, run in self.stage_steps(stage):
            if run.state is StepState.OPEN:
                self.step(run.key).state = StepState.CLOSED
                for task_id in run.task_ids:
                    if self.s.tasks[task_id].state is TaskState.OPEN:
                        self.close_task(task_id, TaskState.CANCELLED, reason)
                self.cancel_timer(f"wait:{run.key}")

    def finish_stage(self, stage: StageDef) -> None:
        self.close_stage_steps(stage, "stage finished")
        key = f"{self.s.round}:{stage.key}"
        stage_run = self.stage_run(key)
        stage_run.state = StageState.DONE
        stage_run.finished_at = self.now
        self.cancel_timer(f"stall:{key}")
        self.emit(fx.StageFinished(self.s.round, stage.key))

    def after_step_change(self, run: StepRun) -> None:
        """Finish the step and the stage where the quorum allows, then move on."""
        if run.state is StepState.OPEN and self.quorum_met(run):
            self.finish_step(run)
        stage = self.d.stages[self.s.stage_index]
        if self.stage_complete(stage):
            self.finish_stage(stage)
            self.advance(self.s.stage_index + 1)

    def end_current_stage(self, reason: str) -> None:
        """The process leaves the running state: close the open stage, if any."""
        stage = self.d.stages[self.s.stage_index]
        key = f"{self.s.round}:{stage.key}"
        if key in self.s.stages and self.s.stages[key].state is StageState.OPEN:
            self.close_stage_steps(stage, reason)
            for _, run in self.stage_steps(stage):
                if run.state is StepState.FAILED:
                    self.step(run.key).state = StepState.CLOSED
            stage_run = self.stage_run(key)
            stage_run.state = StageState.CLOSED
            stage_run.finished_at = self.now
        self.close_all_open_tasks(reason)
        self.cancel_all_timers()

    def finish(self, status: ProcessStatus) -> None:
        self.s.status = status
        self.s.finished_at = self.now
        self.emit(fx.ProcessFinished(status.value))

    # commands -----------------------------------------------------------------------

    def decide(self, command: Decide) -> None:
        task = self.task(command.task_id)
        task.state = TaskState.DONE
        task.outcome = command.outcome
        task.comment = command.comment
        task.decided_at = self.now
        task.decided_by = command.actor.ref
        task.files_sha256 = command.files_sha256
        task.request_id = command.request_id or None
        self.s.open_tasks.remove(task.id)
        self.cancel_task_timers(task.id)
        self.emit(
            fx.CloseTask(
                task.id,
                TaskState.DONE.value,
                outcome=task.outcome,
                comment=task.comment,
                decided_by=task.decided_by,
                files_sha256=task.files_sha256,
                request_id=task.request_id,
            )
        )
        if command.fields:
            self.emit(fx.SetFields(task.id, dict(command.fields)))
            self.facts = {**self.facts, **command.fields}
        if command.outcome == Outcome.RETURN:
            self.return_process(task)
        elif command.outcome == Outcome.REJECT:
            self.end_current_stage("rejected")
            self.finish(ProcessStatus.REJECTED)
            self.emit(
                fx.SetStatus(meaning="failure"),
                fx.Notify("rejected", ("initiator",), task_id=task.id),
            )
        else:
            self.after_step_change(self.step(f"{task.round}:{task.stage}:{task.step}"))

    def return_process(self, task: TaskRun) -> None:
        self.end_current_stage("returned")
        self.s.status = ProcessStatus.REVISION
        self.s.returned_from = task.stage
        self.emit(
            fx.ProcessReturned(task.round, task.stage, task.step, task.id, task.comment)
        )
        self.open_task(task.stage, None, self.s.initiator, None)
        self.emit(
            fx.SetStatus(meaning="draft"),
            fx.Notify("returned", ("initiator",), task_id=task.id),
        )

    def resubmit(self, command: Resubmit) -> None:
        for task_id in list(self.s.open_tasks):  # the revision task
            task = self.task(task_id)
            task.state = TaskState.DONE
            task.outcome = "resubmitted"
            task.comment = command.comment
            task.decided_at = self.now
            task.decided_by = command.actor.ref
            self.s.open_tasks.remove(task_id)
            self.emit(
                fx.CloseTask(
                    task_id,
                    TaskState.DONE.value,
                    outcome=task.outcome,
                    comment=task.comment,
                    decided_by=task.decided_by,
                )
            )
        self.s.overrides = _overrides(command.changes)
        self.s.round += 1
        self.s.status = ProcessStatus.RUNNING
        start = 0
        if self.d.on_return.restart == "same_stage" and self.s.returned_from:
            start = next(
                i for i, s in enumerate(self.d.stages) if s.key == self.s.returned_from
            )
        self.s.returned_from = None
        self.emit(fx.RoundStarted(self.s.round), fx.SetStatus(meaning="active"))
        self.advance(start)

    def cancel(self, command: Cancel) -> None:
        recipients = ["initiator"]
        recipients.extend(self.s.tasks[t].participant.ref for t in self.s.open_tasks)
        self.end_current_stage("cancelled")
        self.finish(ProcessStatus.CANCELLED)
        self.emit(
            fx.SetStatus(meaning="draft"),
            fx.Notify(
                "cancelled",
                tuple(dict.fromkeys(recipients)),
                data={"reason": command.reason, "by": command.actor.ref},
            ),
        )

    def reassign(self, command: Reassign) -> None:
        old = self.s.tasks[command.task_id]
        self.close_task(old.id, TaskState.CANCELLED, "reassigned")
        stage = self.d.stages[self.s.stage_index]
        step = _current_step(stage, old.step)
        run = self.step(f"{old.round}:{old.stage}:{old.step}")
        run.task_ids.append(self.open_task(stage.key, step, command.to, old.due_at).id)

    def resolve_step(self, command: ResolveStep) -> None:
        stage = self.d.stages[self.s.stage_index]
        step = _current_step(stage, command.step)
        self.start_step(stage, step, command.participants)
        run = self.step(f"{self.s.round}:{stage.key}:{step.key}")
        if run.state is not StepState.FAILED:
            self.after_step_change(run)

    def timer_fired(self, timer: TimerRun) -> None:
        del self.s.timers[timer.id]
        if timer.kind in (TimerKind.DUE, TimerKind.REMINDER, TimerKind.ESCALATE):
            task = self.s.tasks[timer.target]
            if task.state is not TaskState.OPEN:  # pragma: no cover - cancelled with it
                return
            if timer.kind is TimerKind.REMINDER:
                if task.due_at is not None and task.due_at <= self.now:
                    return  # fired late (the worker was down): the overdue notice says it
                recipients: tuple[str, ...] = (task.participant.ref,)
            elif timer.kind is TimerKind.DUE:
                self.task(task.id).overdue = True
                self.cancel_timer(f"remind:{task.id}")  # too late to remind
                recipients = (task.participant.ref, "initiator")
                self.set_escalation(task, timer.at)
            else:
                recipients = (f"manager:{task.participant.ref}",)
            self.emit(
                fx.Notify(
                    {
                        TimerKind.DUE: "overdue",
                        TimerKind.REMINDER: "reminder",
                        TimerKind.ESCALATE: "escalated",
                    }[timer.kind],
                    recipients,
                    task_id=task.id,
                    stage=task.stage,
                )
            )
        elif timer.kind is TimerKind.STALL:
            alert = self.d.stall_alert
            stage = timer.target.partition(":")[2]
            notify = tuple(alert.notify) if alert else ()
            self.emit(fx.Notify("stage_stalled", notify, stage=stage))
        else:
            run = self.step(timer.target)
            self.finish_step(run)
            self.after_step_change(run)

    def set_escalation(self, task: TaskRun, due_at: datetime) -> None:
        """After the deadline, tell the assignee's manager once the delay passes."""
        step = self.d.stage(task.stage).step(task.step)
        due = step.due if step else None
        span = (due.escalate_after if due else None) or self.d.escalate_after
        if span is not None and task.participant.kind == "user":
            self.set_timer(
                f"escalate:{task.id}",
                TimerKind.ESCALATE,
                max(self.after(due_at, span), self.now),
                task.id,
            )


def _overrides(changes: RoundChanges) -> dict[str, StepOverride]:
    keys = dict.fromkeys([*changes.add, *changes.remove, *changes.due])
    return {
        key: StepOverride(
            add=tuple(changes.add.get(key, ())),
            remove=tuple(changes.remove.get(key, ())),
            due_at=changes.due.get(key),
        )
        for key in keys
    }


# --- preview for the start form -------------------------------------------------------


@dataclass(frozen=True)
class PreviewStep:
    key: str
    name: Text
    kind: str
    runs: bool
    reason: str = ""  # why skipped, or why nobody can be assigned
    participants: tuple[Participant, ...] = ()
    unresolved: bool = False
    quorum: str | int = "all"
    tentative: bool = False  # its condition reads answers given later in the route


@dataclass(frozen=True)
class PreviewStage:
    key: str
    name: Text
    runs: bool
    reason: str = ""
    steps: tuple[PreviewStep, ...] = ()
    tentative: bool = False


def preview(
    definition: RouteDefinition, facts: Mapping[str, Any], resolve: Resolver
) -> list[PreviewStage]:
    """Which stages and steps would run for these values, and who would be asked.

    Conditions that read fields an earlier request_info or task step fills in are
    marked ``tentative``: the answer is not known when the process starts.
    """
    answered: set[str] = set()  # fields the route's own steps fill in
    stages: list[PreviewStage] = []

    def tentative(condition: Condition | None) -> bool:
        return condition is not None and bool(referenced_fields(condition) & answered)

    for stage in definition.stages:
        if stage.when is not None and not evaluate(stage.when, facts):
            reason = f"condition not met: {describe(stage.when)}"
            stages.append(
                PreviewStage(
                    stage.key, stage.name, False, reason, (), tentative(stage.when)
                )
            )
        else:
            steps = tuple(
                _preview_step(s, facts, resolve, tentative) for s in stage.steps
            )
            runs = any(s.runs for s in steps)
            stages.append(
                PreviewStage(
                    stage.key,
                    stage.name,
                    runs,
                    "" if runs else "every step is skipped",
                    steps,
                    tentative(stage.when),
                )
            )
        for step in stage.steps:
            if step.kind in (StepKind.REQUEST_INFO, StepKind.TASK):
                answered.update(step.fields)
    return stages


def _preview_step(
    step: StepDef,
    facts: Mapping[str, Any],
    resolve: Resolver,
    tentative: Callable[[Condition | None], bool],
) -> PreviewStep:
    def make(
        runs: bool,
        reason: str = "",
        participants: tuple[Participant, ...] = (),
        unresolved: bool = False,
    ) -> PreviewStep:
        return PreviewStep(
            step.key,
            step.name,
            str(step.kind),
            runs,
            reason,
            participants,
            unresolved,
            step.effective_quorum(),
            tentative(step.when),
        )

    if step.when is not None and not evaluate(step.when, facts):
        return make(False, f"condition not met: {describe(step.when)}")
    if step.kind is StepKind.WAIT:
        if _as_date(facts.get(step.wait_until or "")) is None:
            return make(True, f'the date field "{step.wait_until}" is empty', (), True)
        return make(True)
    if step.kind not in HUMAN_KINDS:
        return make(True)
    found = (
        resolve(step.assignee)
        if step.assignee is not None
        else Unresolved("the step has no assignee")
    )
    if isinstance(found, Unresolved):
        return make(True, found.reason, (), True)
    if not found:
        return make(True, "nobody to assign", (), True)
    return make(True, "", tuple(found))
