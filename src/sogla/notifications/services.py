"""Commands on the outbox (rule I2): queueing, read marks, resending.

Delivery is the worker's job (``sogla.notifications.delivery``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from sogla.core.audit import audit_record, insert_with_events
from sogla.core.prepared import insert_rows
from sogla.notifications.models import Notification, NotificationState

if TYPE_CHECKING:
    from sogla.orgs.models import User

IDEMPOTENCY_KEY_MAX = 200


def notification_enqueue(
    *,
    organisation_id: int,
    kind: str,
    recipient_user: User | None = None,
    recipient_email: str = "",
    document_id: int | None = None,
    context: Mapping[str, Any],
    idempotency_key: str,
) -> Notification:
    """Queue a notification in the caller's transaction; it is sent after commit.

    Idempotent: a second call with the same ``idempotency_key`` in the organisation
    inserts nothing and returns the row queued first (even when two transactions
    race: PostgreSQL's ON CONFLICT DO NOTHING waits for the other one).
    """
    return _insert_once(
        notification_build(
            organisation_id=organisation_id,
            kind=kind,
            recipient_user=recipient_user,
            recipient_email=recipient_email,
            document_id=document_id,
            context=context,
            idempotency_key=idempotency_key,
        )
    )


def notification_build(
    *,
    organisation_id: int,
    kind: str,
    recipient_user: User | None = None,
    recipient_email: str = "",
    document_id: int | None = None,
    context: Mapping[str, Any],
    idempotency_key: str,
) -> Notification:
    """The unsaved row ``notification_enqueue`` would insert (same checks), for
    ``notifications_enqueue_many``."""
    if not kind:
        msg = "a notification needs a kind"
        raise ValueError(msg)
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        msg = f"idempotency_key must have 1 to {IDEMPOTENCY_KEY_MAX} characters"
        raise ValueError(msg)
    if recipient_user is None and not recipient_email:
        msg = "a notification needs a recipient user or e-mail"
        raise ValueError(msg)
    return Notification(
        organisation_id=organisation_id,
        kind=kind,
        recipient_user=recipient_user,
        recipient_email=recipient_email,
        document_id=document_id,
        context=dict(context),
        idempotency_key=idempotency_key,
    )


def notifications_enqueue_many(
    rows: Sequence[Notification], *, with_events: bool = False
) -> None:
    """Queue rows from ``notification_build`` with one INSERT, idempotently as
    ``notification_enqueue`` does (a key already queued, or repeated in ``rows``,
    inserts nothing), without reading the rows back. ``with_events``, inside
    ``audit_batch`` (a workflow command): the rows go in with the command's audit
    events when the batch ends, in the same transaction and on PostgreSQL in the
    same statement; for a caller that does not read them before then."""
    if not (with_events and insert_with_events(rows, ignore_conflicts=True)):
        insert_rows(list(rows), ignore_conflicts=True)  # bulk_create, by hand


@transaction.atomic(savepoint=False)
def _insert_once(row: Notification) -> Notification:
    Notification.objects.bulk_create([row], ignore_conflicts=True)
    return Notification.objects.for_org(row.organisation_id).get(
        idempotency_key=row.idempotency_key
    )


# --- in-app: read marks -----------------------------------------------------------------


def notifications_mark_read(
    *, actor: User, ids: Sequence[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the actor's own notifications read (all unread ones when ``ids`` is
    None); ids of anyone else's rows are ignored. The number marked."""
    if actor.organisation_id is None:
        return 0
    rows = Notification.objects.for_org(actor.organisation_id).filter(
        recipient_user=actor, read_at__isnull=True
    )
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=now or timezone.now())


# --- admin: resending -------------------------------------------------------------------

RESENDABLE = frozenset(
    {NotificationState.FAILED, NotificationState.SENT, NotificationState.SKIPPED}
)


def _resend_key(row: Notification, number: int) -> str:
    key = f"resend{number}:{row.idempotency_key}"
    if len(key) > IDEMPOTENCY_KEY_MAX:
        digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:40]
        key = f"resend{number}:{row.pk}:{digest}"
    return key


@transaction.atomic
def notification_resend(
    *, actor: User | None, notification: Notification
) -> Notification:
    """Send a notification again (an administrator's command).

    A failed (or skipped) row goes back to ``pending`` with a fresh attempt budget.
    A sent row stays as it is, as evidence, and a new row is queued with a key
    derived from the old one (``resend<n>:<key>``); the new row is an e-mail only,
    not a second item in the recipient's bell.
    """
    row = Notification.objects.select_for_update().get(pk=notification.pk)
    if row.state not in RESENDABLE:
        raise ValueError(f"a {row.state} notification is not resent")
    if row.state == NotificationState.SENT:
        number = Notification.objects.filter(resent_from=row).count() + 1
        again = notification_enqueue(
            organisation_id=row.organisation_id,
            kind=row.kind,
            recipient_user=row.recipient_user,
            recipient_email=row.recipient_email,
            document_id=row.document_id,
            context=row.context,
            idempotency_key=_resend_key(row, number),
        )
        Notification.objects.filter(pk=again.pk, resent_from__isnull=True).update(
            resent_from=row
        )
        again.refresh_from_db()
    else:
        Notification.objects.filter(pk=row.pk).update(
            state=NotificationState.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            lease_until=None,
        )
        again = Notification.objects.get(pk=row.pk)
    audit_record(
        organisation_id=row.organisation_id,
        verb="notification.resent",
        actor=actor,
        target_type="notification",
        target_id=row.pk,
        document_id=row.document_id,
        payload={"kind": row.kind, "state": row.state, "queued": again.pk},
    )
    return again
