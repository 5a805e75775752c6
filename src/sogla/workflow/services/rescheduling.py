"""A changed working calendar moves the deadlines of open tasks (issue 13, item 8).

Whatever changes the calendar (the settings screen, the API, the admin, code) saves
a ``WorkingCalendar`` or ``CalendarDay`` row; the receivers below then run
``deadlines_reschedule`` for the organisation once the change commits (once per
transaction, however many rows it saved). Each running approval with open tasks
that have a deadline gets the engine's ``Reschedule`` with the new calendar, in its
own transaction (``pipeline.execute``): the engine computes (``engine.rescheduling``),
this applies (tasks, timers, a ``task.deadline_moved`` audit event and a notice to
the assignee for each moved deadline). An approval whose deadlines the change does
not move is not written at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from sogla.engine import effects as fx
from sogla.engine.commands import Reschedule
from sogla.engine.run import handle
from sogla.orgs.models import CalendarDay, WorkingCalendar
from sogla.workflow.models import Process, ProcessStatus, Task, TaskState
from sogla.workflow.services.pipeline import (
    NO_META,
    Answered,
    Done,
    Step,
    command_context,
    execute,
    lock_and_load,
)
from sogla.workflow.tenant import calendar_cache_clear


def deadlines_reschedule(org_id: int, *, now: datetime | None = None) -> int:
    """Recompute the deadlines of the organisation's open tasks with its calendar as
    it is now; returns how many deadlines moved."""
    calendar_cache_clear()  # this process reads the calendar just saved
    process_ids = (
        Process.objects.for_org(org_id)
        .filter(
            status=ProcessStatus.RUNNING,
            pk__in=Task.objects.for_org(org_id)
            .filter(state=TaskState.OPEN, due_at__isnull=False)
            .values("process_id"),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(
        execute(_prepare(process_id, org_id, now), actor=None, meta=NO_META)
        for process_id in list(process_ids)
    )


def _moved(done: Done) -> int:
    return sum(isinstance(e, fx.DeadlineMoved) for e in done.result.effects)


def _prepare(
    process_id: int, org_id: int, now: datetime | None
) -> Callable[[], Step[int] | Answered[int]]:
    def prepare() -> Step[int] | Answered[int]:
        command = Reschedule()
        loaded = lock_and_load(process_id, org_id, command)
        ctx = command_context(loaded, moment=now, with_files=False)
        if loaded.state.is_finished or not any(
            isinstance(e, fx.DeadlineMoved)
            for e in handle(loaded.definition, loaded.state, command, ctx).effects
        ):
            return Answered(0)  # nothing moves: the approval is not written
        return Step(loaded, command, ctx, answer=_moved)

    return prepare


_SCHEDULED = "sogla_reschedule_org"


def _after_commit(org_id: int) -> None:
    """Run ``deadlines_reschedule`` once the transaction commits, once per
    organisation and transaction."""
    connection = transaction.get_connection()
    for entry in connection.run_on_commit:
        if getattr(entry[1], _SCHEDULED, None) == org_id:
            return

    def run() -> None:
        setattr(run, _SCHEDULED, None)  # run: a later change needs a run of its own
        deadlines_reschedule(org_id)

    setattr(run, _SCHEDULED, org_id)
    transaction.on_commit(run)


@receiver(post_save, sender=WorkingCalendar)
@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def _calendar_changed(instance: Any, **_kwargs: Any) -> None:
    organisation_id = getattr(instance, "organisation_id", None)
    if organisation_id is not None:
        _after_commit(int(organisation_id))
