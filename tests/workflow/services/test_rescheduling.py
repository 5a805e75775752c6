"""A changed working calendar moves the deadlines of open tasks (issue 13, item 8).

Before, a holiday added after a task was given out left its deadline, reminder and
escalation where the old calendar put them. Now the calendar's save (settings
screen, API, admin, code) recomputes them once the change commits: the task's
deadline, its timers, a ``task.deadline_moved`` audit event and a notice to the
assignee through the outbox. Decided tasks, finished approvals and deadlines the
change does not touch stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from sogla.core.models import AuditEvent
from sogla.notifications.kinds import kind_for
from sogla.notifications.models import Notification
from sogla.orgs import structure
from sogla.orgs.models import CalendarDay, User, WorkingCalendar
from sogla.site.worker import Worker
from sogla.workflow.models import Process, RouteTemplate, Timer, TimerState
from sogla.workflow.services import calendar_cache_clear, deadlines_reschedule
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


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=MOSCOW)  # type: ignore[arg-type,misc]  # *args are the date parts


@pytest.fixture(autouse=True)
def _moscow_calendar(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> Iterator[None]:
    tenant_a.org.time_zone = "Europe/Moscow"
    tenant_a.org.save()
    with django_capture_on_commit_callbacks(execute=True):  # committed
        WorkingCalendar.objects.create(
            organisation=tenant_a.org, use_public_holidays=False
        )
    calendar_cache_clear()
    yield
    calendar_cache_clear()


def started(tenant: Tenant, definition: dict[str, Any], moment: datetime) -> Process:
    template = publish(tenant, definition, key=f"route-{RouteTemplate.objects.count()}")
    with time_machine.travel(moment, tick=False):
        return start(tenant, template, make_document(tenant))


def pending(process: Process, kind: str) -> list[datetime]:
    return [
        t.due_at.astimezone(MOSCOW)
        for t in Timer.objects.filter(
            process=process, kind=kind, state=TimerState.PENDING
        )
    ]


def moved_notices(user: User) -> list[Notification]:
    return list(
        Notification.objects.filter(kind="workflow.deadline_moved", recipient_user=user)
    )


def add_holiday(tenant: Tenant, day: date, moment: datetime, capture: Any) -> None:
    """The settings screen's service adds a day off, as the administrator would."""
    with time_machine.travel(moment, tick=False), capture(execute=True):
        structure.calendar_day_set(
            actor=tenant.admin, day=day, is_working=False, name="Holiday"
        )


def lawyer_with_deadline(tenant: Tenant, lawyer: User, **extra: Any) -> Process:
    definition = route(
        stage(
            "legal",
            approve("l", {"user": lawyer.username}, due={"working_days": 3}),
        ),
        **extra,
    )
    return started(tenant, definition, at(2026, 3, 2, 10, 0))  # Monday


