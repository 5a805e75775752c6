"""Calendar invitations of route actions: an RFC 5545 ``.ics`` for the notice mail.

A route action ``{"notify": [...], "invite": {...}}`` sends its notice with an event
attached (S5/S6 interviews). The event starts at the document's date field plus a
time (fixed, or a string field "HH:MM"), or at a string field "YYYY-MM-DD HH:MM",
read in the organisation's time zone; the .ics carries that zone (TZID with its
VTIMEZONE), so a calendar shows the right hour wherever the reader is. The
initiator organises it; the people notified are its attendees. Built with the
``icalendar`` library.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from sogla.engine.definition import Invite
from sogla.notifications.messages import mail_host

_TIME = re.compile(r"^\s*([01]?[0-9]|2[0-3])[:.]([0-5][0-9])\s*$")
_START = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[T ]([0-9]{1,2}[:.][0-9]{2})(?::\d{2})?\s*$"
)
ICS_TYPE = "text/calendar; method=REQUEST; charset=utf-8"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Invitation:
    """An event ready to attach: its times (aware) and the .ics text."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str
    ics: str

    def as_context(self) -> dict[str, str]:
        """What the notice row keeps (JSON): the mail attaches ``ics``."""
        return {
            "invite_uid": self.uid,
            "invite_start": self.start.isoformat(),
            "invite_end": self.end.isoformat(),
            "invite_summary": self.summary,
            "invite_location": self.location,
            "ics": self.ics,
        }


class NoStart(Exception):
    """The document does not say when the event starts; ``reason`` is audited."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _clock(value: Any, name: str) -> time:
    found = _TIME.match(str(value or ""))
    if found is None:
        raise NoStart(f'the field "{name}" is not a time (HH:MM)')
    return time(int(found.group(1)), int(found.group(2)))


def _day(value: Any, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip()[:10])
    except ValueError:
        raise NoStart(f'the field "{name}" is not a date') from None


def start_of(
    invite: Invite, fields: Mapping[str, Any], zone: zoneinfo.ZoneInfo
) -> datetime:
    """When the event starts, in ``zone``; ``NoStart`` when the document does not say."""
    if invite.start_field:
        found = _START.match(str(fields.get(invite.start_field) or ""))
        if found is None:
            raise NoStart(
                f'the field "{invite.start_field}" is not a date and time '
                "(YYYY-MM-DD HH:MM)"
            )
        day = _day(found.group(1), invite.start_field)
        at = _clock(found.group(2), invite.start_field)
    else:
        name = invite.date_field or ""
        day = _day(fields.get(name), name)
        if invite.time_field:
            at = _clock(fields.get(invite.time_field), invite.time_field)
        else:
            at = _clock(invite.time, "time")
    return datetime.combine(day, at, tzinfo=zone)


def build(
    invite: Invite,
    *,
    fields: Mapping[str, Any],
    zone: zoneinfo.ZoneInfo,
    uid: str,
    summary: str,
    organizer: Person | None,
    attendees: Sequence[Person],
    now: datetime,
) -> Invitation:
    """The invitation: VCALENDAR (METHOD:REQUEST) with one VEVENT and the zone's
    VTIMEZONE. ``NoStart`` when the document does not say when."""
    start = start_of(invite, fields, zone)
    end = start + timedelta(minutes=invite.duration_minutes)
    location = invite.location
    if invite.location_field:
        location = str(fields.get(invite.location_field) or "") or location
    calendar = Calendar()
    calendar.add("prodid", "-//Sogla//Routes//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    calendar.add("calscale", "GREGORIAN")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    if organizer is not None and organizer.email:
        event.add("organizer", _address(organizer, organizer=True))
    for person in attendees:
        if person.email:
            event.add("attendee", _address(person), encode=False)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return Invitation(
        uid=uid,
        start=start,
        end=end,
        summary=summary,
        location=location,
        ics=calendar.to_ical().decode(),
    )


def _address(person: Person, *, organizer: bool = False) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["cn"] = vText(person.name)
    if not organizer:
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
    return address


def uid_for(process_pk: int, where: str, round_: int) -> str:
    """One event per process, action and round: a repeat updates, never doubles."""
    return f"sogla-{process_pk}-{where}-r{round_}@{mail_host()}"
