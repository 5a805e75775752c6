"""Delivering the outbox by e-mail: at least once, with back-off, de-duplicated.

The worker calls :func:`notifications_deliver_due` in a loop and
:func:`notifications_send_digests` now and then. A row goes

    pending --claim--> in_progress (leased) --SMTP ok--> sent
                            |--SMTP error--> pending (attempts+1, back-off) ... failed
                            |--task already decided--> cancelled
                            '--nobody to mail--> skipped (still shown in the app)

The claim is a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share the queue); the SMTP conversation happens outside any
transaction; the final update is guarded by the lease, so a worker whose lease ran
out cannot overwrite the row a newer worker owns. A worker killed between the SMTP
"250 OK" and the final update leaves the row ``in_progress``; when the lease expires
it is sent again (the only duplicate possible, and it carries the same
``Message-ID``). Lock conflicts and serialisation failures of the database are
retried and never count as delivery attempts.
"""

from __future__ import annotations

import contextlib
import logging
import time
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.mail import get_connection
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from sogla.notifications.messages import (
    TASK_BOUND_KINDS,
    Facts,
    build_email,
    recipient_address,
)
from sogla.notifications.models import DIGEST_KIND, Notification, NotificationState

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 8
# Wait after the n-th failed attempt (the last value repeats).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
    timedelta(hours=24),
)


