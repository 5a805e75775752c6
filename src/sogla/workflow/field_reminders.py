"""Field-date reminders: a route's ``remind`` action ("30 days before the end date,
remind the responsible person").

Unlike the engine's timers they outlive the process: one pending ``Timer`` row of
kind ``FIELD_REMINDER`` per document, field and lead time, due at the start of the
working day ``days`` before the date in the field. ``schedule`` is applied with the
effects of the command that ran the action (``effects.EffectApplier``); the timer
sweep (``services.timers``) fires the row, checking the date again, as the field
may have changed since.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sogla.documents.models import Document
from sogla.engine.definition import Remind
from sogla.workflow.models import FIELD_REMINDER, Process, Timer, TimerState
from sogla.workflow.tenant import local_now, organisation_calendar


def field_reminder_at(
    document: Document, remind: Remind, now: datetime | None = None
) -> tuple[datetime | None, str]:
    """When a field-date reminder is due (9 o'clock local), or None and why not."""
    moment = local_now(document.organisation, now)
    raw = (document.fields or {}).get(remind.before_field)
    if raw in (None, ""):
        return None, f'the date field "{remind.before_field}" is empty'
    try:
        day = date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None, f'the field "{remind.before_field}" is not a date'
    if day < moment.date():
        return None, f'the date in "{remind.before_field}" has passed'
    calendar = organisation_calendar(document.organisation)
    at = datetime.combine(
        day - timedelta(days=remind.days), calendar.day_starts, moment.tzinfo
    )
    return max(at, moment), ""


def schedule(
    process: Process, document: Document, remind: Remind
) -> tuple[datetime | None, str]:
    """One reminder per document, field and lead time: a new approval of the same
    document replaces the pending one. Returns when it is due, or None and why
    not (an empty or past date), which the caller records on the card."""
    engine_id = f"{FIELD_REMINDER}:{remind.before_field}:{remind.days}"
    Timer.objects.filter(
        organisation_id=process.organisation_id,
        process__document_id=document.pk,
        kind=FIELD_REMINDER,
        engine_id=engine_id,
        state=TimerState.PENDING,
    ).update(state=TimerState.CANCELLED)
    at, problem = field_reminder_at(document, remind)
    if at is not None:
        Timer.objects.create(
            organisation_id=process.organisation_id,
            process=process,
            engine_id=engine_id,
            kind=FIELD_REMINDER,
            target=remind.before_field,
            due_at=at,
            payload=remind.model_dump(),
        )
    return at, problem
