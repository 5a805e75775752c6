"""The words and CSS classes of workflow states, kinds and outcomes, in one place.

Screens, messages and services say a state or a decision with these helpers, so one
word never drifts between the card, the inbox, the e-mails and the history.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


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
