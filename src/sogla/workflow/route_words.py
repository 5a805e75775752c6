"""A route's problems in the reader's language.

The engine checks a definition and names each problem in English with its path
(``stages[1].steps[0].assignee.role: no role "lawer" in this organisation``); the
builder shows it on the card the path points to, said again here in the reader's
language. A message this table does not know is shown as the engine wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from sogla.engine.validation import Problem


@dataclass(frozen=True)
class ShownProblem:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def _rules() -> list[tuple[str, Callable[[], str]]]:
    return [
        (r'stage "(?P<x>[^"]*)" appears twice',
         lambda: _("The stage key «%(x)s» is used twice.")),
        (r'step "(?P<x>[^"]*)" appears twice in the stage',
         lambda: _("The step key «%(x)s» is used twice in this stage.")),
        (r'a (?P<k>\w+) step cannot end with "(?P<x>[^"]*)"',
         lambda: _("This kind of step cannot end with «%(x)s».")),
        (r"the step could never finish",
         lambda: _("The step could never finish: add an outcome that completes it.")),
        (r"the quorum is (?P<q>\d+) but only (?P<n>\d+) named",
         lambda: _("The quorum is %(q)s but only %(n)s people are named.")),
        (r"a (?P<k>\w+) step has no assignee",
         lambda: _("This kind of step has no assignee.")),
        (r"a person must be assigned",
         lambda: _("Choose who is asked.")),
        (r"the quorum must be at least 1",
         lambda: _("The quorum must be at least 1.")),
        (r"a system step needs at least one action",
         lambda: _("A system step needs at least one action.")),
        (r"only a wait step waits",
         lambda: _("Only a wait step waits.")),
        (r"a wait step needs either",
         lambda: _("A wait step needs a date field or a length of time.")),
        (r'"(?P<x>[^"]*)" is not among the step\'s fields',
         lambda: _("«%(x)s» is not among the step's fields.")),
        (r"the reminder would come before the task opens",
         lambda: _("The reminder would come before the task opens: make it shorter than the deadline.")),
        (r"a (?P<k>\w+) step has no deadline",
         lambda: _("This kind of step has no deadline.")),
        (r'no role "(?P<x>[^"]*)" in this organisation',
         lambda: _("There is no role «%(x)s» in this organisation.")),
        (r'no user "(?P<x>[^"]*)" in this organisation',
         lambda: _("There is no person «%(x)s» in this organisation.")),
        (r'no department "(?P<x>[^"]*)" in this organisation',
         lambda: _("There is no department «%(x)s» in this organisation.")),
        (r'"(?P<x>[^"]*)" is not an e-mail address',
         lambda: _("«%(x)s» is not an e-mail address.")),
        (r'no status "(?P<x>[^"]*)" in this document type',
         lambda: _("The document type has no status «%(x)s».")),
        (r'no field "(?P<x>[^"]*)" in this document type',
         lambda: _("The document type has no field «%(x)s».")),
        (r'field "(?P<x>[^"]*)" is not of kind (?P<k>.*)',
         lambda: _("The field «%(x)s» is of the wrong kind (needs %(k)s).")),
        (r'stage "(?P<x>[^"]*)" comes later',
         lambda: _("The stage «%(x)s» comes later: a step can send the document back only to an earlier stage.")),
        (r'stages "(?P<a>[^"]*)" and "(?P<b>[^"]*)" send the document back to each other',
         lambda: _("The stages «%(a)s» and «%(b)s» send the document back to each other: a cycle.")),
        (r'no stage "(?P<x>[^"]*)" in this route',
         lambda: _("There is no stage «%(x)s» in this route.")),
        (r"the step would send the document back to its own stage",
         lambda: _("The step is alone in its stage: sending the document back to it makes no sense.")),
        (r"a (?P<k>\w+) step cannot send the document back",
         lambda: _("This kind of step cannot send the document back.")),
        (r'"return_to_stage" needs the stages',
         lambda: _("Choose the stages the step may send the document back to.")),
        (r"an invitation is sent with a notice",
         lambda: _("A calendar invitation goes with a notice: choose whom to notify.")),
        (r"choose one of start_field, date_field",
         lambda: _("Choose when the event starts: a date field, or a field with the date and time.")),
        (r"choose one of time, time_field",
         lambda: _("Choose the start time: a fixed time or a field.")),
        (r"^String should match pattern '\^\(\[01\]",
         lambda: _("Write the time as HH:MM, e.g. 10:00.")),
        (r"role nobody holds: (?P<x>.*)",
         lambda: _("Nobody holds the role «%(x)s».")),
        (r"^Field required",
         lambda: _("This is required.")),
        (r"^String should match pattern",
         lambda: _("Use lower-case Latin letters, digits and _, starting with a letter.")),
        (r"^List should have at least 1 item",
         lambda: _("Empty: add at least one.")),
        (r"^choose exactly one of user, role",
         lambda: _("Choose who is asked.")),
        (r"^choose one of working_days, hours, field",
         lambda: _("Choose one: working days, hours or a date field.")),
        (r"^choose one of working_days, hours",
         lambda: _("Choose one: working days or hours.")),
        (r"^Extra inputs are not permitted",
         lambda: _("Unknown setting.")),
        (r"^Input should be (greater|less) than",
         lambda: _("The number is out of range.")),
        (r"^Input should be",
         lambda: _("This value is not allowed here.")),
    ]  # fmt: skip


def say(message: str) -> str:
    """One engine message in the reader's language."""
    for pattern, words in _rules():
        found = re.search(pattern, message)
        if found:
            return words() % found.groupdict()
    return message


def shown(problems: Iterable[Problem]) -> list[ShownProblem]:
    return [ShownProblem(p.path, say(p.message)) for p in problems]
