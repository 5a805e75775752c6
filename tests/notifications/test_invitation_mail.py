"""A route's calendar invitation (issue 11): the notice mail carries an RFC 5545
``.ics`` that a calendar reads back with the organisation's time zone. Delivered
through the real loopback SMTP server and parsed with ``icalendar``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from sogla.core.models import AuditEvent
from sogla.documents.models import FieldKind
from sogla.notifications.delivery import notifications_deliver_due
from sogla.notifications.models import Notification
from tests.conftest import Tenant
from tests.factories import add_field
from tests.notifications.conftest import Smtp, subject
from tests.workflow.conftest import make_document, publish, route, stage, start

pytestmark = pytest.mark.django_db

INVITE = {
    "date_field": "end_date",
    "time_field": "meet_at",
    "duration_minutes": 90,
    "summary": {"ru": "Собеседование", "en": "Interview"},
    "location": "Office 3, room 12",
}


def invite_route(tenant: Tenant) -> None:
    add_field(tenant.contract, "meet_at", FieldKind.STRING)
    system = {
        "key": "invite",
        "kind": "system",
        "actions": [{"notify": ["initiator", "user:" + tenant.colleague.username],
                     "invite": INVITE}],
    }  # fmt: skip
    publish(tenant, route(stage("meet", system)), key="meet")


def test_the_notice_carries_an_ics_in_the_organisations_zone(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    assert tenant_a.org.time_zone == "Europe/Moscow"
    invite_route(tenant_a)
    from sogla.workflow.models import RouteTemplate

    template = RouteTemplate.objects.get(organisation=tenant_a.org, key="meet")
    document = make_document(tenant_a, end_date="2026-12-10", meet_at="10:00")
    start(tenant_a, template, document)

    rows = Notification.objects.filter(kind="workflow.invitation").order_by("pk")
    assert {r.recipient_user for r in rows} == {tenant_a.initiator, tenant_a.colleague}
    assert notifications_deliver_due() >= 2
    mails = [m for m in smtp.sink.messages if "Invitation" in subject(m)]
    assert len(mails) == 2
    message = next(m for m in mails if str(m["To"]) == tenant_a.colleague.email)
    assert subject(message) == "Invitation: Interview — 10 December 2026, 10:00"
    [part] = [
        p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert part.get_filename() == "invitation.ics"
    assert part.get_param("method") == "REQUEST"

    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    assert str(calendar["method"]) == "REQUEST"
    [event] = calendar.events
    start_at = event.decoded("dtstart")
    assert str(start_at.tzinfo) == "Europe/Moscow"
    assert event["dtstart"].params["TZID"] == "Europe/Moscow"
    assert start_at.astimezone(UTC) == datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    assert event.decoded("dtend").astimezone(UTC) == datetime(
        2026, 12, 10, 8, 30, tzinfo=UTC
    )
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]
    assert str(event["summary"]) == "Interview"
    assert str(event["location"]) == "Office 3, room 12"
    assert str(event["uid"]).startswith(
        f"sogla-{document.processes.get().pk}-meet.invite-r1@"
    )
    assert event.decoded("dtstamp").tzinfo is not None
    assert str(event["organizer"]) == f"mailto:{tenant_a.initiator.email}"
    attendees = sorted(str(a) for a in event.attendees)
    assert attendees == sorted(
        f"mailto:{u.email}" for u in (tenant_a.initiator, tenant_a.colleague)
    )
    sent = AuditEvent.objects.get(verb="process.invitation_sent")
    assert sent.payload["start"] == "2026-12-10T10:00:00+03:00"


def test_without_a_date_the_notice_goes_without_an_ics_and_it_is_audited(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    invite_route(tenant_a)
    from sogla.workflow.models import RouteTemplate

    template = RouteTemplate.objects.get(organisation=tenant_a.org, key="meet")
    start(tenant_a, template, make_document(tenant_a, meet_at="10:00"))
    assert not Notification.objects.filter(kind="workflow.invitation").exists()
    assert Notification.objects.filter(kind="workflow.route_notice").count() == 2
    skipped = AuditEvent.objects.get(verb="process.invitation_skipped")
    assert skipped.payload["reason"] == 'the field "end_date" is not a date'
    notifications_deliver_due()
    assert all(not list(m.iter_attachments()) for m in smtp.sink.messages)
