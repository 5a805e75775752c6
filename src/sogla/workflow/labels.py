"""The words and CSS classes of workflow states, kinds and outcomes, in one place.

Screens, messages and services say a state or a decision with these helpers, so one
word never drifts between the card, the inbox, the e-mails and the history. Class
names are written out whole, so that the CSS purge finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.engine.definition import Text


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
    """How a colour is drawn: a status chip with its icon, the route map's frame
    of a stage or step, and a segment of the registry's traffic light."""

    chip: str
    icon: str
    frame: str
    segment: str


LOOKS: dict[str, Look] = {
    "not_started": Look(
        "status-chip status-neutral", "bi-circle", "map-neutral", "tl-seg tl-future"
    ),
    "waiting": Look(
        "status-chip status-waiting",
        "bi-hourglass-split",
        "map-waiting",
        "tl-seg tl-current",
    ),
    "overdue": Look(
        "status-chip status-overdue",
        "bi-alarm-fill",
        "map-overdue",
        "tl-seg tl-overdue",
    ),
    "returned": Look(
        "status-chip status-returned",
        "bi-arrow-counterclockwise",
        "map-returned",
        "tl-seg tl-returned",
    ),
    "rejected": Look(
        "status-chip status-rejected",
        "bi-x-octagon-fill",
        "map-rejected",
        "tl-seg tl-rejected",
    ),
    "done": Look(
        "status-chip status-approved",
        "bi-check-circle-fill",
        "map-done",
        "tl-seg tl-done",
    ),
    "skipped": Look(
        "status-chip status-neutral",
        "bi-skip-forward",
        "map-skipped",
        "tl-seg tl-skipped",
    ),
    # A stage carried over from an earlier round is done as far as the light goes.
    "carried_over": Look(
        "status-chip status-approved chip-outlined",
        "bi-arrow-repeat",
        "map-carried",
        "tl-seg tl-done",
    ),
}


def look(colour: str) -> Look:
    return LOOKS.get(colour, LOOKS["not_started"])


def colour_label(colour: str) -> str:
    """A colour as a chip or a heading says it: "Waiting"."""
    labels = {
        "not_started": _("Not started"),
        "waiting": _("Waiting"),
        "overdue": _("Overdue"),
        "returned": _("Returned"),
        "rejected": _("Rejected"),
        "done": _("Done"),
        "skipped": _("Skipped"),
        "carried_over": _("Carried over"),
    }
    return str(labels.get(colour, colour))


def colour_word(colour: str) -> str:
    """A colour inside a sentence, as the traffic light says it: "waiting"."""
    words = {
        "not_started": _("not started"),
        "waiting": _("waiting"),
        "overdue": _("overdue"),
        "returned": _("returned"),
        "rejected": _("rejected"),
        "done": _("done"),
        "skipped": _("skipped"),
    }
    return str(words.get(colour, colour))


# --- the kind of a task ----------------------------------------------------------------

KIND_ICONS = {
    "approve": "bi-check2-square",
    "sign": "bi-pen",
    "acknowledge": "bi-eye",
    "request_info": "bi-input-cursor-text",
    "task": "bi-list-check",
    "consult": "bi-chat-left-text",
    "revision": "bi-arrow-counterclockwise",
}


def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "bi-circle")


def kind_label(kind: str) -> str:
    """What a task of this kind asks for: "Approve", "Fill in"."""
    labels = {
        "approve": _("Approve"),
        "sign": _("Sign"),
        "acknowledge": _("Acknowledge"),
        "request_info": _("Fill in"),
        "task": _("Task"),
        "consult": _("Opinion"),
        "revision": _("Revise"),
    }
    return str(labels.get(kind, kind))


# --- decisions, quorums and finished approvals -----------------------------------------


def outcome_label(outcome: str) -> str:
    """A decision in words, for messages and the route map."""
    labels = {
        "approve": _("approved"),
        "approve_with_remarks": _("approved with remarks"),
        "return": _("returned for revision"),
        "reject": _("rejected"),
        "acknowledge": _("acknowledged"),
        "done": _("done"),
        "opinion": _("gave an opinion"),
        "resubmitted": _("resubmitted"),
    }
    return labels.get(outcome, outcome)


def outcome_chip(outcome: str) -> tuple[str, str, str]:
    """A decision as a chip shows it: (chip class, icon, word)."""
    approved, active = "status-chip status-approved", "status-chip status-active"
    chips = {
        "approve": (approved, "bi-check-circle-fill", _("Approved")),
        "approve_with_remarks": (
            approved,
            "bi-chat-left-text",
            _("Approved with remarks"),
        ),
        "return": (
            "status-chip status-returned",
            "bi-arrow-counterclockwise",
            _("Returned for revision"),
        ),
        "reject": ("status-chip status-rejected", "bi-x-octagon-fill", _("Rejected")),
        "acknowledge": (approved, "bi-check-circle-fill", _("Acknowledged")),
        "done": (approved, "bi-check-circle-fill", _("Done")),
        "opinion": (active, "bi-chat-left-text", _("Opinion given")),
        "resubmitted": (active, "bi-arrow-repeat", _("Resubmitted")),
    }
    return chips.get(outcome, ("status-chip status-neutral", "bi-circle", outcome))


def quorum_label(quorum: str) -> str:
    """How many of a step's people must decide: "any one of them"."""
    if quorum == "any":
        return _("any one of them")
    if quorum == "all":
        return _("all of them")
    return _("%(n)s of them") % {"n": quorum}


def finished_label(status: str) -> str:
    """How an approval ended, inside a sentence: "approved"."""
    labels = {
        "approved": _("approved"),
        "rejected": _("rejected"),
        "cancelled": _("cancelled"),
    }
    return str(labels.get(status, status))
