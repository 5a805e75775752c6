"""Putting notifications into the outbox (rule I2). Delivery is a separate job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction

from sogla.notifications.models import Notification

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
    if not kind:
        msg = "a notification needs a kind"
        raise ValueError(msg)
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        msg = f"idempotency_key must have 1 to {IDEMPOTENCY_KEY_MAX} characters"
        raise ValueError(msg)
    if recipient_user is None and not recipient_email:
        msg = "a notification needs a recipient user or e-mail"
        raise ValueError(msg)
    return _insert_once(
        Notification(
            organisation_id=organisation_id,
            kind=kind,
            recipient_user=recipient_user,
            recipient_email=recipient_email,
            document_id=document_id,
            context=dict(context),
            idempotency_key=idempotency_key,
        )
    )


@transaction.atomic(savepoint=False)
def _insert_once(row: Notification) -> Notification:
    Notification.objects.bulk_create([row], ignore_conflicts=True)
    return Notification.objects.for_org(row.organisation_id).get(
        idempotency_key=row.idempotency_key
    )
