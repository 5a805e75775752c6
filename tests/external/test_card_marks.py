"""The card's marks for the initiator: when a guest first opened the link, an
invitation that could not be delivered (with the re-send button), a person locked
out of one-time codes (with an audited Unlock button), for guests and internal
people alike."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.external.models import Challenge, GuestLink
from sogla.external.selectors import is_locked
from sogla.notifications.models import Notification, NotificationState
from sogla.workflow.models import Task, TaskState
from tests.external.conftest import GUEST, deliver, links_in, open_link, to_guest_stage
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = pytest.mark.django_db


def _card(client: Client, document_id: int) -> str:
    return client.get(f"/documents/{document_id}/").content.decode()


def _initiator(tenant) -> Client:
    client = Client()
    client.force_login(tenant.initiator)
    return client


def _kill(task: Task, ref: str, count: int = 3) -> None:
    """``count`` challenges that died of wrong codes (what T18 does by guessing)."""
    now = timezone.now()
    for _ in range(count):
        Challenge.objects.create(
            organisation_id=task.organisation_id,
            task=task,
            participant_ref=ref,
            outcome="approve",
            channel="email",
            sent_to="x***@example.com",
            salt="s",
            code_hash="h",
            created_at=now - timedelta(hours=1),
            expires_at=now - timedelta(minutes=50),
            attempts=5,
        )


def test_the_card_shows_when_the_guest_opened_the_link(tenant_a, staff) -> None:
    process, _task, token = to_guest_stage(tenant_a, staff)
    client = _initiator(tenant_a)
    assert "link not opened yet" in _card(client, process.document_id)
    open_link(Client(), token)
    card = _card(client, process.document_id)
    assert "link not opened yet" not in card
    link = GuestLink.objects.get(task__process=process)
    user = tenant_a.initiator
    zone = zoneinfo.ZoneInfo(user.time_zone or tenant_a.org.time_zone)
    at = timezone.localtime(link.first_used_at, zone).strftime("%H:%M")
    assert f"opened {at}" in card
    # an approver who does not manage the process sees no marks
    other = Client()
    other.force_login(staff["ceo"])
    assert 'data-mark="opened"' not in _card(other, process.document_id)


def test_an_undelivered_invitation_is_marked_and_resent(tenant_a, staff) -> None:
    process, task, _token = to_guest_stage(tenant_a, staff)
    link = GuestLink.objects.get(task=task)
    Notification.objects.filter(pk=link.notification_id or 0).update(
        state=NotificationState.FAILED, last_error="550 mailbox unavailable"
    )
    client = _initiator(tenant_a)
    card = _card(client, process.document_id)
    assert "the invitation was not delivered" in card
    assert f"/tasks/{task.pk}/guest-link/" in card  # the re-send button
    assert client.post(f"/tasks/{task.pk}/guest-link/").status_code == 302
    assert "the invitation was not delivered" not in _card(client, process.document_id)
    assert links_in([m for m in deliver() if GUEST in m.to])
    print("Card marks: undelivered invitation shown, re-sent, mark gone")


def test_a_retrying_invitation_is_marked(tenant_a, staff) -> None:
    process, task, _token = to_guest_stage(tenant_a, staff)
    link = GuestLink.objects.get(task=task)
    Notification.objects.filter(pk=link.notification_id or 0).update(
        state=NotificationState.PENDING, attempts=2, last_error="timed out"
    )
    card = _card(_initiator(tenant_a), process.document_id)
    assert "the invitation is not delivered yet, retrying" in card


def test_the_initiator_unlocks_a_locked_guest_from_the_card(tenant_a, staff) -> None:
    process, task, _token = to_guest_stage(tenant_a, staff, otp=True)
    ref = f"guest:{GUEST}"
    _kill(task, ref)
    assert is_locked(ref, task.pk)
    client = _initiator(tenant_a)
    card = _card(client, process.document_id)
    assert "locked out after wrong confirmation codes" in card
    assert f'action="/tasks/{task.pk}/codes/unlock/"' in card
    # a colleague who does not manage the process: 404, still locked
    other = Client()
    other.force_login(tenant_a.colleague)
    assert (
        other.post(f"/tasks/{task.pk}/codes/unlock/", {"person": ref}).status_code
        == 404
    )
    assert is_locked(ref, task.pk)
    assert client.get(f"/tasks/{task.pk}/codes/unlock/").status_code == 405  # POST only
    done = client.post(f"/tasks/{task.pk}/codes/unlock/", {"person": ref}, follow=True)
    assert done.status_code == 200
    assert "Confirmation unlocked" in done.content.decode()
    assert not is_locked(ref, task.pk)
    assert "locked out after wrong confirmation codes" not in _card(
        client, process.document_id
    )
    event = AuditEvent.objects.get(verb="code.unlocked")
    assert event.actor_id == tenant_a.initiator.pk
    assert event.payload["person"] == ref
    assert event.document_id == process.document_id
    history = client.get(f"/documents/{process.document_id}/?tab=history")
    assert "unlocked a person&#x27;s confirmation codes" in history.content.decode()
    print(
        "Unlock from the card: colleague 404, initiator unlocks, audited code.unlocked"
    )


def test_an_administrator_unlocks_an_internal_signer(tenant_a, staff) -> None:
    step = approve("ceo", {"user": staff["ceo"].username})
    step["kind"] = "sign"
    template = publish(tenant_a, route(stage("sign", step)))
    process = start(tenant_a, template, make_document(tenant_a))
    task = Task.objects.get(
        process=process, assignee=staff["ceo"], state=TaskState.OPEN
    )
    ref = f"user:{staff['ceo'].pk}"
    _kill(task, ref)
    from sogla.orgs.models import User

    admin = Client()
    boss = User.objects.filter(organisation=tenant_a.org, is_staff=True).first()
    assert boss is not None
    admin.force_login(boss)
    card = _card(admin, process.document_id)
    assert "locked out after wrong confirmation codes" in card
    assert (
        admin.post(f"/tasks/{task.pk}/codes/unlock/", {"person": ref}).status_code
        == 302
    )
    assert not is_locked(ref, task.pk)
    assert AuditEvent.objects.filter(verb="code.unlocked", actor_id=boss.pk).exists()


def test_marks_cost_the_same_queries_for_one_or_many_guests(tenant_a, staff) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def card_queries(n: int) -> int:
        guests = [f"guest{i}-{n}@example.com" for i in range(n)]
        step = approve("partners", {"guests": guests})
        template = publish(tenant_a, route(stage("p", step)), key=f"guests-{n}")
        process = start(tenant_a, template, make_document(tenant_a))
        deliver()
        for task in Task.objects.filter(process=process):
            _kill(task, f"guest:{task.guest_email}")
        client = _initiator(tenant_a)
        _card(client, process.document_id)  # warm caches
        with CaptureQueriesContext(connection) as queries:
            card = _card(client, process.document_id)
        assert card.count('data-mark="locked"') == n
        return len(queries)

    one, many = card_queries(1), card_queries(6)
    assert many == one
    print(f"Card marks: {one} queries with 1 guest, {many} with 6")
