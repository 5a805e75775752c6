"""The daily digest: one mail per user and local day with everything waiting."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from sogla.notifications.delivery import notifications_deliver_due
from sogla.notifications.digests import notifications_send_digests
from sogla.notifications.models import DIGEST_KIND, Notification, NotificationState
from sogla.orgs.models import EmailMode
from tests.conftest import Tenant
from tests.notifications.conftest import Smtp, body, start_approval, subject

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def _digest_user(tenant: Tenant) -> None:
    head = tenant.department.head
    assert head is not None
    head.email_mode = EmailMode.DIGEST
    head.time_zone = "Europe/Moscow"
    head.save()


def test_two_notices_make_one_digest_and_a_second_call_sends_nothing(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    _digest_user(tenant_a)
    first = start_approval(tenant_a, subject="Pumps")
    second = start_approval(tenant_a, subject="Valves")
    # Immediate delivery leaves them for the digest.
    assert notifications_deliver_due() == 0
    assert smtp.sink.messages == []
    morning = (datetime.now(MOSCOW) + timedelta(days=1)).replace(hour=9, minute=0)

    assert notifications_send_digests(now=morning) == 1
    assert notifications_send_digests(now=morning.replace(hour=18)) == 0
    assert notifications_deliver_due(now=morning.replace(hour=19)) == 0

    [message] = smtp.sink.messages
    assert subject(message) == "Sogla: 2 notifications of the day"
    text = body(message, "plain")
    for flow in (first, second):
        assert flow.document.number in text
        assert f"/documents/{flow.document.pk}/" in text
    digest = Notification.objects.get(kind=DIGEST_KIND)
    assert digest.state == NotificationState.SENT
    items = Notification.objects.exclude(kind=DIGEST_KIND)
    assert {(n.state, n.digest_id) for n in items} == {
        (NotificationState.DIGESTED, digest.pk)
    }


def test_no_digest_before_the_morning_hour_of_the_users_zone(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    _digest_user(tenant_a)
    start_approval(tenant_a)
    early = (datetime.now(MOSCOW) + timedelta(days=1)).replace(hour=6, minute=30)
    assert notifications_send_digests(now=early) == 0
    assert not Notification.objects.filter(kind=DIGEST_KIND).exists()
    assert notifications_send_digests(now=early.replace(hour=8)) == 1


def test_immediate_users_are_not_digested(tenant_a: Tenant, smtp: Smtp) -> None:
    start_approval(tenant_a)
    noon = (datetime.now(MOSCOW) + timedelta(days=1)).replace(hour=12)
    assert notifications_send_digests(now=noon) == 0
    assert notifications_deliver_due() == 1
