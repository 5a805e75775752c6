"""Poison timers: a timer whose firing keeps failing becomes an incident (T46).

A failure that is not the database's (a bug, bad data) must not stop the worker or
starve other timers: the timer is retried with exponential back-off, and after
``MAX_ATTEMPTS`` it is marked ``failed`` with its error, visible to administrators in
the admin (Timers), who retry it after the fix. Lock conflicts are not failures: the
sweep skips a busy process and the next sweep takes it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sogla.core.audit import audit_record
from sogla.orgs.models import User
from sogla.workflow.models import Timer, TimerState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
ERROR_MAX = 2000


def timer_failed(timer_id: int, error: BaseException, now: datetime) -> None:
    """Record a failed firing: back off, or after the last attempt, an incident."""
    logger.error("timer %s failed: %r", timer_id, error, exc_info=error)
    text = "".join(traceback.format_exception_only(error)).strip()[:ERROR_MAX]
    with transaction.atomic():
        timer = (
            Timer.objects.select_for_update()
            .filter(pk=timer_id, state=TimerState.PENDING)
            .first()
        )
        if timer is None:
            return
        timer.attempts += 1
        timer.last_error = text
        if timer.attempts >= MAX_ATTEMPTS:
            timer.state = TimerState.FAILED
        else:
            timer.due_at = now + BACKOFF[min(timer.attempts, len(BACKOFF)) - 1]
        timer.save(update_fields=["attempts", "last_error", "state", "due_at"])


@transaction.atomic
def timers_retry(*, actor: User, timers: Iterable[Timer]) -> int:
    """An administrator puts failed timers of their organisation back to pending."""
    org_id = actor.organisation_id
    if org_id is None:
        return 0
    ids = [t.pk for t in timers if t.organisation_id == org_id]
    rows = Timer.objects.filter(
        pk__in=ids, organisation_id=org_id, state=TimerState.FAILED
    )
    retried = list(rows.values_list("pk", "process__document_id"))
    rows.update(
        state=TimerState.PENDING, attempts=0, last_error="", due_at=timezone.now()
    )
    for pk, document_id in retried:
        audit_record(
            organisation_id=org_id,
            verb="timer.retried",
            actor=actor,
            target_type="timer",
            target_id=str(pk),
            document_id=document_id,
            payload={"timer": pk},
        )
    return len(retried)
