"""A changed working calendar: the open tasks' deadlines computed again (``Reschedule``).

A task's deadline was computed when its step gave it out (``Clock.due_at`` at that
moment, with the calendar of that moment). When the calendar changes (a holiday
added or removed, other working days or hours), ``reschedule`` computes it again
from the same moment with the calendar the context now carries; where it differs,
the task's deadline moves, its deadline and reminder timers follow, an overdue
task whose deadline moved into the future is no longer overdue (its escalation
is dropped), and one still overdue gets its escalation from the new deadline. The
assignee is told (``DeadlineMoved``).

Left alone: tasks without a deadline, deadlines the initiator set by hand for the
round (``StepOverride.due_at``), and deadlines read from a date field that no
longer gives a date.
"""

from __future__ import annotations

from datetime import datetime

from sogla.engine import effects as fx
from sogla.engine.deadlines import Clock, NoDeadline
from sogla.engine.states import TaskRun, TaskState, TimerKind
from sogla.engine.working import WorkingCopy


def given_at(w: WorkingCopy, task: TaskRun) -> datetime:
    """When the task's step gave out its deadline: the first task of the same step
    and round (a reassigned or delegated task keeps the deadline of the one it
    replaced; a step resolved by hand opened its tasks then)."""
    same_step = (
        t.created_at
        for t in w.s.tasks.values()
        if (t.round, t.stage, t.step) == (task.round, task.stage, task.step)
        and t.state is not TaskState.CARRIED_OVER
    )
    return min(same_step, default=task.created_at)


def new_deadline(w: WorkingCopy, task: TaskRun) -> datetime | None:
    """The task's deadline by the context's calendar, or None to leave it."""
    step = w.d.step(task.stage, task.step)
    if task.due_at is None or step is None or step.due is None:
        return None
    override = w.s.overrides.get(f"{task.stage}.{task.step}")
    if override is not None and override.due_at is not None:
        return None
    since = given_at(w, task).astimezone(w.now.tzinfo)
    clock = Clock(since, w.ctx.calendar)
    found = clock.due_at(step.due, w.ctx.zone(task.participant), w.facts)
    return None if isinstance(found, NoDeadline) else found


def reschedule(w: WorkingCopy) -> None:
    """Move the deadlines a changed calendar moves (see the module docstring)."""
    for task_id in list(w.s.open_tasks):
        task = w.s.tasks[task_id]
        due_at = new_deadline(w, task)
        if due_at is None or task.due_at is None or due_at == task.due_at:
            continue
        was = task.due_at
        moved = w.task(task_id)
        moved.due_at = due_at
        if moved.overdue and due_at <= w.now:
            _escalate_again(w, moved, due_at)
        else:
            plan_again(w, moved, due_at)
        w.emit(fx.DeadlineMoved(task_id, task.participant, was, due_at))


def plan_again(w: WorkingCopy, task: TaskRun, due_at: datetime) -> None:
    """A deadline to come (or one just passed, which the worker fires at once)."""
    had_reminder = f"remind:{task.id}" in w.s.timers
    task.overdue = False
    w.cancel_timer(f"escalate:{task.id}")
    w.cancel_timer(f"remind:{task.id}")
    w.set_timer(f"due:{task.id}", TimerKind.DUE, due_at, task.id)
    if not had_reminder:
        return  # reminded already (or never): not twice
    step = w.d.step(task.stage, task.step)
    since = given_at(w, task).astimezone(w.now.tzinfo)
    remind_at = Clock(since, w.ctx.calendar).remind_at(
        step.due if step else None, due_at
    )
    if remind_at is not None and remind_at > w.now:
        w.set_timer(f"remind:{task.id}", TimerKind.REMINDER, remind_at, task.id)


def _escalate_again(w: WorkingCopy, task: TaskRun, due_at: datetime) -> None:
    """Still overdue: a pending escalation counts from the new deadline."""
    timer_id = f"escalate:{task.id}"
    timer = w.s.timers.get(timer_id)
    step = w.d.step(task.stage, task.step)
    span = (step.due.escalate_after if step and step.due else None) or (
        w.d.escalate_after
    )
    if timer is None or span is None:
        return
    at = w.clock.escalate_at(due_at, span)
    if at != timer.at:
        w.set_timer(timer_id, TimerKind.ESCALATE, at, task.id)