def test_a_holiday_added_moves_an_open_deadline_and_tells_the_assignee(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    lawyer = person(tenant_a, "lawyer")
    process = lawyer_with_deadline(tenant_a, lawyer)
    task = open_task(process, lawyer)
    assert task.due_at == at(2026, 3, 5, 18, 0)  # Thursday
    assert pending(process, "reminder") == [at(2026, 3, 5, 9, 0)]

    add_holiday(
        tenant_a,
        date(2026, 3, 4),
        at(2026, 3, 3, 12, 0),
        django_capture_on_commit_callbacks,
    )

    task.refresh_from_db()
    assert task.due_at == at(2026, 3, 6, 18, 0)  # Friday: Wednesday is off now
    assert pending(process, "due") == [at(2026, 3, 6, 18, 0)]
    # the reminder is planned again by the same rule (80% of the time, working hours)
    assert pending(process, "reminder") == [at(2026, 3, 5, 18, 0)]
    event = AuditEvent.objects.get(verb="task.deadline_moved")
    assert event.payload["task"] == task.pk
    assert datetime.fromisoformat(event.payload["was"]) == at(2026, 3, 5, 18, 0)
    notices = moved_notices(lawyer)
    assert len(notices) == 1
    row = notices[0]
    for language, words in (("en", "Deadline moved"), ("ru", "Срок перенесён")):
        with translation.override(language):
            headline = kind_for(row.kind).headline(row, MOSCOW, None)
            lead = kind_for(row.kind).lead(row, MOSCOW, None)
        assert words in headline, headline
        assert row.context["number"] in headline
        assert "6" in headline
        assert lead
        assert "%(" not in lead


def test_the_worker_follows_the_moved_deadline(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    lawyer = person(tenant_a, "lawyer")
    process = lawyer_with_deadline(tenant_a, lawyer)
    add_holiday(
        tenant_a,
        date(2026, 3, 4),
        at(2026, 3, 3, 12, 0),
        django_capture_on_commit_callbacks,
    )
    with time_machine.travel(at(2026, 3, 5, 18, 30), tick=False):
        Worker(batch=100).sweep()  # the old deadline passed: not overdue any more
    assert not open_task(process, lawyer).overdue
    with time_machine.travel(at(2026, 3, 6, 18, 1), tick=False):
        Worker(batch=100).sweep()
    assert open_task(process, lawyer).overdue


def test_a_working_day_removed_from_the_week_moves_it_too(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    lawyer = person(tenant_a, "lawyer")
    process = lawyer_with_deadline(tenant_a, lawyer)
    calendar = WorkingCalendar.objects.get(organisation=tenant_a.org)
    with (
        time_machine.travel(at(2026, 3, 2, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        structure.calendar_update(
            actor=tenant_a.admin,
            working_weekdays=[0, 1, 3, 4],  # no Wednesdays
            day_starts=calendar.day_starts,
            day_ends=calendar.day_ends,
            use_public_holidays=False,
        )
    assert open_task(process, lawyer).due_at == at(2026, 3, 6, 18, 0)
    assert len(moved_notices(lawyer)) == 1


def test_an_overdue_task_whose_deadline_moves_later_is_no_longer_overdue(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    boss = person(tenant_a, "boss")
    lawyer = person(tenant_a, "lawyer", manager=boss)
    process = lawyer_with_deadline(tenant_a, lawyer, escalate_after={"working_days": 2})
    with time_machine.travel(at(2026, 3, 5, 18, 1), tick=False):
        Worker(batch=100).sweep()
    assert open_task(process, lawyer).overdue
    assert pending(process, "escalate")
    # Thursday was a holiday after all (declared late, on Friday morning)
    add_holiday(
        tenant_a,
        date(2026, 3, 5),
        at(2026, 3, 6, 9, 0),
        django_capture_on_commit_callbacks,
    )
    task = open_task(process, lawyer)
    assert task.due_at == at(2026, 3, 6, 18, 0)
    assert not task.overdue
    assert pending(process, "escalate") == []
    assert pending(process, "due") == [at(2026, 3, 6, 18, 0)]


def test_what_the_change_does_not_touch_stays(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    lawyer = person(tenant_a, "lawyer")
    cfo = person(tenant_a, "cfo")
    process = lawyer_with_deadline(tenant_a, lawyer)
    decided = lawyer_with_deadline(tenant_a, cfo)
    with time_machine.travel(at(2026, 3, 2, 12, 0), tick=False):
        decide(cfo, open_task(decided, cfo))
    version = Process.objects.get(pk=process.pk).version
    # a holiday after the deadline moves nothing: the approval is not even written
    add_holiday(
        tenant_a,
        date(2026, 3, 20),
        at(2026, 3, 3, 12, 0),
        django_capture_on_commit_callbacks,
    )
    assert Process.objects.get(pk=process.pk).version == version
    assert open_task(process, lawyer).due_at == at(2026, 3, 5, 18, 0)
    assert not Notification.objects.filter(kind="workflow.deadline_moved").exists()
    assert not AuditEvent.objects.filter(verb="task.deadline_moved").exists()


def test_a_change_through_the_admin_or_code_reschedules_once(
    tenant_a: Tenant, tenant_b: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    lawyer = person(tenant_a, "lawyer")
    process = lawyer_with_deadline(tenant_a, lawyer)
    calendar = WorkingCalendar.objects.get(organisation=tenant_a.org)
    with (
        time_machine.travel(at(2026, 3, 3, 12, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        for day in (4, 5):  # two rows saved in one transaction
            CalendarDay.objects.create(
                organisation=tenant_a.org,
                calendar=calendar,
                date=date(2026, 3, day),
            )
    runs = [c for c in callbacks if c.__name__ == "run"]
    assert len(runs) == 1  # rescheduled once, not per row
    assert open_task(process, lawyer).due_at == at(2026, 3, 9, 18, 0)
    assert len(moved_notices(lawyer)) == 1
    # another organisation's calendar is not this one's business
    with time_machine.travel(at(2026, 3, 3, 13, 0), tick=False):
        assert deadlines_reschedule(tenant_b.org.pk) == 0
