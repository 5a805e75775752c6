"""Delivering the outbox to a real SMTP server on loopback (aiosmtpd).

Covers T41 (outbox atomic with state) and T47 (each notification sent once) for
e-mail, SMTP outages with back-off, and the content of the messages.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from sogla.notifications.delivery import (
    MAX_ATTEMPTS,
    backoff,
    notifications_deliver_due,
)
from sogla.notifications.models import Notification, NotificationState
from sogla.notifications.services import notification_enqueue
from sogla.orgs.models import User
from sogla.workflow.models import TaskState
from tests.conftest import Tenant, make_tenant
from tests.factories import UserFactory
from tests.notifications.conftest import Smtp, body, start_approval, subject
from tests.workflow.conftest import decide

LEASE = timedelta(seconds=300)  # SOGLA_NOTIFICATION_LEASE_SECONDS' default

LINK = re.compile(r"http://testserver(/\S+)")


def _assigned(tenant: Tenant) -> Notification:
    return Notification.objects.get(
        organisation=tenant.org, kind="workflow.task_assigned"
    )


def test_task_notice_arrives_with_facts_link_and_headers(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    head = tenant_a.department.head
    assert head is not None
    flow = start_approval(tenant_a, subject="Equipment supply")
    row = _assigned(tenant_a)

    assert notifications_deliver_due() == 1

    [message] = smtp.sink.messages
    number = flow.document.number
    assert subject(message).startswith(f"Approval needed: {number} ")
    assert str(message["To"]) == head.email
    assert str(message["Message-ID"]) == f"<n{tenant_a.org.pk}-{row.pk}@testserver>"
    thread = f"<doc-{tenant_a.org.pk}-{flow.document.pk}@testserver>"
    assert str(message["In-Reply-To"]) == thread
    assert str(message["References"]) == thread
    assert str(message["Auto-Submitted"]) == "auto-generated"
    text, html = body(message, "plain"), body(message, "html")
    for part in (text, html):
        assert number in part
        assert flow.document.title in part
        assert tenant_a.initiator.get_full_name() in part
        assert "Open and decide" in part
    assert "max-width:600px" in html
    assert "<script" not in html
    # The one link: the task, which opens the card for its holder after sign-in.
    [path] = {m.group(1) for m in LINK.finditer(text) if "/t/" in m.group(1)}
    assert path == f"/t/{flow.task.pk}/"
    anonymous = Client().get(path)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    client = Client()
    client.force_login(head)
    opened = client.get(path, follow=True)
    assert opened.status_code == 200
    assert opened.redirect_chain[-1][0] == (
        f"/documents/{flow.document.pk}/#decision-{flow.task.pk}"
    )
    assert number in opened.content.decode()
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (NotificationState.SENT, 0, "")
    assert row.sent_at is not None


def test_message_is_in_the_recipients_language_and_time_zone(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    head = tenant_a.department.head
    assert head is not None
    head.language = "ru"
    head.time_zone = "Asia/Vladivostok"
    head.save()
    start_approval(tenant_a)
    notifications_deliver_due()
    [message] = smtp.sink.messages
    assert str(message["Content-Language"]) == "ru"
    assert '<html lang="ru">' in body(message, "html")


def test_the_task_link_is_not_found_across_tenants(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    flow = start_approval(tenant_a)
    client = Client()
    client.force_login(tenant_b.admin)
    assert client.get(f"/t/{flow.task.pk}/").status_code == 404


def test_guests_and_unknown_kinds_get_a_generic_mail(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    flow = start_approval(tenant_a)
    Notification.objects.all().delete()
    context = {"document": flow.document.pk, "number": flow.document.number}
    notification_enqueue(
        organisation_id=tenant_a.org.pk,
        kind="workflow.something_new",
        recipient_email="guest@example.test",
        document_id=flow.document.pk,
        context={**context, "task": "not-a-number", "due_at": "garbage"},
        idempotency_key="unknown",
    )
    notification_enqueue(
        organisation_id=tenant_a.org.pk,
        kind="workflow.field_reminder",
        recipient_user=tenant_a.initiator,
        document_id=flow.document.pk,
        context={
            **context,
            "field": "end_date",
            "label_en": "End date",
            "label_ru": "Дата окончания",
            "date": "2026-03-31",
        },
        idempotency_key="field",
    )
    assert notifications_deliver_due() == 2
    by_to = {str(m["To"]): m for m in smtp.sink.messages}
    guest = by_to["guest@example.test"]
    assert subject(guest).startswith(f"Notification: {flow.document.number}")
    assert f"/documents/{flow.document.pk}/" in body(guest, "plain")
    reminder = by_to[tenant_a.initiator.email]
    assert "End date" in subject(reminder)
    assert "2026" in subject(reminder)


def test_smtp_outage_keeps_the_row_pending_then_sends_it_once(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    start_approval(tenant_a)
    row = _assigned(tenant_a)
    smtp.stop()
    now = timezone.now()

    assert notifications_deliver_due(now=now) == 0

    row.refresh_from_db()
    assert row.state == NotificationState.PENDING
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at == now + backoff(1) > now
    # Not due yet: nothing is tried before the back-off has passed.
    smtp.start()
    assert notifications_deliver_due(now=now + timedelta(seconds=30)) == 0
    assert notifications_deliver_due(now=now + backoff(1)) == 1
    assert notifications_deliver_due(now=now + timedelta(days=1)) == 0
    assert len(smtp.sink.messages) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (NotificationState.SENT, 1, "")


def test_an_outage_tries_one_row_and_leaves_the_others_untouched(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    start_approval(tenant_a)
    start_approval(tenant_a)
    smtp.stop()
    now = timezone.now()
    notifications_deliver_due(now=now)
    rows = list(Notification.objects.order_by("pk"))
    assert [r.attempts for r in rows] == [1, 0]
    assert {r.state for r in rows} == {NotificationState.PENDING}
    assert all(r.next_attempt_at == now + backoff(1) for r in rows)


def test_a_refused_message_is_retried_with_back_off_then_failed(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    start_approval(tenant_a)
    row = _assigned(tenant_a)
    smtp.sink.refuse = True
    now = timezone.now()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        notifications_deliver_due(now=now)
        row.refresh_from_db()
        assert row.attempts == attempt
        assert "554" in row.last_error
        if attempt < MAX_ATTEMPTS:
            assert row.state == NotificationState.PENDING
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    assert row.state == NotificationState.FAILED
    assert waits == sorted(waits)  # the waits grow
    assert waits[0] == timedelta(minutes=1)
    assert notifications_deliver_due(now=now + timedelta(days=30)) == 0
    assert smtp.sink.messages == []


# --- T41: the outbox is atomic with the state change ---------------------------------------


def test_t41_rolled_back_change_sends_nothing_committed_one_is_sent(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    class Boom(Exception):
        pass

    @transaction.atomic
    def failing_command() -> None:
        start_approval(tenant_a)
        assert Notification.objects.count() == 1  # written with the change
        raise Boom

    with pytest.raises(Boom):
        failing_command()
    assert Notification.objects.count() == 0
    assert notifications_deliver_due() == 0
    assert smtp.sink.messages == []

    start_approval(tenant_a)
    assert notifications_deliver_due() == 1
    assert len(smtp.sink.messages) == 1


# --- T47: each notification sent once ------------------------------------------------------


def test_t47_same_notice_twice_gives_one_row_and_one_mail(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    for _ in range(2):
        notification_enqueue(
            organisation_id=tenant_a.org.pk,
            kind="workflow.approved",
            recipient_user=tenant_a.initiator,
            context={"number": "D-1", "title": "Supply"},
            idempotency_key="process:1:approved",
        )
    assert Notification.objects.count() == 1
    assert notifications_deliver_due() == 1
    assert notifications_deliver_due() == 0  # the replay
    assert notifications_deliver_due(now=timezone.now() + timedelta(days=3)) == 0
    assert len(smtp.sink.messages) == 1
    assert subject(smtp.sink.messages[0]) == "Approved: D-1 Supply"


def test_t47_crash_between_send_and_mark_gives_at_most_one_duplicate(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    start_approval(tenant_a)
    row = _assigned(tenant_a)
    now = timezone.now()

    class Killed(BaseException):
        pass

    def die(_row: Notification) -> None:
        raise Killed

    with pytest.raises(Killed):
        notifications_deliver_due(now=now, after_send=die)
    row.refresh_from_db()
    assert row.state == NotificationState.IN_PROGRESS
    # While the lease holds nobody sends it again.
    assert notifications_deliver_due(now=now + LEASE - timedelta(seconds=1)) == 0
    # After the lease: sent again, with the same Message-ID (receivers can dedupe).
    assert notifications_deliver_due(now=now + LEASE + timedelta(seconds=1)) == 1
    assert notifications_deliver_due(now=now + timedelta(days=1)) == 0
    ids = smtp.sink.ids()
    assert len(ids) == 2
    assert len(set(ids)) == 1
    row.refresh_from_db()
    assert row.state == NotificationState.SENT


@pytest.mark.parametrize(
    "age", [timedelta(minutes=5), timedelta(hours=2), timedelta(days=7)]
)
def test_t45_a_row_stuck_in_progress_is_taken_over_at_any_age(
    tenant_a: Tenant, smtp: Smtp, age: timedelta
) -> None:
    """No upper age limit: a worker that died a week ago still has its rows sent."""
    start_approval(tenant_a)
    row = _assigned(tenant_a)
    now = timezone.now()
    Notification.objects.filter(pk=row.pk).update(
        state=NotificationState.IN_PROGRESS, lease_until=now - age
    )
    assert notifications_deliver_due(now=now) >= 1
    row.refresh_from_db()
    assert row.state == NotificationState.SENT
    assert len(smtp.sink.ids()) == len(set(smtp.sink.ids()))


def test_a_late_worker_cannot_overwrite_a_row_another_worker_owns(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    start_approval(tenant_a)
    row = _assigned(tenant_a)
    now = timezone.now()
    later = now + LEASE + timedelta(seconds=1)
    inner: list[int] = []

    def stall(_row: Notification) -> None:
        # While this worker is "stuck", its lease runs out and another one
        # takes the row over and finishes it.
        inner.append(notifications_deliver_due(now=later))

    notifications_deliver_due(now=now, after_send=stall)
    row.refresh_from_db()
    assert inner == [1]
    assert row.state == NotificationState.SENT
    assert row.sent_at == later  # the newer worker's mark stays


def test_t47_reminders_for_a_decided_task_are_cancelled_not_sent(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    flow = start_approval(tenant_a)
    head = tenant_a.department.head
    assert head is not None
    kinds = ("workflow.reminder", "workflow.overdue", "workflow.escalated")
    for kind in kinds:
        notification_enqueue(
            organisation_id=tenant_a.org.pk,
            kind=kind,
            recipient_user=head,
            document_id=flow.document.pk,
            context={"task": flow.task.pk, "number": flow.document.number},
            idempotency_key=f"{kind}:{flow.task.pk}",
        )
    decide(head, flow.task)
    flow.task.refresh_from_db()
    assert flow.task.state == TaskState.DONE

    notifications_deliver_due(limit=100)

    subjects = [subject(m) for m in smtp.sink.messages]
    assert not any(
        s.startswith(("Reminder", "Overdue", "Escalation")) for s in subjects
    )
    states = dict(
        Notification.objects.filter(kind__in=kinds).values_list("kind", "state")
    )
    assert states == dict.fromkeys(kinds, NotificationState.CANCELLED)


def test_a_recipient_without_email_is_skipped_but_kept_in_the_app(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    head = tenant_a.department.head
    assert head is not None
    head.email = ""
    head.save()
    start_approval(tenant_a)
    assert notifications_deliver_due() == 0
    row = _assigned(tenant_a)
    assert row.state == NotificationState.SKIPPED
    assert "no e-mail" in row.last_error


def test_queries_per_batch_do_not_grow_with_rows(tenant_a: Tenant, smtp: Smtp) -> None:
    def batch(n: int) -> int:
        for _ in range(n):
            start_approval(tenant_a)
        with CaptureQueriesContext(connection) as queries:
            assert notifications_deliver_due(limit=100) == n
        return len(queries)

    few, many = batch(2), batch(10)
    # claim + facts are constant; each row costs one guarded update
    assert many - few == 8


# --- two workers on PostgreSQL -------------------------------------------------------------


@pytest.mark.slow  # a stress test (threads)
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_each_row_once(smtp: Smtp) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers are exercised on PostgreSQL")
    tenant = make_tenant("Race")
    people: list[User] = [
        UserFactory(organisation=tenant.org, username=f"race-{i}") for i in range(5)
    ]
    total = 60
    for i in range(total):
        notification_enqueue(
            organisation_id=tenant.org.pk,
            kind="workflow.route_notice",
            recipient_user=people[i % len(people)],
            context={"number": f"D-{i}", "title": "Race"},
            idempotency_key=f"race:{i}",
        )
    workers = 4
    barrier = threading.Barrier(workers)
    sent: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            mine = 0
            while True:
                got = notifications_deliver_due(limit=5)
                if (
                    not got
                    and not Notification.objects.filter(
                        state__in=["pending", "in_progress"]
                    ).exists()
                ):
                    break
                mine += got
            with lock:
                sent.append(mine)
        # Blind on purpose: the thread's error goes to the main thread, which fails on it.
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(sent) == total
    ids = smtp.sink.ids()
    assert len(ids) == total
    assert len(set(ids)) == total
    assert Notification.objects.filter(state="sent").count() == total


def test_a_title_that_repeats_the_number_says_it_once_without_a_stray_space() -> None:
    import zoneinfo

    from sogla.notifications.messages import headline

    row = Notification(
        kind="workflow.approved",
        context={"number": "ЗО-2026-00001", "title": "Заявка ЗО-2026-00001: уборка"},
    )
    with translation.override("en"):
        text = headline(row, zoneinfo.ZoneInfo("UTC"))
    # the number and the title, the number said once (issue 13, item 14)
    assert text == "Approved: ЗО-2026-00001 Заявка: уборка"
    row.kind = "workflow.route_notice"
    with translation.override("en"):
        assert headline(row, zoneinfo.ZoneInfo("UTC")).endswith("Заявка: уборка")