def _lease() -> timedelta:
    """How long a claimed row is this worker's (``SOGLA_NOTIFICATION_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)


DB_RETRIES = 6
ERROR_MAX = 2000

_State = NotificationState
_RELATED = (
    "organisation",
    "recipient_user__organisation",
    "document__doc_type",
    "document__counterparty",
    "document__initiator",
)


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts (1 -> 1 min, 2 -> 5 min, ...)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def _db_retry(work: Callable[[], T]) -> T:
    """Run ``work`` (its own transaction), again on a lock conflict or a
    serialisation failure; these are not delivery attempts."""
    for attempt in range(DB_RETRIES):
        try:
            return work()
        except OperationalError:
            if attempt == DB_RETRIES - 1:
                raise
            logger.info("notification delivery: database busy, retrying")
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


# --- claiming ------------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(state=_State.PENDING, next_attempt_at__lte=now) | Q(
        state=_State.IN_PROGRESS, lease_until__lt=now
    )


def _waiting_for_digest() -> Q:
    """Rows of users who chose the daily digest wait for it (the digest itself not)."""
    return Q(recipient_user__email_mode="digest") & ~Q(kind=DIGEST_KIND)


def _claim(
    *, now: datetime, limit: int, only: Iterable[int] | None = None
) -> list[Notification]:
    """Lease up to ``limit`` due rows to this worker and return them, loaded."""
    lease = now + _lease()

    def claim() -> list[int]:
        with transaction.atomic():
            queue = Notification.objects.filter(_due(now))
            if only is not None:
                queue = queue.filter(pk__in=list(only))
            else:
                queue = queue.exclude(_waiting_for_digest())
            queue = queue.order_by("next_attempt_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                queue = queue.select_for_update(skip_locked=True, of=("self",))
            ids = list(queue.values_list("pk", flat=True)[:limit])
            if not ids:
                return []
            # A lease that ran out: the worker died or hung while sending. That
            # counts as an attempt, so that a row that kills workers ends ``failed``.
            interrupted = Notification.objects.filter(
                pk__in=ids, state=_State.IN_PROGRESS, lease_until__lt=now
            )
            interrupted.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
                state=_State.FAILED,
                attempts=F("attempts") + 1,
                lease_until=None,
                last_error="delivery interrupted (worker stopped?) too many times",
            )
            interrupted.update(
                attempts=F("attempts") + 1,
                last_error="delivery interrupted (worker stopped?); sending again",
            )
            Notification.objects.filter(pk__in=ids).filter(_due(now)).update(
                state=_State.IN_PROGRESS, lease_until=lease
            )
            return ids

    ids = _db_retry(claim)
    if not ids:
        return []
    return list(
        Notification.objects.filter(
            pk__in=ids, state=_State.IN_PROGRESS, lease_until=lease
        )
        .select_related(*_RELATED)
        .order_by("next_attempt_at", "pk")
    )


# --- the facts each message needs, in a constant number of queries per batch ---------------


def _task_id(row: Notification) -> int | None:
    value = row.context.get("task") if isinstance(row.context, dict) else None
    return value if isinstance(value, int) else None


def _load_facts(rows: Sequence[Notification]) -> dict[int, Facts]:
    from sogla.workflow.models import Task, TaskState

    task_ids = {t for row in rows if (t := _task_id(row)) is not None}
    tasks = {
        task.pk: task
        for task in Task.objects.filter(pk__in=task_ids).select_related("assignee")
    }
    process_ids = {
        p
        for row in rows
        if row.kind != DIGEST_KIND
        and isinstance(row.context, dict)
        and isinstance(p := row.context.get("process"), int)
    }
    decisions: dict[int, list[Task]] = {}
    if process_ids:
        done = (
            Task.objects.filter(process_id__in=process_ids, state=TaskState.DONE)
            .select_related("decided_by", "process")
            .order_by("decided_at", "pk")
        )
        for task in done:
            # only the current round's decisions (earlier rounds are history)
            if task.round == task.process.round:
                decisions.setdefault(task.process_id, []).append(task)
    digest_items: dict[int, list[Notification]] = {}
    digest_ids = [row.pk for row in rows if row.kind == DIGEST_KIND]
    if digest_ids:
        for item in Notification.objects.filter(digest_id__in=digest_ids).order_by(
            "created_at", "pk"
        ):
            digest_items.setdefault(item.digest_id or 0, []).append(item)
    facts = {}
    for row in rows:
        task_id = _task_id(row)
        process_id = (
            row.context.get("process") if isinstance(row.context, dict) else None
        )
        facts[row.pk] = Facts(
            task=tasks.get(task_id) if task_id is not None else None,
            decisions=decisions.get(process_id, [])
            if isinstance(process_id, int)
            else [],
            items=digest_items.get(row.pk, []),
        )
    return facts


# --- finishing a row (each update guarded by the lease) ------------------------------------


def _finish(row: Notification, **values: Any) -> bool:
    def update() -> int:
        return Notification.objects.filter(
            pk=row.pk, state=_State.IN_PROGRESS, lease_until=row.lease_until
        ).update(**values)

    done = _db_retry(update) == 1
    if not done:
        logger.warning(
            "notification %s: the lease ran out before the worker finished", row.pk
        )
    return done


def _failed(row: Notification, error: BaseException | str, now: datetime) -> None:
    attempts = row.attempts + 1
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    if attempts >= MAX_ATTEMPTS:
        _finish(
            row,
            state=_State.FAILED,
            attempts=attempts,
            lease_until=None,
            last_error=text[:ERROR_MAX],
        )
        logger.error("notification %s failed for good: %s", row.pk, text)
        return
    _finish(
        row,
        state=_State.PENDING,
        attempts=attempts,
        lease_until=None,
        next_attempt_at=now + backoff(attempts),
        last_error=text[:ERROR_MAX],
    )
    logger.warning("notification %s: attempt %s failed: %s", row.pk, attempts, text)


def _release(rows: Iterable[Notification], at: datetime) -> None:
    """Give rows back untried (not an attempt): the SMTP server is unreachable."""
    for row in rows:
        _finish(row, state=_State.PENDING, lease_until=None, next_attempt_at=at)


def _why_not_send(row: Notification, facts: Facts) -> tuple[str, str] | None:
    """(state, reason) when the row must not be mailed, else None."""
    from sogla.workflow.models import TaskState

    if row.kind in TASK_BOUND_KINDS:
        task = facts.task
        if task is None or task.state != TaskState.OPEN:
            return _State.CANCELLED, "the task was decided or closed before delivery"
    user = row.recipient_user
    if user is not None and not user.is_active:
        return _State.SKIPPED, "the recipient is no longer active"
    if not recipient_address(row):
        return _State.SKIPPED, "the recipient has no e-mail address"
    return None


class _Mailer:
    """One SMTP connection for a batch, reopened after an error."""

    def __init__(self) -> None:
        self._connection: Any = None

    def open(self) -> None:
        """Connect (and log in) unless connected; raises when the server is away."""
        if self._connection is None:
            made = get_connection(fail_silently=False)
            made.open()
            self._connection = made

    def send(self, row: Notification, facts: Facts) -> None:
        message = build_email(row, facts)
        self.open()
        message.connection = self._connection
        try:
            message.send(fail_silently=False)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a broken connection
                self._connection.close()
            self._connection = None


def _deliver(
    rows: list[Notification],
    *,
    now: datetime,
    after_send: Callable[[Notification], None] | None,
) -> int:
    facts = _load_facts(rows)
    started = time.monotonic()
    budget = _lease().total_seconds() / 2
    mailer = _Mailer()
    sent = 0
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - started > budget:
                # The lease would run out while sending: let another round take them.
                _release(rows[index:], now)
                break
            row_facts = facts[row.pk]
            skip = _why_not_send(row, row_facts)
            if skip is not None:
                state, reason = skip
                _finish(row, state=state, lease_until=None, last_error=reason)
                continue
            try:
                mailer.open()
            except Exception as error:
                # One attempt for this row; the rest wait as long, untried.
                _failed(row, error, now)
                _release(rows[index + 1 :], now + backoff(row.attempts + 1))
                break
            try:
                mailer.send(row, row_facts)
            except Exception as error:
                _failed(row, error, now)
                continue
            if after_send is not None:
                after_send(row)
            if _finish(
                row,
                state=_State.SENT,
                sent_at=now,
                lease_until=None,
                last_error="",
            ):
                sent += 1
    finally:
        mailer.close()
    return sent


# --- the public API ----------------------------------------------------------------------------


def notifications_deliver_due(
    *,
    now: datetime | None = None,
    limit: int = 50,
    after_send: Callable[[Notification], None] | None = None,
) -> int:
    """Send up to ``limit`` due notifications by e-mail; the number sent.

    ``after_send(row)`` runs right after the SMTP server accepted a message and
    before the row is marked sent (a hook for fault injection). Rows of users who
    chose the daily digest are left for :func:`notifications_send_digests`.
    """
    now = now or timezone.now()
    rows = _claim(now=now, limit=limit)
    if not rows:
        return 0
    return _deliver(rows, now=now, after_send=after_send)


def _user_zone(user: Any) -> zoneinfo.ZoneInfo:
    org = user.organisation
    name = user.time_zone or (org.time_zone if org is not None else "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _cancel_stale_reminders(items: Sequence[Notification]) -> set[int]:
    """Task-bound items whose task is no longer open: cancelled, not digested."""
    from sogla.workflow.models import Task, TaskState

    bound = {row.pk: _task_id(row) for row in items if row.kind in TASK_BOUND_KINDS}
    if not bound:
        return set()
    open_ids = set(
        Task.objects.filter(
            pk__in=[t for t in bound.values() if t is not None], state=TaskState.OPEN
        ).values_list("pk", flat=True)
    )
    stale = {pk for pk, task in bound.items() if task not in open_ids}
    Notification.objects.filter(pk__in=stale, state=_State.PENDING).update(
        state=_State.CANCELLED,
        last_error="the task was decided or closed before delivery",
    )
    return stale


def _make_digest(user: Any, day: str, now: datetime) -> int | None:
    """The digest row of ``user`` for local ``day`` with their pending rows in it;
    None when it exists already or there is nothing to put in it."""
    key = f"digest:u{user.pk}:{day}"

    def make() -> int | None:
        with transaction.atomic():
            if Notification.objects.filter(
                organisation_id=user.organisation_id, idempotency_key=key
            ).exists():
                return None
            pending = Notification.objects.filter(
                organisation_id=user.organisation_id,
                recipient_user=user,
                state=_State.PENDING,
                created_at__lte=now,
            ).exclude(kind=DIGEST_KIND)
            if connection.features.has_select_for_update_skip_locked:
                pending = pending.select_for_update(skip_locked=True)
            items = list(pending.order_by("pk"))
            stale = _cancel_stale_reminders(items)
            items = [row for row in items if row.pk not in stale]
            if not items:
                return None
            digest = Notification(
                organisation_id=user.organisation_id,
                kind=DIGEST_KIND,
                recipient_user=user,
                context={"count": len(items), "day": day},
                idempotency_key=key,
                next_attempt_at=now,
            )
            Notification.objects.bulk_create([digest], ignore_conflicts=True)
            digest = Notification.objects.get(
                organisation_id=user.organisation_id, idempotency_key=key
            )
            Notification.objects.filter(
                pk__in=[row.pk for row in items], state=_State.PENDING
            ).update(state=_State.DIGESTED, digest=digest)
            return digest.pk

    return _db_retry(make)


def notifications_send_digests(*, now: datetime | None = None) -> int:
    """Send the daily digests that are due; the number of digest e-mails sent.

    A user who chose the digest gets, once their local clock has passed
    ``NOTIFICATION_DIGEST_HOUR``, one e-mail per local day with every notification
    still waiting for them. The digest is an outbox row itself (key
    ``digest:u<user>:<day>``), so a second call the same day sends nothing, and a
    failed send is retried like any other notification.
    """
    from sogla.orgs.models import EmailMode, User

    now = now or timezone.now()
    hour = settings.NOTIFICATION_DIGEST_HOUR
    waiting = (
        Notification.objects.filter(
            state=_State.PENDING, recipient_user__email_mode=EmailMode.DIGEST
        )
        .exclude(kind=DIGEST_KIND)
        .values("recipient_user_id")
    )
    users = User.objects.filter(
        pk__in=waiting, is_active=True, organisation__isnull=False
    ).select_related("organisation")
    digests: list[int] = []
    for user in users:
        local = now.astimezone(_user_zone(user))
        if local.hour < hour:
            continue
        made = _make_digest(user, local.date().isoformat(), now)
        if made is not None:
            digests.append(made)
    # Digests made earlier whose sending failed are retried by the normal delivery.
    if not digests:
        return 0
    rows = _claim(now=now, limit=len(digests), only=digests)
    return _deliver(rows, now=now, after_send=None) if rows else 0
