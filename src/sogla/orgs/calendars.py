"""An organisation's working calendar: weekly pattern, public holidays, exceptions."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, tzinfo

import holidays
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from sogla.engine.calendar import WorkCalendar
from sogla.orgs.models import CalendarDay, Organisation, WorkingCalendar


def public_holidays(country: str, years: range) -> set[date]:
    try:
        days = holidays.country_holidays(country, years=list(years))
    except NotImplementedError:
        return set()
    return set(days.keys())


def work_calendar(
    organisation: Organisation, years: range | None = None
) -> WorkCalendar:
    """The organisation's calendar for ``years`` (default: last, this and next year)."""
    if years is None:
        this_year = date.today().year  # noqa: DTZ011 (a range of years, not a moment)
        years = range(this_year - 1, this_year + 2)
    settings_row = WorkingCalendar.objects.filter(organisation=organisation).first()
    if settings_row is None:  # no calendar saved: Monday to Friday, 9 to 18, holidays
        return WorkCalendar(
            holidays=frozenset(public_holidays(organisation.country, years))
        )
    off = (
        public_holidays(organisation.country, years)
        if settings_row.use_public_holidays
        else set()
    )
    exceptions = CalendarDay.objects.filter(
        organisation=organisation, date__year__in=list(years)
    ).values_list("date", "is_working")
    extra_working = {day for day, working in exceptions if working}
    off |= {day for day, working in exceptions if not working}
    weekdays = frozenset(
        int(part) for part in settings_row.working_weekdays.split(",") if part.strip()
    )
    return WorkCalendar(
        weekdays=weekdays,
        holidays=frozenset(off - extra_working),
        extra_working=frozenset(extra_working),
        day_starts=settings_row.day_starts,
        day_ends=settings_row.day_ends,
    )


def organisation_zone(organisation: Organisation) -> tzinfo:
    """The organisation's time zone: its working days are dates there (UTC if the
    stored name is unknown)."""
    try:
        return zoneinfo.ZoneInfo(organisation.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def calendar_version(organisation_id: int) -> int:
    """The version of the organisation's saved calendar (0 when none is saved)."""
    found = (
        WorkingCalendar.objects.filter(organisation_id=organisation_id)
        .values_list("version", flat=True)
        .first()
    )
    return int(found or 0)


@receiver(post_save, sender=WorkingCalendar)
@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def _calendar_changed(instance: object, **_kwargs: object) -> None:
    """Every change, through the admin or code, raises the calendar's version."""
    organisation_id = getattr(instance, "organisation_id", None)
    if organisation_id is not None:
        WorkingCalendar.objects.filter(organisation_id=organisation_id).update(
            version=F("version") + 1
        )
