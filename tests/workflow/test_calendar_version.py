"""A holiday added in one process counts at once in every other (issue 13, item 8).

Each process keeps the working calendar; before, another process's change was seen
only after five minutes, so deadlines computed meanwhile were stored wrong. Now the
calendar's row carries a version that every change raises, and a process compares
it (one small query) before it uses the calendar it keeps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sogla.orgs.models import CalendarDay, WorkingCalendar
from sogla.workflow import tenant
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
HOLIDAY = date(2026, 12, 7)  # a Monday


@pytest.fixture(autouse=True)
def _check_on_every_use(settings: Any) -> None:
    settings.SOGLA_CALENDAR_CHECK_SECONDS = 0
    tenant.cache_clear()


def _other_process_adds(calendar: WorkingCalendar, day: date) -> None:
    """What another process's admin save leaves in the database: the day and a
    raised version, without this process's signal handlers running."""
    CalendarDay.objects.bulk_create(
        [CalendarDay(organisation=calendar.organisation, calendar=calendar, date=day)]
    )
    WorkingCalendar.objects.filter(pk=calendar.pk).update(version=calendar.version + 7)


def test_another_process_s_holiday_counts_at_once(tenant_a: Tenant) -> None:
    calendar = WorkingCalendar.objects.create(organisation=tenant_a.org)
    calendar.refresh_from_db()
    assert tenant.organisation_calendar(tenant_a.org).is_working_day(HOLIDAY)
    _other_process_adds(calendar, HOLIDAY)
    assert not tenant.organisation_calendar(tenant_a.org).is_working_day(HOLIDAY)


def test_the_first_saved_calendar_replaces_the_default(tenant_a: Tenant) -> None:
    assert tenant.organisation_calendar(tenant_a.org).is_working_day(HOLIDAY)
    calendar = WorkingCalendar.objects.bulk_create(
        [WorkingCalendar(organisation=tenant_a.org, working_weekdays="1,2,3,4")]
    )[0]
    WorkingCalendar.objects.filter(pk=calendar.pk).update(version=1)
    assert not tenant.organisation_calendar(tenant_a.org).is_working_day(HOLIDAY)


def test_every_change_raises_the_version(tenant_a: Tenant) -> None:
    calendar = WorkingCalendar.objects.create(organisation=tenant_a.org)
    versions = [WorkingCalendar.objects.get(pk=calendar.pk).version]
    day = CalendarDay.objects.create(
        organisation=tenant_a.org, calendar=calendar, date=HOLIDAY
    )
    versions.append(WorkingCalendar.objects.get(pk=calendar.pk).version)
    day.is_working = True
    day.save()
    versions.append(WorkingCalendar.objects.get(pk=calendar.pk).version)
    day.delete()
    versions.append(WorkingCalendar.objects.get(pk=calendar.pk).version)
    assert versions == sorted(set(versions)), versions


def test_an_unchanged_calendar_costs_one_small_query(
    tenant_a: Tenant, django_assert_num_queries: Any
) -> None:
    WorkingCalendar.objects.create(organisation=tenant_a.org)
    tenant.organisation_calendar(tenant_a.org)
    with django_assert_num_queries(1):
        tenant.organisation_calendar(tenant_a.org)
