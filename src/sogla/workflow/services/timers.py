"""Timers: the sweep that fires due timers, and firing one (viewflow's ``timers.py``).

Two kinds of timer rows fire here. The engine's (a task's deadline, reminder and
escalation, a stalled stage, a ``wait`` step) go through the engine as
``TimerFired`` like any command (``pipeline.execute``). Field-date reminders (a
route's ``remind`` action, ``field_reminders``) outlive the process and do not
reach the engine: the date is checked again and the notice sent.

``timers_fire_due`` is what the worker runs. Each timer fires in its own
transaction: its process row is locked (skipped when busy) and the timer claimed
with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers can
sweep at once and a timer fires once in effect. A timer that fails for a reason of
its own (a poison timer) is recorded in ``incidents`` and backed off; the others
still fire.
"""

from __future__ import annotations

import random
from datetime import datetime

from django.db import DatabaseError, connection
from django.utils import timezone

from sogla.documents.models import FieldDef
from sogla.engine.commands import TimerFired
from sogla.engine.definition import Remind
from sogla.engine.run import Result
from sogla.workflow import repository
from sogla.workflow.effects import EffectApplier
from sogla.workflow.errors import ProcessConflict
from sogla.workflow.field_reminders import field_reminder_at
from sogla.workflow.incidents import timer_failed
from sogla.workflow.models import FIELD_REMINDER, Process, Timer, TimerState
from sogla.workflow.repository import Loaded
from sogla.workflow.services.pipeline import (
    NO_META,
    Answered,
    Event,
    Step,
    command_context,
    execute,
)
from sogla.workflow.tenant import local_now

# The audit event of an engine timer that concerns a task.
TIMER_AUDIT = {"due": "task.overdue", "escalate": "task.escalated"}


def timers_fire_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Fire up to ``limit`` due pending timers, oldest first; returns how many fired.

    The query reads the ``(state, due_at)`` index: pending timers that are not due
    cost nothing. The oldest ``limit`` are taken in a random order, so that two
    workers sweeping at once mostly take different timers instead of queuing
    behind each other on the same ones.
    """
    moment = now or timezone.now()
    due = list(
        Timer.objects.filter(state=TimerState.PENDING, due_at__lte=moment)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    random.shuffle(due)
    fired = 0
    for timer_id in due:
        try:
            fired += timer_fire(timer_id=timer_id, now=moment)
        except ProcessConflict:
            continue  # a decision changed the process meanwhile: the next sweep
        except DatabaseError:
            raise  # not the timer's fault: the worker backs off and sweeps again
        except Exception as error:  # noqa: BLE001, RUF100 - a poison timer must not stop the others (T46)
            timer_failed(timer_id, error, moment)
    return fired


def timer_fire(*, timer_id: int, now: datetime | None = None) -> bool:
    """Fire one timer; False when it was no longer pending (fired twice: no-op)."""
    timer = (
        Timer.objects.filter(pk=timer_id)
        .values("process_id", "organisation_id")
        .first()
    )
    if timer is None:
        return False

    def prepare() -> Step[bool] | Answered[bool]:
        process = _lock_for_timer(timer["process_id"], timer["organisation_id"])
        claimed = _claim_timer(timer_id) if process is not None else None
        if process is None or claimed is None:
            return Answered(False)
        if claimed.kind == FIELD_REMINDER:
            loaded = repository.load(process)
            return Answered(_field_reminder_fire(claimed, loaded, now))
        command = TimerFired(claimed.engine_id)
        loaded = repository.load(process, command)
        if claimed.engine_id not in loaded.state.timers:
            # Not in the state (the process ended): just close the row.
            Timer.objects.filter(pk=claimed.pk).update(
                state=TimerState.CANCELLED,
                fired_at=local_now(loaded.document.organisation, now),
            )
            return Answered(False)
        return Step(
            loaded,
            command,
            command_context(loaded, moment=now, with_files=False),
            answer=lambda _done: True,
            event=lambda result: _timer_event(claimed, loaded, result),
            fired_timer=claimed.engine_id,
        )

    return execute(prepare, actor=None, meta=NO_META)


def _timer_event(timer: Timer, loaded: Loaded, result: Result) -> Event | None:
    """``task.overdue`` or ``task.escalated`` for a task's timer; None otherwise."""
    verb = TIMER_AUDIT.get(timer.kind)
    if verb is None:
        return None
    task = result.state.tasks[timer.target]
    task_pk = loaded.task_pks.get(task.id)
    return Event(
        verb,
        {"task": task_pk, "assignee": task.participant.ref},
        target=str(task_pk or loaded.process.pk),
    )


def _lock_for_timer(process_id: int, organisation_id: int) -> Process | None:
    """The process row, or None when another worker or a decision holds it.

    On PostgreSQL a busy process is skipped (``SKIP LOCKED``): its timers are
    picked up by the next sweep, and two workers never wait on each other.
    """
    rows = Process.objects.select_related("route_version").filter(
        pk=process_id, organisation_id=organisation_id
    )
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("self",), skip_locked=True)
    return rows.first()


def _claim_timer(timer_id: int) -> Timer | None:
    row = Timer.objects.filter(pk=timer_id, state=TimerState.PENDING)
    if connection.features.has_select_for_update:
        row = row.select_for_update(skip_locked=True)
    return row.first()


def _field_reminder_fire(timer: Timer, loaded: Loaded, now: datetime | None) -> bool:
    """Send a field-date reminder, or move it when the date was changed since."""
    document = loaded.document
    moment = local_now(document.organisation, now)
    remind = Remind.model_validate(timer.payload)
    at, problem = field_reminder_at(document, remind, moment)
    applier = EffectApplier(loaded, None, NO_META)
    if at is None:
        Timer.objects.filter(pk=timer.pk).update(
            state=TimerState.CANCELLED, fired_at=moment
        )
        applier.audit(
            "process.reminder_skipped",
            {"field": remind.before_field, "reason": problem},
        )
        return False
    if at > moment:  # the date moved later: wait for the new moment
        Timer.objects.filter(pk=timer.pk).update(due_at=at)
        return False
    day = str((document.fields or {}).get(remind.before_field))[:10]
    labels = dict(
        FieldDef.objects.filter(doc_type_id=document.doc_type_id, key=timer.target)
        .values("label_ru", "label_en")
        .first()
        or {}
    )
    data = {"field": remind.before_field, "date": day, "days": remind.days, **labels}
    event = f"{timer.engine_id}:{day}"
    if not applier.notify(
        "field_reminder", remind.notify, event, data, route_words=True
    ):
        applier.notify("field_reminder", ["initiator"], event, data)
    applier.flush()
    Timer.objects.filter(pk=timer.pk).update(state=TimerState.FIRED, fired_at=moment)
    applier.audit("process.reminder_sent", {"field": remind.before_field, "date": day})
    return True
