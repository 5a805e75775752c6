"""The words and CSS classes of workflow states, kinds and outcomes, in one place.

Screens, messages and services say a state or a decision with these helpers, so one
word never drifts between the card, the inbox, the e-mails and the history. One
table per concept, one row per value; class names are written out whole, so that
the CSS purge finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from sogla.engine.definition import Text

Label = str | Promise


def name_in_language(text: Text) -> str:
    """A route's, stage's or step's name in the active language ("" if it has none)."""
    return text.get("en" if get_language() == "en" else "ru")


# --- the colour of a stage, step or task (the route map, the traffic light, the API) --

Colour = Literal[
    "not_started",
    "waiting",
    "overdue",
    "returned",
    "rejected",
    "done",
    "skipped",
    "carried_over",
]


@dataclass(frozen=True)
class Look:
    """How a colour is said and drawn: as a chip or a heading says it ("Waiting"),
    inside a sentence ("waiting"), the status chip with its icon, the route map's
    frame of a stage or step, and a segment of the registry's traffic light."""

    label: Label
    word: Label
    chip: str
    icon: str
    frame: str
    segment: str


LOOKS: dict[str, Look] = {
    "not_started": Look(
        gettext_lazy("Not started"),
        gettext_lazy("not started"),
        "status-chip status-neutral",
        "bi-circle",
        "map-neutral",
        "tl-future",
    ),
    "waiting": Look(
        gettext_lazy("Waiting"),
        gettext_lazy("waiting"),
        "status-chip status-waiting",
        "bi-hourglass-split",
        "map-waiting",
        "tl-current",
    ),
    "overdue": Look(
        gettext_lazy("Overdue"),
        gettext_lazy("overdue"),
        "status-chip status-overdue",
        "bi-alarm-fill",
        "map-overdue",
        "tl-overdue",
    ),
    "returned": Look(
        gettext_lazy("Returned"),
        gettext_lazy("returned"),
        "status-chip status-returned",
        "bi-arrow-counterclockwise",
        "map-returned",
        "tl-returned",
    ),
    "rejected": Look(
        gettext_lazy("Rejected"),
        gettext_lazy("rejected"),
        "status-chip status-rejected",
        "bi-x-octagon-fill",
        "map-rejected",
        "tl-rejected",
    ),
    "done": Look(
        gettext_lazy("Done"),
        gettext_lazy("done"),
        "status-chip status-approved",
        "bi-check-circle-fill",
        "map-done",
        "tl-done",
    ),
    "skipped": Look(
        gettext_lazy("Skipped"),
        gettext_lazy("skipped"),
        "status-chip status-neutral",
        "bi-skip-forward",
        "map-skipped",
        "tl-skipped",
    ),
    # The traffic light draws a stage carried over from an earlier round as done.
    "carried_over": Look(
        gettext_lazy("Carried over"),
        gettext_lazy("done"),
        "status-chip status-approved chip-outlined",
        "bi-arrow-repeat",
        "map-carried",
        "tl-done",
    ),
}


def look(colour: str) -> Look:
    return LOOKS.get(colour, LOOKS["not_started"])


def colour_label(colour: str) -> str:
    """A colour as a chip or a heading says it: "Waiting"."""
    return str(LOOKS[colour].label) if colour in LOOKS else colour


def colour_word(colour: str) -> str:
    """A colour inside a sentence, as the traffic light says it: "waiting"."""
    return str(LOOKS[colour].word) if colour in LOOKS else colour


# --- the kind of a task: (icon, what it asks for) --------------------------------------

KINDS: dict[str, tuple[str, Label]] = {
    "approve": ("bi-check2-square", gettext_lazy("Approve")),
    "sign": ("bi-pen", gettext_lazy("Sign")),
    "acknowledge": ("bi-eye", gettext_lazy("Acknowledge")),
    "request_info": ("bi-input-cursor-text", gettext_lazy("Fill in")),
    "task": ("bi-list-check", gettext_lazy("Task")),
    "consult": ("bi-chat-left-text", gettext_lazy("Opinion")),
    "revision": ("bi-arrow-counterclockwise", gettext_lazy("Revise")),
}


def kind_icon(kind: str) -> str:
    return KINDS[kind][0] if kind in KINDS else "bi-circle"


def kind_label(kind: str) -> str:
    """What a task of this kind asks for: "Approve", "Fill in"."""
    return str(KINDS[kind][1]) if kind in KINDS else kind


# --- a decision: in a sentence, and as a chip (word, class, icon) ----------------------


@dataclass(frozen=True)
class Outcome:
    label: Label  # "approved", in a sentence
    chip_word: Label  # "Approved"
    chip: str
    icon: str


_APPROVED, _ACTIVE = "status-chip status-approved", "status-chip status-active"
OUTCOMES: dict[str, Outcome] = {
    "approve": Outcome(
        gettext_lazy("approved"),
        gettext_lazy("Approved"),
        _APPROVED,
        "bi-check-circle-fill",
    ),
    "approve_with_remarks": Outcome(
        gettext_lazy("approved with remarks"),
        gettext_lazy("Approved with remarks"),
        _APPROVED,
        "bi-chat-left-text",
    ),
    "return": Outcome(
        gettext_lazy("returned for revision"),
        gettext_lazy("Returned for revision"),
        "status-chip status-returned",
        "bi-arrow-counterclockwise",
    ),
    "return_to_stage": Outcome(
        gettext_lazy("sent back to an earlier stage"),
        gettext_lazy("Sent back to a stage"),
        "status-chip status-returned",
        "bi-arrow-return-left",
    ),
    "reject": Outcome(
        gettext_lazy("rejected"),
        gettext_lazy("Rejected"),
        "status-chip status-rejected",
        "bi-x-octagon-fill",
    ),
    "acknowledge": Outcome(
        gettext_lazy("acknowledged"),
        gettext_lazy("Acknowledged"),
        _APPROVED,
        "bi-check-circle-fill",
    ),
    "done": Outcome(
        gettext_lazy("done"), gettext_lazy("Done"), _APPROVED, "bi-check-circle-fill"
    ),
    "opinion": Outcome(
        gettext_lazy("gave an opinion"),
        gettext_lazy("Opinion given"),
        _ACTIVE,
        "bi-chat-left-text",
    ),
    "resubmitted": Outcome(
        gettext_lazy("resubmitted"),
        gettext_lazy("Resubmitted"),
        _ACTIVE,
        "bi-arrow-repeat",
    ),
}


def outcome_label(outcome: str) -> str:
    """A decision in words, for messages and the route map."""
    return str(OUTCOMES[outcome].label) if outcome in OUTCOMES else outcome


def outcome_chip(outcome: str) -> tuple[str, str, str]:
    """A decision as a chip shows it: (chip class, icon, word)."""
    if outcome not in OUTCOMES:
        return "status-chip status-neutral", "bi-circle", outcome
    found = OUTCOMES[outcome]
    return found.chip, found.icon, str(found.chip_word)


# --- quorums and finished approvals ----------------------------------------------------


def quorum_label(quorum: str) -> str:
    """How many of a step's people must decide: "any one of them"."""
    if quorum == "any":
        return _("any one of them")
    if quorum == "all":
        return _("all of them")
    return _("%(n)s of them") % {"n": quorum}


FINISHED: dict[str, Label] = {
    "approved": gettext_lazy("approved"),
    "rejected": gettext_lazy("rejected"),
    "cancelled": gettext_lazy("cancelled"),
}


def finished_label(status: str) -> str:
    """How an approval ended, inside a sentence: "approved"."""
    return str(FINISHED[status]) if status in FINISHED else status
