"""What the caller tells the engine about the moment of a command, and how the
engine reads the document's facts it is given.

``Context`` goes into ``run.handle``; ``Resolver``/``Unresolved`` are how the caller
answers "who are the people of this step?" (also for ``preview``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sogla.engine.calendar import WorkCalendar
from sogla.engine.definition import Assignee
from sogla.engine.states import Participant


@dataclass(frozen=True)
class Unresolved:
    """The resolver could not find anyone: the reason is shown to people."""

    reason: str


Resolver = Callable[[Assignee], Sequence[Participant] | Unresolved]


def _resolve_nobody(_assignee: Assignee) -> Unresolved:
    return Unresolved("no resolver was given")


def _no_zone(_person: Participant) -> tzinfo | None:
    return None


@dataclass(frozen=True)
class Context:
    """What the caller knows at the moment of the command.

    ``facts`` are the document's current field values plus derived facts
    (``initiator.department``...). ``files_sha256`` is the hash of the document's
    current files: previous-round approvals carry over only when it matches the
    hash recorded with the decision.
    """

    now: datetime
    facts: Mapping[str, Any] = field(default_factory=dict)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    resolve: Resolver = _resolve_nobody
    files_sha256: str | None = None
    zone: Callable[[Participant], tzinfo | None] = _no_zone


# --- reading facts -------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """A fact nobody filled in (a required field left empty)."""
    return value is None or value == "" or value == [] or value == {}


def as_date(value: Any) -> date | None:
    """A date fact (a date, a datetime or an ISO string) as a date; None otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def why_not_a_date(value: Any) -> str:
    """The end of a sentence saying why a date fact gives no date."""
    return "is empty" if is_empty(value) else "is not a date"
