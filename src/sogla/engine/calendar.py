"""Working-time arithmetic over a calendar of working days and hours (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, and the working hours of each of them.

    ``holidays`` are days off that would otherwise be working days; ``extra_working``
    are weekend days that are working days (as when a holiday is moved).
    """

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_working: frozenset[date] = field(default_factory=frozenset)
    day_starts: time = time(9, 0)
    day_ends: time = time(18, 0)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        if days < 0:
            msg = "days must not be negative"
            raise ValueError(msg)
        current = start
        remaining = days
        for _ in range(days * 7 + 400):
            if remaining == 0:
                return current
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        msg = "the calendar has no working days"
        raise ValueError(msg)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            count += self.is_working_day(current)
        return count

    def previous_working_day(self, day: date, days: int) -> date:
        """The date ``days`` working days before ``day``."""
        current = day
        for _ in range(days * 7 + 400):
            if days == 0:
                return current
            current -= timedelta(days=1)
            if self.is_working_day(current):
                days -= 1
        msg = "the calendar has no working days"
        raise ValueError(msg)

    def working_days_before(self, moment: datetime, days: int) -> datetime:
        """The same time of day ``days`` working days earlier."""
        day = self.previous_working_day(moment.date(), days)
        return datetime.combine(day, moment.timetz())

    def working_days_after(self, moment: datetime, days: int) -> datetime:
        """The same time of day ``days`` working days later."""
        day = self.add_working_days(moment.date(), days)
        return datetime.combine(day, moment.timetz())

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``hours`` of working time after ``start`` (local time; nights, weekends and
        holidays do not count): 4 h from Friday 16:00 is Monday 11:00."""
        if hours < 0:
            msg = "hours must not be negative"
            raise ValueError(msg)
        left = timedelta(hours=hours)
        current = start
        for _ in range(int(hours // 1) * 7 + 800):
            day = current.date()
            opens = datetime.combine(day, self.day_starts, current.tzinfo)
            closes = datetime.combine(day, self.day_ends, current.tzinfo)
            if not self.is_working_day(day) or current >= closes:
                current = datetime.combine(
                    self.add_working_days(day, 1), self.day_starts, current.tzinfo
                )
                continue
            current = max(current, opens)
            if current + left <= closes:
                return current + left
            left -= closes - current
            current = closes
        msg = "the calendar has no working hours"
        raise ValueError(msg)

    def subtract_working_hours(self, end: datetime, hours: float) -> datetime:
        """The moment ``hours`` of working time before ``end`` (see add_working_hours)."""
        left = timedelta(hours=hours)
        current = end
        for _ in range(int(hours // 1) * 7 + 800):
            day = current.date()
            opens = datetime.combine(day, self.day_starts, current.tzinfo)
            closes = datetime.combine(day, self.day_ends, current.tzinfo)
            if not self.is_working_day(day) or current <= opens:
                current = datetime.combine(
                    self.previous_working_day(day, 1), self.day_ends, current.tzinfo
                )
                continue
            current = min(current, closes)
            if current - left >= opens:
                return current - left
            left -= current - opens
            current = opens
        msg = "the calendar has no working hours"
        raise ValueError(msg)

    def within_working_hours(self, moment: datetime) -> datetime:
        """Moved into working hours: a night-time reminder waits till the day starts,
        an evening one comes at the day's end, one on a day off the working day
        before (earlier, never later than asked, as a reminder must be)."""
        if not self.is_working_day(moment.date()):
            day = self.previous_working_day(moment.date(), 1)
            return datetime.combine(day, self.day_ends, moment.tzinfo)
        if moment.time() < self.day_starts:
            return datetime.combine(moment.date(), self.day_starts, moment.tzinfo)
        if moment.time() > self.day_ends:
            return datetime.combine(moment.date(), self.day_ends, moment.tzinfo)
        return moment

    def deadline(self, start: datetime, days: int) -> datetime:
        """The end of the working day ``days`` working days after ``start`` (local time)."""
        day = self.add_working_days(start.date(), days)
        return datetime.combine(day, self.day_ends, tzinfo=start.tzinfo)
