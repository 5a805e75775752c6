"""Delivering the outbox by e-mail: at least once, with back-off, de-duplicated.

The worker calls :func:`notifications_deliver_due` in a loop (and
``sogla.notifications.digests.notifications_send_digests`` now and then). A row goes

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
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.mail import get_connection
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from sogla.notifications.kinds import kind_for, load_facts
from sogla.notifications.messages import build_email, recipient_address
from sogla.notifications.models import DIGEST_KIND, Notification, NotificationState
from sogla.orgs.models import NotificationMode, NotificationPreference

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


def db_retry(work: Callable[[], T]) -> T:
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


def _preference(*modes: str) -> Exists:
    """The row's recipient chose one of ``modes`` for the row's kind."""
    return Exists(
        NotificationPreference.objects.filter(
            user_id=OuterRef("recipient_user_id"), kind=OuterRef("kind"), mode__in=modes
        )
    )


def waiting_for_digest() -> Q:
    """Rows that wait for their recipient's daily digest (the digest itself not):
    the kind set to the digest, or the digest chosen for e-mails in general and
    nothing else for this kind. A row with a calendar invitation (``ics``) never
    waits: the digest could not carry its attachment."""
    digest = NotificationMode.DIGEST
    chosen = _preference(digest) | (
        Q(recipient_user__email_mode=digest)
        & ~_preference(NotificationMode.IMMEDIATE, NotificationMode.OFF)
    )
    return chosen & ~Q(kind=DIGEST_KIND) & ~Q(context__has_key="ics")


def _turned_off(rows: Sequence[Notification]) -> set[tuple[int, str]]:
    """(user, kind) pairs of ``rows`` whose recipient turned that kind's e-mail off."""
    users = {row.recipient_user_id for row in rows if row.recipient_user_id}
    if not users:
        return set()
    return set(
        NotificationPreference.objects.filter(
            user_id__in=users,
            kind__in={row.kind for row in rows},
            mode=NotificationMode.OFF,
        ).values_list("user_id", "kind")
    )


def claim(
    *, now: datetime, limit: int, only: Iterable[int] | None = None
) -> list[Notification]:
    """Lease up to ``limit`` due rows to this worker and return them, loaded."""
    lease = now + _lease()

    def lease_ids() -> list[int]:
        with transaction.atomic():
            queue = Notification.objects.filter(_due(now))
            if only is not None:
                queue = queue.filter(pk__in=list(only))
            else:
                queue = queue.exclude(waiting_for_digest())
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

    ids = db_retry(lease_ids)
    if not ids:
        return []
    return list(
        Notification.objects.filter(
            pk__in=ids, state=_State.IN_PROGRESS, lease_until=lease
        )
        .select_related(*_RELATED)
        .order_by("next_attempt_at", "pk")
    )


# --- finishing a row (each update guarded by the lease) ------------------------------------


def _finish(row: Notification, **values: Any) -> bool:
    def update() -> int:
        return Notification.objects.filter(
            pk=row.pk, state=_State.IN_PROGRESS, lease_until=row.lease_until
        ).update(**values)

    done = db_retry(update) == 1
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


def _why_not_send(
    row: Notification, facts: Any, off: set[tuple[int, str]] | None = None
) -> tuple[str, str] | None:
    """(state, reason) when the row must not be mailed, else None."""
    stale = kind_for(row.kind).why_stale(row, facts)
    if stale is not None:
        return _State.CANCELLED, stale
    if off and (row.recipient_user_id, row.kind) in off:
        return _State.SKIPPED, "the recipient turned this kind of e-mail off"
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

    def send(self, row: Notification, facts: Any) -> None:
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


def deliver(
    rows: list[Notification],
    *,
    now: datetime,
    after_send: Callable[[Notification], None] | None,
) -> int:
    facts = load_facts(rows)
    off = _turned_off(rows)
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
            row_facts = facts.get(row.pk)
            skip = _why_not_send(row, row_facts, off)
            if skip is not None:
                state, reason = skip
                _finish(row, state=state, lease_until=None, last_error=reason)
                continue
            try:
                mailer.open()
            # Blind on purpose: any failure of the mail server (SMTP, socket, TLS, a
            # backend's own error) is one failed attempt with a backoff, not a crash.
            except Exception as error:  # noqa: BLE001
                # One attempt for this row; the rest wait as long, untried.
                _failed(row, error, now)
                _release(rows[index + 1 :], now + backoff(row.attempts + 1))
                break
            try:
                mailer.send(row, row_facts)
            # Blind on purpose: one row that cannot be sent must not stop the batch.
            except Exception as error:  # noqa: BLE001
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
    chose the daily digest are left for ``digests.notifications_send_digests``.
    """
    now = now or timezone.now()
    rows = claim(now=now, limit=limit)
    if not rows:
        return 0
    return deliver(rows, now=now, after_send=after_send)
