"""E-mails per kind of event: at once, in the daily digest, or off (non-essential
kinds only); the bell shows everything anyway."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.test import Client

from sogla.notifications.delivery import notifications_deliver_due
from sogla.notifications.digests import notifications_send_digests
from sogla.notifications.models import DIGEST_KIND, Notification, NotificationState
from sogla.orgs.models import EmailMode, NotificationPreference
from tests.conftest import Tenant
from tests.notifications.conftest import Smtp, start_approval, subject
from tests.workflow.conftest import decide

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def _settings(client: Client, **modes: str) -> Any:
    return client.post("/notifications/settings/", modes)


def test_a_kind_set_to_the_digest_waits_for_it(tenant_a: Tenant, smtp: Smtp) -> None:
    head = tenant_a.department.head
    assert head is not None
    head.time_zone = "Europe/Moscow"
    head.save()
    client = Client()
    client.force_login(head)
    assert client.get("/notifications/settings/").status_code == 200
    response = _settings(client, **{"workflow.task_assigned": "digest"})
    assert response.status_code == 302
    flow = start_approval(tenant_a)
    assert notifications_deliver_due() == 0
    morning = (datetime.now(MOSCOW) + timedelta(days=1)).replace(hour=9, minute=0)
    assert notifications_send_digests(now=morning) == 1
    [message] = smtp.sink.messages
    assert "1 notification" in subject(message)
    assert flow.document.number in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_kind_set_to_immediate_beats_the_general_digest(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    head = tenant_a.department.head
    assert head is not None
    head.email_mode = EmailMode.DIGEST
    head.save()
    client = Client()
    client.force_login(head)
    _settings(client, **{"workflow.task_assigned": "immediate"})
    start_approval(tenant_a)
    assert notifications_deliver_due() == 1
    assert len(smtp.sink.messages) == 1


def test_a_non_essential_kind_turned_off_sends_no_mail_but_shows_in_the_bell(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    client = Client()
    client.force_login(tenant_a.initiator)
    assert _settings(client, **{"workflow.approved": "off"}).status_code == 302
    flow = start_approval(tenant_a)
    notifications_deliver_due()
    head = tenant_a.department.head
    assert head is not None
    decide(head, flow.task)
    notifications_deliver_due()
    approved = Notification.objects.get(kind="workflow.approved")
    assert approved.state == NotificationState.SKIPPED
    assert all(m["To"] != tenant_a.initiator.email for m in smtp.sink.messages)
    assert client.get("/notifications/").content.count(b"data-") > 0
    assert approved.read_at is None  # still unread under the bell


def test_essential_kinds_cannot_be_turned_off(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.colleague)
    response = _settings(client, **{"workflow.task_assigned": "off"})
    assert response.status_code == 400
    assert b"cannot be turned off" in response.content
    response = _settings(client, **{"workflow.reminder": "loud"})
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()
    assert not Notification.objects.filter(kind=DIGEST_KIND).exists()


def test_settings_are_per_person(tenant_a: Tenant, tenant_b: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.colleague)
    _settings(client, **{"workflow.reminder": "off"})
    [pref] = NotificationPreference.objects.all()
    assert pref.user == tenant_a.colleague
    assert pref.organisation == tenant_a.org
    other = Client()
    other.force_login(tenant_b.colleague)
    page = other.get("/notifications/settings/").content.decode()
    assert 'value="off" selected' not in page
