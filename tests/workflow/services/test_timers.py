"""Every timer kind through the real services, with the clock moved by time-machine.

The worker's sweep (``Worker.sweep``) fires what is due at the travelled moment:
reminders, overdue notices (assignee and initiator), escalations to the manager,
stage stall alerts, wait steps, and field-date reminders that outlive the process.
Working-day arithmetic crosses weekends and holidays in the organisation's time
zone and ends at the assignee's working day in their own time zone. A timer fires
once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.orgs.models import CalendarDay, User, WorkingCalendar
from sogla.site.worker import Worker
from sogla.workflow import services
from sogla.workflow.models import (
    Process,
    RouteTemplate,
    Task,
    TaskState,
    Timer,
    TimerState,
)
from sogla.workflow.services import calendar_cache_clear
from tests.conftest import Tenant
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    open_task,
    person,
    publish,
    route,
    stage,
    start,
)

pytestmark = pytest.mark.django_db


MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture(autouse=True)
def _moscow_calendar(tenant_a: Tenant) -> Iterator[None]:
    """Argo-like: Moscow time, Monday to Friday 9-18, no public holidays."""
    tenant_a.org.time_zone = "Europe/Moscow"
    tenant_a.org.save()
    WorkingCalendar.objects.create(organisation=tenant_a.org, use_public_holidays=False)
    calendar_cache_clear()
    yield
    calendar_cache_clear()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=MOSCOW)  # type: ignore[arg-type,misc]  # *args are the date parts


def sweep(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        Worker(batch=1000).sweep()


def sent(kind: str) -> list[str]:
    return sorted(
        n.recipient_user.username if n.recipient_user else n.recipient_email
        for n in Notification.objects.filter(kind=f"workflow.{kind}").select_related(
            "recipient_user"
        )
    )


def started(
    tenant: Tenant, definition: dict[str, Any], moment: datetime, **values: object
) -> Process:
    template = publish(tenant, definition, key=f"route-{RouteTemplate.objects.count()}")
    with time_machine.travel(moment, tick=False):
        return start(tenant, template, make_document(tenant, **values))


def test_a_working_day_deadline_crosses_a_weekend_and_a_holiday(
    tenant_a: Tenant,
) -> None:
    lawyer = person(tenant_a, "lawyer")
    CalendarDay.objects.create(
        organisation=tenant_a.org,
        calendar=WorkingCalendar.objects.get(organisation=tenant_a.org),
        date=date(2026, 3, 9),  # Monday off
    )
    calendar_cache_clear()
    definition = route(
        stage("legal", approve("l", {"user": lawyer.username}, due={"working_days": 1}))
    )
    process = started(tenant_a, definition, at(2026, 3, 6, 16, 0))  # Friday 16:00
    task = open_task(process, lawyer)
    assert task.due_at == at(2026, 3, 10, 18, 0)  # Tuesday: Monday is a holiday
    reminder = Timer.objects.get(process=process, kind="reminder")
    # 80% of the time falls on the holiday: the reminder comes the working day before
    assert reminder.due_at == at(2026, 3, 6, 18, 0)

    sweep(at(2026, 3, 6, 17, 59))
    assert sent("reminder") == []
    sweep(at(2026, 3, 6, 18, 0))
    assert sent("reminder") == [lawyer.username]
    sweep(at(2026, 3, 10, 17, 59))
    assert sent("overdue") == []
    task.refresh_from_db()
    assert not task.overdue

    sweep(at(2026, 3, 10, 18, 1))
    task.refresh_from_db()
    assert task.overdue
    # the assignee and the initiator are told; the History says so
    assert sent("overdue") == sorted([lawyer.username, tenant_a.initiator.username])
    assert (
        AuditEvent.objects.filter(
            verb="task.overdue", document=process.document_id
        ).count()
        == 1
    )
    sweep(at(2026, 3, 11, 9, 0))  # fires once
    assert len(sent("overdue")) == 2


def test_the_deadline_ends_the_assignees_working_day_in_their_time_zone(
    tenant_a: Tenant,
) -> None:
    far = person(tenant_a, "far", time_zone="Asia/Vladivostok")  # UTC+10, Moscow+7
    near = person(tenant_a, "near")  # no zone of their own: the organisation's
    definition = route(
        stage(
            "s",
            approve("a", {"user": far.username}, due={"working_days": 2}),
            approve("b", {"user": near.username}, due={"working_days": 2}),
        )
    )
    process = started(tenant_a, definition, at(2026, 3, 2, 10, 0))  # Monday
    vladivostok = ZoneInfo("Asia/Vladivostok")
    assert open_task(process, far).due_at == datetime(
        2026, 3, 4, 18, 0, tzinfo=vladivostok
    )
    assert open_task(process, near).due_at == at(2026, 3, 4, 18, 0)
    sweep(at(2026, 3, 4, 12, 0))  # 19:00 in Vladivostok: only the far one is late
    assert sent("overdue") == sorted([far.username, tenant_a.initiator.username])


def test_escalation_reaches_the_assignees_manager_and_no_one_else(
    tenant_a: Tenant,
) -> None:
    boss = person(tenant_a, "boss")
    slow = person(tenant_a, "slow", manager=boss)
    quick = person(tenant_a, "quick", manager=boss)
    definition = route(
        stage(
            "s",
            approve("a", {"user": slow.username}, due={"hours": 4}),
            approve("b", {"user": quick.username}, due={"hours": 4}),
        ),
        escalate_after={"working_days": 1},
    )
    process = started(tenant_a, definition, at(2026, 3, 2, 10, 0))
    with time_machine.travel(at(2026, 3, 2, 13, 0), tick=False):
        decide(quick, open_task(process, quick))  # in time: no notice, no escalation
    sweep(at(2026, 3, 2, 14, 1))
    assert sent("overdue") == sorted([slow.username, tenant_a.initiator.username])
    escalation = Timer.objects.get(process=process, kind="escalate")
    assert escalation.due_at == at(2026, 3, 3, 14, 0)
    sweep(at(2026, 3, 3, 13, 59))
    assert sent("escalated") == []
    sweep(at(2026, 3, 3, 14, 0))
    assert sent("escalated") == [boss.username]
    assert AuditEvent.objects.filter(verb="task.escalated").count() == 1
    sweep(at(2026, 3, 10, 9, 0))
    assert sent("escalated") == [boss.username]


def test_a_task_decided_before_its_deadline_fires_nothing(
    tenant_a: Tenant,
) -> None:
    lawyer = person(tenant_a, "lawyer")
    definition = route(
        stage("s", approve("l", {"user": lawyer.username}, due={"hours": 4})),
        stage("t", approve("m", {"user": tenant_a.colleague.username})),
        escalate_after={"hours": 1},
    )
    process = started(tenant_a, definition, at(2026, 3, 2, 10, 0))
    with time_machine.travel(at(2026, 3, 2, 10, 30), tick=False):
        decide(lawyer, open_task(process, lawyer))
    sweep(at(2026, 3, 20, 10, 0))
    assert sent("reminder") == sent("overdue") == sent("escalated") == []
    assert not Timer.objects.filter(process=process, state=TimerState.FIRED).exists()
    assert not Timer.objects.filter(process=process, state=TimerState.PENDING).exists()


def test_a_stalled_stage_alerts_the_route_authors_list_once(tenant_a: Tenant) -> None:
    lawyer = person(tenant_a, "lawyer")
    definition = route(
        stage("legal", approve("l", {"user": lawyer.username})),
        stall_alert={"hours": 24, "notify": ["initiator"]},
    )
    process = started(tenant_a, definition, at(2026, 3, 2, 10, 0))
    sweep(at(2026, 3, 3, 9, 59))
    assert sent("stage_stalled") == []
    sweep(at(2026, 3, 3, 10, 0))
    sweep(at(2026, 3, 4, 10, 0))
    assert sent("stage_stalled") == [tenant_a.initiator.username]
    assert open_task(process, lawyer).state == TaskState.OPEN


def test_a_wait_step_pauses_the_route_until_its_time(tenant_a: Tenant) -> None:
    definition = route(
        stage("pause", {"key": "w", "kind": "wait", "wait_for": {"working_days": 2}}),
        stage("then", approve("m", {"user": tenant_a.colleague.username})),
    )
    process = started(tenant_a, definition, at(2026, 3, 6, 11, 0))  # Friday
    assert not Task.objects.filter(process=process).exists()
    sweep(at(2026, 3, 10, 10, 59))  # Tuesday, a minute early
    assert not Task.objects.filter(process=process).exists()
    sweep(at(2026, 3, 10, 11, 0))
    assert open_task(process, tenant_a.colleague).stage_key == "then"


def test_a_field_date_reminder_outlives_the_process_and_follows_the_date(
    tenant_a: Tenant,
) -> None:
    definition = route(
        stage("s", approve("m", {"user": tenant_a.colleague.username})),
        on_finish=[
            {
                "remind": {
                    "before_field": "end_date",
                    "days": 30,
                    "notify": ["initiator"],
                }
            }
        ],
    )
    process = started(
        tenant_a, definition, at(2026, 3, 2, 10, 0), end_date="2026-06-30"
    )
    with time_machine.travel(at(2026, 3, 2, 11, 0), tick=False):
        decide(tenant_a.colleague, open_task(process, tenant_a.colleague))
    process.refresh_from_db()
    assert process.status == "approved"
    timer = Timer.objects.get(process=process, kind="field_reminder")
    assert timer.due_at == at(2026, 5, 31, 9, 0)

    # The end date is corrected before the reminder (an approved document is not
    # editable on its card; an administrator's correction is written directly):
    # the reminder moves, nothing is sent.
    document = process.document
    document.fields = {**document.fields, "end_date": "2026-09-30"}
    document.save(update_fields=["fields"])
    sweep(at(2026, 5, 31, 9, 0))
    assert sent("field_reminder") == []
    timer.refresh_from_db()
    assert (timer.state, timer.due_at) == (TimerState.PENDING, at(2026, 8, 31, 9, 0))

    sweep(at(2026, 8, 31, 9, 0))
    assert sent("field_reminder") == [tenant_a.initiator.username]
    reminder = Notification.objects.get(kind="workflow.field_reminder")
    assert reminder.context["date"] == "2026-09-30"
    assert reminder.context["field"] == "end_date"
    sweep(at(2026, 9, 1, 9, 0))
    assert len(sent("field_reminder")) == 1


def test_a_reminder_on_an_empty_date_is_reported_not_ignored(tenant_a: Tenant) -> None:
    definition = route(
        stage("s", approve("m", {"user": tenant_a.colleague.username})),
        on_finish=[{"remind": {"before_field": "end_date", "days": 30}}],
    )
    process = started(tenant_a, definition, at(2026, 3, 2, 10, 0))
    decide(tenant_a.colleague, open_task(process, tenant_a.colleague))
    assert not Timer.objects.filter(kind="field_reminder").exists()
    skipped = AuditEvent.objects.get(verb="process.reminder_skipped")
    assert skipped.payload["reason"] == 'the date field "end_date" is empty'


def test_an_unknown_manager_is_recorded_not_dropped(tenant_a: Tenant) -> None:
    loner: User = person(tenant_a, "loner", department=None)
    definition = route(
        stage("s", approve("a", {"user": loner.username}, due={"hours": 1})),
        escalate_after={"hours": 1},
    )
    started(tenant_a, definition, at(2026, 3, 2, 10, 0))
    sweep(at(2026, 3, 2, 11, 0))
    sweep(at(2026, 3, 2, 12, 0))
    assert sent("escalated") == []
    unresolved = AuditEvent.objects.get(verb="process.notify_unresolved")
    assert unresolved.payload["reason"] == "the assignee has no active manager"


def test_a_poison_timer_backs_off_becomes_an_incident_and_is_retried(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T46: a timer whose firing keeps failing does not stop the others."""
    from sogla.workflow.incidents import MAX_ATTEMPTS, timers_retry
    from sogla.workflow.services import timers

    definition = route(
        stage("s", approve("m", {"user": tenant_a.colleague.username})),
        on_finish=[{"remind": {"before_field": "end_date", "days": 1}}],
    )
    poisoned = started(
        tenant_a, definition, at(2026, 3, 2, 10, 0), end_date="2026-03-04"
    )
    with time_machine.travel(at(2026, 3, 2, 11, 0), tick=False):
        decide(tenant_a.colleague, open_task(poisoned, tenant_a.colleague))
    lawyer = person(tenant_a, "lawyer")
    healthy = started(
        tenant_a,
        route(stage("l", approve("l", {"user": lawyer.username}, due={"hours": 1}))),
        at(2026, 3, 2, 10, 0),
    )

    def broken(*_args: object) -> bool:
        raise RuntimeError("a bug in the reminder")

    monkeypatch.setattr(timers, "_field_reminder_fire", broken)
    moment = at(2026, 3, 3, 9, 0)
    for _attempt in range(MAX_ATTEMPTS):
        sweep(moment)
        moment += timedelta(hours=3)  # past every back-off
    timer = Timer.objects.get(process=poisoned, kind="field_reminder")
    assert (timer.state, timer.attempts) == (TimerState.FAILED, MAX_ATTEMPTS)
    assert "a bug in the reminder" in timer.last_error
    # the other process's timers fired as usual
    assert open_task(healthy, lawyer).overdue

    monkeypatch.undo()  # the fix is deployed; an administrator retries
    with time_machine.travel(moment, tick=False):
        assert timers_retry(actor=tenant_a.admin, timers=[timer]) == 1
    sweep(moment)
    timer.refresh_from_db()
    assert timer.state == TimerState.FIRED
    assert sent("field_reminder") == [tenant_a.initiator.username]
    assert AuditEvent.objects.filter(verb="timer.retried").count() == 1


