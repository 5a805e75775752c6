"""How long a task waits or is late, in the organisation's working days.

The working days are the organisation's calendar counted on the organisation's
dates, whoever looks: the same card says the same to a viewer in another time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.engine.calendar import WorkCalendar
from sogla.orgs.calendars import organisation_zone
from sogla.orgs.models import Organisation
from sogla.workflow.services import organisation_calendar


@dataclass(frozen=True)
class WorkingTime:
    calendar: WorkCalendar
    zone: tzinfo

    def days(self, start: datetime, end: datetime) -> int:
        """Working days after ``start``'s date up to ``end``'s, both taken locally."""
        return self.calendar.working_days_between(
            start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        )

    def waiting(self, since: datetime, now: datetime) -> str:
        """ "3 working days" or, within the same day, "2 h" / "less than an hour"."""
        days = self.days(since, now)
        if days:
            return ngettext("%(count)d working day", "%(count)d working days", days) % {
                "count": days
            }
        hours = int((now - since).total_seconds() // 3600)
        if hours < 1:
            return _("less than an hour")
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}

    def overdue(self, due: datetime, now: datetime) -> str:
        """ "2 working days overdue" (at least one: overdue today counts as one)."""
        days = max(1, self.days(due, now))
        return ngettext(
            "%(count)d working day overdue", "%(count)d working days overdue", days
        ) % {"count": days}


def working_time(organisation: Organisation) -> WorkingTime:
    """The organisation's calendar (cached) and time zone."""
    return WorkingTime(
        organisation_calendar(organisation), organisation_zone(organisation)
    )
