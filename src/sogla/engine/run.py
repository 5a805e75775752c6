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

Around it: ``guards`` refuses a command before anything changes, ``working`` is the
copy of the state a command edits, ``quorum`` says when a step and a stage are done,
``deadlines`` computes due, reminder and escalation times, ``preview`` shows the start
form what would run. ``Context``, ``Unresolved``, ``preview`` and ``COUNTING`` are
re-exported here, where callers have always imported them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sogla.engine import editing, errors, guards
from sogla.engine import effects as fx
from sogla.engine.commands import (
    Cancel,
    Command,
    Decide,
    EditStep,
    Reassign,
    Reschedule,
    ResolveStep,
    Resubmit,
    RoundChanges,
    Start,
    TimerFired,
    Withdraw,
)
from sogla.engine.conditions import describe, evaluate
from sogla.engine.context import (
    Context,
    Resolver,
    Unresolved,
    as_date,
    why_not_a_date,
)
from sogla.engine.deadlines import NoDeadline
from sogla.engine.definition import (
    POSITIVE,
    Outcome,
    RouteDefinition,
    StageDef,
    StepDef,
    StepKind,
)
from sogla.engine.effects import Effect
from sogla.engine.preview import PreviewStage, PreviewStep, preview
from sogla.engine.quorum import COUNTING, quorum_met, stage_complete, unreachable
from sogla.engine.rescheduling import reschedule
from sogla.engine.states import (
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
from sogla.engine.working import WorkingCopy

__all__ = [
    "COUNTING",
    "Context",
    "PreviewStage",
    "PreviewStep",
    "Resolver",
    "Result",
    "Unresolved",
    "handle",
    "preview",
]


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
    if guards.check(definition, state, command):
        return Result(state, ())  # a repeat, a timer fired twice or cancelled: no-op
    run = _Run(definition, state, ctx)
    run.apply(command)
    return run.result()


class _Run(WorkingCopy):
    """The rules: which stages and steps open, finish, fail or close, and when."""

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

    def apply(self, command: Command) -> None:
        """Run a command the guards let through."""
        if isinstance(command, Decide):
            self.decide(command)
        elif isinstance(command, Resubmit):
            self.resubmit(command)
        elif isinstance(command, Withdraw):
            self.withdraw(command)
        elif isinstance(command, Cancel):
            self.cancel(command)
        elif isinstance(command, Reassign):
            self.reassign(command)
        elif isinstance(command, ResolveStep):
            self.resolve_step(command)
        elif isinstance(command, EditStep):
            self.edit_step(command)
        elif isinstance(command, TimerFired):
            self.timer_fired(self.s.timers[command.timer_id])
        elif isinstance(command, Reschedule):
            reschedule(self)

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
        if stage_complete(self.stage_steps(stage)):
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
        """Open a step: run a system step's actions, set a wait step's timer, or
        ask its people (``given``, or whom the resolver finds)."""
        run = self.step(f"{self.s.round}:{stage.key}:{step.key}")
        run.state = StepState.OPEN
        run.reason = ""
        if step.kind is StepKind.SYSTEM:
            for action in step.actions:
                self.emit(fx.RunAction(action, stage.key, step.key))
            self.finish_step(run)
        elif step.kind is StepKind.WAIT:
            self.start_wait(step, run)
        else:
            self.ask_people(stage, step, run, given)

    def start_wait(self, step: StepDef, run: StepRun) -> None:
        if step.wait_for is not None:
            at = self.clock.after(self.now, step.wait_for)
        else:
            raw = self.facts.get(step.wait_until or "")
            day = as_date(raw)
            if day is None:
                self.fail_step(
                    run, f'the date field "{step.wait_until}" {why_not_a_date(raw)}'
                )
                return
            at = self.clock.end_of(day + timedelta(days=step.wait_offset_days))
        self.set_timer(f"wait:{run.key}", TimerKind.WAIT, at, run.key)

    def ask_people(
        self,
        stage: StageDef,
        step: StepDef,
        run: StepRun,
        given: Sequence[Participant] | None,
    ) -> None:
        """Open a task per person, after carrying over last round's decisions."""
        override = self.s.overrides.get(f"{stage.key}.{step.key}", StepOverride())
        people = self.people(step, override) if given is None else list(given)
        if isinstance(people, Unresolved):
            self.fail_step(run, people.reason)
            return
        unique: dict[str, Participant] = {}
        for person in people:
            unique.setdefault(person.seat, person)
        reason = unreachable(run.quorum, len(unique)) if unique else "nobody to assign"
        if reason is not None:
            self.fail_step(run, reason)
            return
        for seat, previous in self.carried(stage, step).items():
            if seat in unique:
                changed = previous.files_sha256 != self.ctx.files_sha256
                person = unique.pop(seat)
                task = self.carry_over(run, previous, person, files_changed=changed)
                if changed:
                    self.emit(
                        fx.Notify("approval_carried", (person.ref,), task_id=task.id)
                    )
        if editing.merges(self.d, step):  # ``duplicates: merge``: asked once a round
            for seat, earlier in editing.decided_earlier(
                self.s, stage, step, self.ctx.files_sha256
            ).items():
                if seat in unique:
                    editing.merge_decision(self, run, earlier, unique.pop(seat))
            for seat, task_id in editing.open_in_stage(self.s, stage, step).items():
                if seat in unique:
                    del unique[seat]
                    run.task_ids.append(task_id)  # one task, counted here too
        # "all" needs the people not carried over too: ask them before counting.
        if (not unique or run.quorum != "all") and self.reached_quorum(run):
            self.finish_step(run)
            return
        for person in unique.values():
            due_at = override.due_at or self.due_at(stage, step, person)
            run.task_ids.append(self.open_task(stage.key, step, person, due_at).id)

    def people(
        self, step: StepDef, override: StepOverride
    ) -> list[Participant] | Unresolved:
        """Whom the resolver finds for the step, with the initiator's changes."""
        if step.assignee is None:
            return Unresolved("the step has no assignee")
        found = self.ctx.resolve(step.assignee)
        if isinstance(found, Unresolved):
            return found
        people = [p for p in found if p.seat not in override.remove]
        people.extend(override.add)
        return people

    def carried(self, stage: StageDef, step: StepDef) -> dict[str, TaskRun]:
        """Positive decisions of the previous round to carry over, by seat: on the
        same files, or (``not_approved_even_if_changed``) on any files, except a
        signature, which is given on the exact files."""
        mode = self.s.reask or self.d.on_return.reask
        if mode == "all" or self.s.round == 1:
            return {}
        any_files = mode == "not_approved_even_if_changed" and (
            step.kind is not StepKind.SIGN
        )
        if stage.key == self.s.sent_back_to:
            return {}  # the stage sent back to decides anew
        previous = self.s.step_run(stage.key, step.key, self.s.round - 1)
        if previous is None:
            return {}
        found: dict[str, TaskRun] = {}
        for task_id in previous.task_ids:
            task = self.s.tasks[task_id]
            positive = task.state is TaskState.CARRIED_OVER or (
                task.state is TaskState.DONE and task.outcome in POSITIVE
            )
            if positive and (any_files or task.files_sha256 == self.ctx.files_sha256):
                found[task.seat] = task
        return found

    def due_at(
        self, stage: StageDef, step: StepDef, person: Participant
    ) -> datetime | None:
        """The deadline in working time, at the end of the assignee's working day."""
        if step.due is None:
            return None
        due_at = self.clock.due_at(step.due, self.ctx.zone(person), self.facts)
        if isinstance(due_at, NoDeadline):
            self.emit(fx.DeadlineUnknown(stage.key, step.key, due_at.reason))
            return None
        return due_at

    def reached_quorum(self, run: StepRun) -> bool:
        return quorum_met(run.quorum, (self.s.tasks[t] for t in run.task_ids))

    def finish_step(self, run: StepRun) -> None:
        run.state = StepState.DONE
        for task_id in run.task_ids:
            if self.s.tasks[task_id].state is TaskState.OPEN and not self.shared_open(
                task_id, run
            ):
                self.close_task(task_id, TaskState.CLOSED_BY_QUORUM, "quorum reached")
        self.cancel_timer(f"wait:{run.key}")
        self.emit(fx.StepFinished(run.round, run.stage, run.step))
        step = self.d.step(run.stage, run.step)
        if step is not None and step.on_done is not None:
            self.emit(fx.RunAction(step.on_done, run.stage, run.step, on_done=True))

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

    def shared_open(self, task_id: str, run: StepRun) -> bool:
        """Another open step of the stage counts this task too (a merged person)."""
        return any(
            other.state is StepState.OPEN and task_id in other.task_ids
            for other in self.s.steps.values()
            if other is not run and (other.round, other.stage) == (run.round, run.stage)
        )

    def after_step_change(self, run: StepRun) -> None:
        """Finish the steps and the stage where the quorum allows, then move on
        (a merged person's decision may finish several steps)."""
        if run.state is StepState.OPEN and self.reached_quorum(run):
            self.finish_step(run)
        stage = self.d.stages[self.s.stage_index]
        for _, other in self.stage_steps(stage):
            if other.state is StepState.OPEN and self.reached_quorum(other):
                self.finish_step(self.step(other.key))
        if stage_complete(self.stage_steps(stage)):
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
        elif command.outcome == Outcome.RETURN_TO_STAGE:
            self.send_back(task, command.to_stage)
        elif command.outcome == Outcome.REJECT:
            self.end_current_stage("rejected")
            self.finish(ProcessStatus.REJECTED)
            self.emit(
                fx.SetStatus(meaning="failure"),
                fx.Notify("rejected", ("initiator",), task_id=task.id),
            )
        else:
            self.after_step_change(self.step(f"{task.round}:{task.stage}:{task.step}"))

    def return_process(self, task: TaskRun, comment: str | None = None) -> None:
        self.end_current_stage("returned")
        self.s.status = ProcessStatus.REVISION
        self.s.returned_from = task.stage
        self.emit(
            fx.ProcessReturned(
                task.round,
                task.stage,
                task.step,
                task.id,
                task.comment if comment is None else comment,
            )
        )
        self.open_task(task.stage, None, self.s.initiator, None)
        self.emit(
            fx.SetStatus(key=fx.RETURNED_STATUS_KEY, meaning="draft"),
            fx.Notify("returned", ("initiator",), task_id=task.id),
        )

    def send_back(self, task: TaskRun, to_stage: str) -> None:
        """A new round from the earlier stage ``to_stage``, without the initiator's
        revision: that stage's people are all asked again; later stages follow
        ``on_return.reask`` (``carried``). The initiator is told why."""
        self.end_current_stage("sent back")
        self.emit(
            fx.ProcessSentBack(
                task.round, task.stage, task.step, task.id, to_stage, task.comment
            ),
            fx.Notify(
                "sent_back",
                ("initiator",),
                task_id=task.id,
                stage=to_stage,
                data={"from_stage": task.stage, "comment": task.comment},
            ),
        )
        self.s.round += 1
        self.s.sent_back_to = to_stage
        # The initiator's choice of whom to ask again was for the round they
        # resubmitted; a send-back has no revision of theirs: the route's mode holds.
        self.s.reask = None
        self.emit(fx.RoundStarted(self.s.round))
        self.advance(self.d.stage_index(to_stage) or 0)

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
        self.s.reask = (
            command.reask
            if command.reask and command.reask != self.d.on_return.reask
            else None
        )
        self.s.round += 1
        self.s.sent_back_to = None
        self.s.status = ProcessStatus.RUNNING
        start = 0
        if self.d.on_return.restart == "same_stage" and self.s.returned_from:
            start = next(
                i for i, s in enumerate(self.d.stages) if s.key == self.s.returned_from
            )
        self.s.returned_from = None
        self.emit(fx.RoundStarted(self.s.round), fx.SetStatus(meaning="active"))
        self.advance(start)

    def withdraw(self, command: Withdraw) -> None:
        """Take back a carried-over approval: ask the person again while its stage
        runs; once the stage has finished, return the document to the initiator."""
        carried = self.task(command.task_id)
        carried.state = TaskState.CANCELLED
        carried.closed_reason = "withdrawn"
        self.emit(
            fx.CloseTask(carried.id, TaskState.CANCELLED.value, reason="withdrawn")
        )
        stage = self.d.stages[self.s.stage_index]
        stage_run = self.s.stage_run(carried.stage)
        step = stage.step(carried.step) if stage.key == carried.stage else None
        if step is None or stage_run is None or stage_run.state is not StageState.OPEN:
            self.emit(
                fx.ApprovalWithdrawn(carried.id, command.actor.ref, command.comment)
            )
            self.return_process(carried, command.comment)
            return
        run = self.step(f"{carried.round}:{carried.stage}:{carried.step}")
        run.state = StepState.OPEN
        person = Participant(
            carried.participant.kind, carried.participant.id, carried.on_behalf_of
        )
        override = self.s.overrides.get(f"{stage.key}.{step.key}", StepOverride())
        due_at = override.due_at or self.due_at(stage, step, person)
        reopened = self.open_task(stage.key, step, person, due_at)
        run.task_ids.append(reopened.id)
        self.emit(
            fx.ApprovalWithdrawn(
                carried.id, command.actor.ref, command.comment, reopened.id
            ),
            fx.Notify(
                "approval_withdrawn",
                ("initiator",),
                task_id=reopened.id,
                data={"comment": command.comment},
            ),
        )

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
        step = guards.current_step(stage, old.step)
        run = self.step(f"{old.round}:{old.stage}:{old.step}")
        new = self.open_task(stage.key, step, command.to, old.due_at).id
        run.task_ids.append(new)
        for _, other in self.stage_steps(stage):  # steps sharing the task (merged)
            if other is not run and old.id in other.task_ids:
                self.step(other.key).task_ids.append(new)

    def edit_step(self, command: EditStep) -> None:
        stage = self.d.stage(command.stage)
        step = guards.current_step(stage, command.step)
        run = editing.edit_step(
            self, command, stage, step, lambda person: self.due_at(stage, step, person)
        )
        if run is not None:
            self.after_step_change(run)

    def resolve_step(self, command: ResolveStep) -> None:
        stage = self.d.stages[self.s.stage_index]
        step = guards.current_step(stage, command.step)
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
        step = self.d.step(task.stage, task.step)
        due = step.due if step else None
        span = (due.escalate_after if due else None) or self.d.escalate_after
        if span is not None and task.participant.kind == "user":
            self.set_timer(
                f"escalate:{task.id}",
                TimerKind.ESCALATE,
                self.clock.escalate_at(due_at, span),
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