def test_deadlines_across_a_dst_change_end_at_local_working_hours(
    tenant_a: Tenant,
) -> None:
    """Berlin moves to summer time on Sunday 29 March 2026 (UTC+1 -> UTC+2)."""
    tenant_a.org.time_zone = "Europe/Berlin"
    tenant_a.org.save()
    calendar_cache_clear()
    berlin = ZoneInfo("Europe/Berlin")
    lawyer = person(tenant_a, "lawyer")
    definition = route(
        stage("s", approve("l", {"user": lawyer.username}, due={"working_days": 1}))
    )
    process = started(tenant_a, definition, datetime(2026, 3, 27, 10, 0, tzinfo=berlin))
    due = open_task(process, lawyer).due_at
    assert due == datetime(2026, 3, 30, 18, 0, tzinfo=berlin)
    assert due is not None
    assert due.astimezone(UTC).hour == 16  # 18:00 CEST
    sweep(datetime(2026, 3, 30, 15, 59, tzinfo=UTC))  # 17:59 in Berlin: not yet
    assert sent("overdue") == []
    sweep(datetime(2026, 3, 30, 16, 0, tzinfo=UTC))
    assert lawyer.username in sent("overdue")


def test_timers_fire_once_and_mark_tasks_overdue(
    tenant_a: Tenant, people: dict[str, User]
) -> None:
    template = publish(
        tenant_a,
        route(
            stage(
                "legal",
                approve("l", {"user": people["lawyer"].username}, due={"hours": 4}),
            )
        ),
    )
    # Started on a Monday morning: four working hours later leave room for the
    # reminder (started on a Friday evening it would fall in the past, and none is
    # set: Clock.remind_at).
    with time_machine.travel("2026-03-02 10:00 +03:00", tick=False):
        process = start(tenant_a, template, make_document(tenant_a))
    kinds = set(Timer.objects.filter(process=process).values_list("kind", flat=True))
    assert kinds == {"due", "reminder"}
    later = timezone.now() + timedelta(days=30)  # past the 4 working hours, at any hour
    # the deadline and its reminder are both due: the deadline's firing cancels the
    # reminder when it comes first, else the late reminder fires silently
    assert services.timers_fire_due(now=later, limit=10) in (1, 2)
    assert services.timers_fire_due(now=later, limit=10) == 0
    task = open_task(process, people["lawyer"])
    assert task.overdue
    # the overdue notice goes to the assignee and to the initiator
    assert set(
        Notification.objects.filter(kind="workflow.overdue").values_list(
            "recipient_user", flat=True
        )
    ) == {people["lawyer"].pk, tenant_a.initiator.pk}
    # both were due at the sweep: the late reminder stays silent, the overdue speaks
    assert Notification.objects.filter(kind="workflow.reminder").count() == 0
    fired = Timer.objects.filter(process=process, kind="due").get()
    assert not services.timer_fire(timer_id=fired.pk, now=later)
    decide(people["lawyer"], task)
    assert not Timer.objects.filter(state="pending").exists()
