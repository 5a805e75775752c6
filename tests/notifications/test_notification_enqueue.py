"""notification_enqueue: an outbox row in the caller's transaction, once per key."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from sogla.notifications.models import Notification, NotificationState
from sogla.notifications.services import notification_enqueue
from tests.conftest import Tenant, make_tenant


def _enqueue(
    tenant: Tenant, key: str = "task:1:assigned", **kwargs: object
) -> Notification:
    params: dict[str, object] = {
        "organisation_id": tenant.org.pk,
        "kind": "task.assigned",
        "recipient_user": tenant.colleague,
        "context": {"task": 1},
        "idempotency_key": key,
        **kwargs,
    }
    return notification_enqueue(**params)  # type: ignore[arg-type]


def test_enqueue_writes_a_pending_row(tenant_a: Tenant) -> None:
    before = timezone.now()
    row = _enqueue(tenant_a, context={"task": 1, "title": "Договор"})

    row.refresh_from_db()
    assert (row.organisation_id, row.kind, row.recipient_user, row.recipient_email) == (
        tenant_a.org.pk,
        "task.assigned",
        tenant_a.colleague,
        "",
    )
    assert row.context == {"task": 1, "title": "Договор"}
    assert (row.state, row.attempts, row.last_error, row.sent_at) == (
        NotificationState.PENDING,
        0,
        "",
        None,
    )
    assert before <= row.next_attempt_at <= timezone.now()
    assert before <= row.created_at <= timezone.now() + timedelta(seconds=1)


def test_same_key_returns_the_first_row_and_inserts_nothing(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    first = _enqueue(tenant_a)
    again = _enqueue(tenant_a, context={"task": 2}, recipient_email="x@example.com")
    in_b = _enqueue(tenant_b)

    assert again.pk == first.pk
    assert again.context == {"task": 1}
    assert Notification.objects.for_org(tenant_a.org).count() == 1
    assert in_b.pk != first.pk  # keys are per organisation


def test_a_guest_is_reached_by_email(tenant_a: Tenant) -> None:
    row = _enqueue(tenant_a, recipient_user=None, recipient_email="guest@example.com")
    assert (row.recipient_user, row.recipient_email) == (None, "guest@example.com")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recipient_user": None}, "recipient"),
        ({"kind": ""}, "kind"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 201}, "idempotency_key"),
    ],
)
def test_refuses_incomplete_notifications(
    tenant_a: Tenant, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _enqueue(tenant_a, **change)
    assert not Notification.objects.exists()


def test_database_requires_a_recipient(tenant_a: Tenant) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            organisation=tenant_a.org, kind="x", idempotency_key="k"
        )


def test_rolled_back_command_leaves_no_notification(tenant_a: Tenant) -> None:
    @transaction.atomic
    def failing_command() -> None:
        _enqueue(tenant_a)
        raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_command()
    assert not Notification.objects.exists()
    assert _enqueue(tenant_a).pk  # the key is free again


@pytest.mark.slow  # a stress test (threads)
@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_with_one_key_give_one_row() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are exercised on PostgreSQL")
    tenant = make_tenant("Outbox")
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    ids: list[int] = []
    errors: list[BaseException] = []

    def enqueue() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                ids.append(_enqueue(tenant, key="decision:42").pk)
        # Blind on purpose: the thread's error goes to the main thread, which fails on it.
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enqueue) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(set(ids)) == 1
    assert Notification.objects.count() == 1
