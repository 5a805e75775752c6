"""Working calendars: weekly pattern, Russian public holidays, moved days."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sogla.engine.calendar import WorkCalendar
from sogla.orgs.calendars import work_calendar
from sogla.orgs.models import CalendarDay, WorkingCalendar
from tests.conftest import Tenant


def test_new_year_holidays_are_not_working_days(tenant_a: Tenant) -> None:
    calendar = work_calendar(tenant_a.org, range(2026, 2027))
    assert not calendar.is_working_day(date(2026, 1, 5))  # Monday, New Year holidays
    assert calendar.is_working_day(date(2026, 1, 12))
    # Friday 30 Jan 2026 + 1 working day -> Monday 2 Feb
    assert calendar.add_working_days(date(2026, 1, 30), 1) == date(2026, 2, 2)


def test_exceptions_override_the_weekly_pattern(tenant_a: Tenant) -> None:
    row = WorkingCalendar.objects.create(organisation=tenant_a.org)
    CalendarDay.objects.create(
        organisation=tenant_a.org, calendar=row, date=date(2026, 3, 14), is_working=True
    )
    CalendarDay.objects.create(
        organisation=tenant_a.org,
        calendar=row,
        date=date(2026, 3, 16),
        is_working=False,
    )
    calendar = work_calendar(tenant_a.org, range(2026, 2027))
    assert calendar.is_working_day(date(2026, 3, 14))  # a Saturday made working
    assert not calendar.is_working_day(date(2026, 3, 16))  # a Monday off
    assert calendar.working_days_between(date(2026, 3, 13), date(2026, 3, 17)) == 2


def test_deadline_is_end_of_working_day_in_local_time() -> None:
    calendar = WorkCalendar(day_ends=time(18, 0))
    start = datetime(2026, 5, 8, 16, 0, tzinfo=ZoneInfo("Europe/Moscow"))  # Friday
    assert calendar.deadline(start, 2) == datetime(
        2026, 5, 12, 18, 0, tzinfo=ZoneInfo("Europe/Moscow")
    )


def test_an_organisation_without_a_saved_calendar_gets_working_hours(
    tenant_a: Tenant,
) -> None:
    calendar = work_calendar(tenant_a.org, range(2026, 2027))
    start = datetime(2026, 5, 8, 16, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert calendar.deadline(start, 1) == datetime(
        2026, 5, 12, 18, 0, tzinfo=ZoneInfo("Europe/Moscow")
    )  # 11 May 2026 is a public holiday (Victory Day moved)
