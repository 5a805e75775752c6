"""The three ways a new round asks again after a return, in the reader's language
(the card's resubmit form, the route builder, the API's description)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from sogla.engine.definition import REASK_MODES


@dataclass(frozen=True)
class ReaskMode:
    value: str
    label: str
    hint: str


def reask_modes() -> list[ReaskMode]:
    """The modes in the order shown: everyone, those who had not approved, unchanged."""
    words = {
        "all": (
            _("Ask everyone again"),
            _("Earlier approvals do not count in the new round."),
        ),
        "not_approved_even_if_changed": (
            _("Ask only those who had not approved"),
            _(
                "Earlier approvals carry over even if the files changed; those "
                "people are told and may withdraw their approval while the round runs."
            ),
        ),
        "not_approved": (
            _("Keep approvals only if the files are unchanged"),
            _("After a new version of the files everyone is asked again."),
        ),
    }
    return [ReaskMode(mode, *words[mode]) for mode in REASK_MODES]


def reask_label(mode: str) -> str:
    return next((m.label for m in reask_modes() if m.value == mode), mode)
