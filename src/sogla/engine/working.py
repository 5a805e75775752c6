"""The working copy a command changes: the process state plus the effects so far.

``WorkingCopy`` copies the input state shallowly and copies a task, step or stage
run the first time the command changes it (copy on write), so the caller's state is
never changed and a command costs what it touches. It knows how to edit the state
(open and close tasks, set and cancel timers, carry a decision over) and records the
effect of each edit; *when* to do what is the state machine's business
(``run._Run``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sogla.engine import effects as fx
from sogla.engine.context import Context
from sogla.engine.deadlines import Clock
from sogla.engine.definition import RouteDefinition, StageDef, StepDef
from sogla.engine.effects import Effect
from sogla.engine.states import (
    REVISION_STEP,
    Participant,
    ProcessState,
    ProcessStatus,
    StageRun,
    StepRun,
    TaskRun,
    TaskState,
    TimerKind,
    TimerRun,
)


class WorkingCopy:
    def __init__(
        self, definition: RouteDefinition, state: ProcessState, ctx: Context
    ) -> None:
        self.d = definition
        self.s = state.clone()
        self.ctx = ctx
        self.clock = Clock(ctx.now, ctx.calendar)
        self.facts: Mapping[str, Any] = ctx.facts
        self.effects: list[Effect] = []
        self._own_tasks: set[str] = set()
        self._own_steps: set[str] = set()
        self._own_stages: set[str] = set()

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

    def stage_steps(self, stage: StageDef) -> list[tuple[StepDef, StepRun]]:
        """The steps of ``stage`` with their runs in the current round."""
        round_ = self.s.round
        return [
            (step, self.s.steps[f"{round_}:{stage.key}:{step.key}"])
            for step in stage.steps
        ]

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

    def cancel_task_timers(self, task_id: str) -> None:
        for kind in ("due", "remind", "escalate"):
            self.cancel_timer(f"{kind}:{task_id}")

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
        """A new open task (``step`` None: the initiator's revision task), with its
        deadline and reminder timers."""
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
            remind_at = self.clock.remind_at(step.due if step else None, due_at)
            if remind_at is not None:
                self.set_timer(
                    f"remind:{task.id}", TimerKind.REMINDER, remind_at, task.id
                )
        return task

    def close_task(self, task_id: str, state: TaskState, reason: str) -> None:
        task = self.task(task_id)
        task.state = state
        task.closed_reason = reason
        self.s.open_tasks.remove(task_id)
        self.cancel_task_timers(task_id)
        self.emit(fx.CloseTask(task_id, state.value, reason=reason))

    def close_all_open_tasks(self, reason: str) -> None:
        for task_id in list(self.s.open_tasks):
            self.close_task(task_id, TaskState.CANCELLED, reason)

    def carry_over(
        self,
        run: StepRun,
        previous: TaskRun,
        person: Participant,
        *,
        files_changed: bool = False,
    ) -> TaskRun:
        """Copy a previous round's decision into ``run`` for the same person
        (``files_changed``: it was given on other files than this round's)."""
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
                files_changed=files_changed,
            )
        )
        return task

    def finish(self, status: ProcessStatus) -> None:
        self.s.status = status
        self.s.finished_at = self.now
        self.emit(fx.ProcessFinished(status.value))
