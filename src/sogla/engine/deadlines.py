"""Deadlines, reminders and escalations in working time.

A ``Clock`` is the command's moment (``Context.now``) and the organisation's working
calendar; the run asks it when a task is due (``due_at``), when to remind of it
(``remind_at``), when to escalate it (``escalate_at``) and when a ``wait_for`` step
ends (``after``). Spans count working days, or working hours of the calendar, in the
local time of the command's clock unless a person's own zone is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sogla.engine.calendar import WorkCalendar
from sogla.engine.context import as_date, why_not_a_date
from sogla.engine.definition import Due, Span

# The default reminder: after 80% of the time, or one working day before, if later.
REMINDER_SHARE = 0.8


@dataclass(frozen=True)
class NoDeadline:
    """A deadline read from a date field that gives no date: the reason, for people."""

    reason: str


@dataclass(frozen=True)
class Clock:
    now: datetime
    calendar: WorkCalendar

    def before(self, moment: datetime, span: Span) -> datetime:
        """``span`` of working time before ``moment`` (hours count working hours),
        counted in the local time of the command's clock."""
        moment = moment.astimezone(self.now.tzinfo)
        if span.hours is not None:
            return self.calendar.subtract_working_hours(moment, span.hours)
        return self.calendar.working_days_before(moment, span.working_days or 0)

    def after(self, moment: datetime, span: Span) -> datetime:
        """``span`` of working time after ``moment`` (hours count working hours),
        counted in the local time of the command's clock."""
        moment = moment.astimezone(self.now.tzinfo)
        if span.hours is not None:
            return self.calendar.add_working_hours(moment, span.hours)
        return self.calendar.working_days_after(moment, span.working_days or 0)

    def end_of(self, day: date, zone: tzinfo | None = None) -> datetime:
        """The end of the working day ``day``, in ``zone`` or the clock's zone."""
        return datetime.combine(
            day, self.calendar.day_ends, tzinfo=zone or self.now.tzinfo
        )

    def due_at(
        self, due: Due, zone: tzinfo | None, facts: Mapping[str, Any]
    ) -> datetime | NoDeadline:
        """The deadline in working time, at the end of the assignee's working day
        (``zone`` is the assignee's, when known)."""
        local = self.now.astimezone(zone or self.now.tzinfo)
        if due.working_days is not None:
            return self.calendar.deadline(local, due.working_days)
        if due.hours is not None:  # working hours of the calendar, in the local day
            return self.calendar.add_working_hours(local, due.hours)
        raw = facts.get(due.field or "")
        day = as_date(raw)
        if day is None:
            return NoDeadline(f'the deadline field "{due.field}" {why_not_a_date(raw)}')
        return self.end_of(day, local.tzinfo)

    def remind_at(self, due: Due | None, due_at: datetime) -> datetime | None:
        """When to remind of a deadline: never in the past, never after it."""
        if due is not None and not due.reminder:
            return None
        if due is not None and due.remind_before is not None:
            at = self.before(due_at, due.remind_before)
        else:
            share = self.now + (due_at - self.now) * REMINDER_SHARE
            at = max(share, self.before(due_at, Span(working_days=1)))
            at = self.calendar.within_working_hours(at.astimezone(due_at.tzinfo))
        return at if self.now < at < due_at else None

    def escalate_at(self, due_at: datetime, span: Span) -> datetime:
        """When to tell the manager: ``span`` after the deadline, never in the past."""
        return max(self.after(due_at, span), self.now)
