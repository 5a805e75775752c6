"""The admin delivery log: scoped to the organisation, resend keeps the evidence."""

from __future__ import annotations

from django.test import Client

from sogla.notifications.models import Notification, NotificationState
from sogla.notifications.services import notification_enqueue
from tests.conftest import Tenant

URL = "/admin/notifications/notification/"


def _row(tenant: Tenant, key: str, state: str, error: str = "550 nope") -> Notification:
    row = notification_enqueue(
        organisation_id=tenant.org.pk,
        kind="workflow.approved",
        recipient_user=tenant.initiator,
        context={"number": "D-9", "title": "Evidence"},
        idempotency_key=key,
    )
    Notification.objects.filter(pk=row.pk).update(
        state=state, attempts=8 if state == "failed" else 0, last_error=error
    )
    row.refresh_from_db()
    return row


def _admin(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(tenant.admin)
    return client


def test_admin_sees_states_and_errors_with_a_state_filter(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    _row(tenant_a, "a", NotificationState.FAILED)
    _row(tenant_b, "b", NotificationState.FAILED, error="421 beta")
    _row(tenant_a, "c", NotificationState.SENT, error="sent-row")
    html = _admin(tenant_a).get(f"{URL}?state__exact=failed").content.decode()
    assert "550 nope" in html
    assert "sent-row" not in html  # filtered out
    assert "421 beta" not in html  # B's row is never listed
    assert "421 beta" not in _admin(tenant_a).get(URL).content.decode()


def test_resend_requeues_failed_and_copies_sent(tenant_a: Tenant) -> None:
    failed = _row(tenant_a, "k-failed", NotificationState.FAILED)
    sent = _row(tenant_a, "k-sent", NotificationState.SENT)
    response = _admin(tenant_a).post(
        URL, {"action": "resend", "_selected_action": [failed.pk, sent.pk]}
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (NotificationState.PENDING, 0)
    sent.refresh_from_db()
    assert sent.state == NotificationState.SENT  # the evidence stays
    copy = Notification.objects.get(resent_from=sent)
    assert copy.idempotency_key == "resend1:k-sent"
    assert copy.state == NotificationState.PENDING
    # again: a second copy with the next key
    _admin(tenant_a).post(URL, {"action": "resend", "_selected_action": [sent.pk]})
    assert set(
        Notification.objects.filter(resent_from=sent).values_list(
            "idempotency_key", flat=True
        )
    ) == {"resend1:k-sent", "resend2:k-sent"}


def test_another_organisation_cannot_resend(tenant_a: Tenant, tenant_b: Tenant) -> None:
    failed = _row(tenant_a, "k", NotificationState.FAILED)
    _admin(tenant_b).post(URL, {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.state == NotificationState.FAILED
    assert _admin(tenant_b).get(f"{URL}{failed.pk}/change/").status_code in (302, 404)
