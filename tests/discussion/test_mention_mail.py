"""A mention reaches the colleague through the outbox and a real SMTP server on
loopback (aiosmtpd): at once, or in the daily digest if they chose it, or not by
mail if they switched the kind off; always in the bell. Markup typed in the
message is inert in the mail."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.test import Client

from sogla.discussion import services
from sogla.notifications.delivery import notifications_deliver_due
from sogla.notifications.digests import notifications_send_digests
from sogla.notifications.models import Notification
from sogla.orgs.models import EmailMode, NotificationMode, NotificationPreference
from tests.conftest import Tenant
from tests.notifications.conftest import Smtp, body, smtp, subject  # noqa: F401
from tests.workflow.conftest import make_document

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def _mention(tenant: Tenant) -> tuple[int, int]:
    document = make_document(tenant, subject="Pumps")
    message = services.message_post(
        actor=tenant.initiator,
        document=document,
        text=f"@{tenant.colleague.username} please check **clause 4** "
        "<script>alert(1)</script>",
    )
    return document.pk, message.pk


def test_a_mention_is_mailed_at_once(tenant_a: Tenant, smtp: Smtp) -> None:  # noqa: F811
    document_pk, message_pk = _mention(tenant_a)
    assert notifications_deliver_due() == 1
    [mail] = smtp.sink.messages
    assert str(mail["To"]) == tenant_a.colleague.email
    assert subject(mail).startswith("You were mentioned: D-")
    text = body(mail, "plain")
    html = body(mail, "html")
    assert "mentioned you in the discussion" in text
    assert f"/documents/{document_pk}/?tab=discussion#m-{message_pk}" in text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    # and in the bell
    client = Client()
    client.force_login(tenant_a.colleague)
    assert "You were mentioned" in client.get("/notifications/").content.decode()


def test_a_mention_waits_for_the_digest(tenant_a: Tenant, smtp: Smtp) -> None:  # noqa: F811
    colleague = tenant_a.colleague
    colleague.email_mode = EmailMode.DIGEST
    colleague.time_zone = "Europe/Moscow"
    colleague.save()
    _mention(tenant_a)
    assert notifications_deliver_due() == 0
    assert smtp.sink.messages == []
    morning = (datetime.now(MOSCOW) + timedelta(days=1)).replace(hour=9, minute=0)
    assert notifications_send_digests(now=morning) == 1
    [digest] = smtp.sink.messages
    assert "You were mentioned" in body(digest, "plain")


def test_mentions_switched_off_send_no_mail(tenant_a: Tenant, smtp: Smtp) -> None:  # noqa: F811
    NotificationPreference.objects.create(
        organisation=tenant_a.org,
        user=tenant_a.colleague,
        kind="discussion.mention",
        mode=NotificationMode.OFF,
    )
    _mention(tenant_a)
    notifications_deliver_due()
    assert smtp.sink.messages == []
    assert Notification.objects.filter(recipient_user=tenant_a.colleague).exists()
