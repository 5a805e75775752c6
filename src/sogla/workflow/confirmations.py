"""How the person who decides is confirmed, and the one-time-code rule.

A ``sign`` step, and any step with ``confirm: otp``, records a decision only with
a verified one-time code (a simple electronic signature). The codes live above
workflow (``sogla.external``: challenges, sending, checking); that app registers a
*redeemer* here in its ``ready()``. Inside the decision's transaction the pipeline
hands the redeemer the task and the caller's :class:`Confirmation`; the redeemer
checks that the challenge it names was verified for this person, task, round,
files and outcome and not used yet, marks it used and answers the evidence to
record. Without a redeemer such a decision is refused (failing closed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from sogla.core.errors import ValidationFailed
from sogla.engine.definition import StepDef
from sogla.workflow.models import Channel, ConfirmationMethod, Task

PLAIN_METHODS = frozenset(
    {ConfirmationMethod.SESSION, ConfirmationMethod.TOKEN, ConfirmationMethod.LINK}
)


@dataclass(frozen=True)
class Confirmation:
    """The evidence of who decided: the method, where a code went (masked), the
    challenge that carried it and the e-signature agreement version accepted."""

    method: str
    to: str = ""
    ref: str = ""
    agreement_version: str = ""

    def columns(self) -> dict[str, str]:
        return {
            "confirmation": self.method,
            "confirmation_to": self.to[:100],
            "confirmation_ref": self.ref[:40],
            "agreement_version": self.agreement_version[:20],
        }


@dataclass(frozen=True)
class Redeeming:
    """What a redeemer checks a challenge against."""

    task: Task
    participant_ref: str
    outcome: str
    files_sha256: str | None
    confirmation: Confirmation


Redeemer = Callable[[Redeeming], Confirmation]
# verify(task, participant ref, challenge id, code): the code checked (and counted)
# in its own transaction, before the decision's; raises ValidationFailed on "code".
Verifier = Callable[[Task, str, str, str], None]
_redeemer: list[Redeemer] = []
_verifier: list[Verifier] = []


def register_redeemer(redeemer: Redeemer, verifier: Verifier) -> None:
    """Called once by the app that owns the codes (``sogla.external``)."""
    _redeemer[:] = [redeemer]
    _verifier[:] = [verifier]


def code_verify(task: Task, participant_ref: str, challenge: str, code: str) -> None:
    """Check a one-time code before deciding (the API and the card call this with
    the code the person typed); refuses when no app owns codes."""
    if not _verifier:
        raise code_required()
    _verifier[0](task, participant_ref, challenge, code)


def by_code(challenge: str) -> Confirmation:
    """A confirmation naming a challenge whose code was verified."""
    return Confirmation("code", ref=challenge)


def needs_code(step: StepDef | None) -> bool:
    """A ``sign`` step or a step with ``confirm: otp``."""
    return step is not None and (str(step.kind) == "sign" or step.confirm == "otp")


def default_for(channel: str) -> Confirmation:
    """How a person deciding without a code is known, by the channel."""
    if channel == Channel.API:
        return Confirmation(ConfirmationMethod.TOKEN)
    if channel == Channel.GUEST:
        return Confirmation(ConfirmationMethod.LINK)
    return Confirmation(ConfirmationMethod.SESSION)


def code_required() -> ValidationFailed:
    return ValidationFailed.single(
        "code",
        "code_required",
        _("This decision must be confirmed with a one-time code."),
    )


def confirmed(step: StepDef | None, redeeming: Redeeming, channel: str) -> Confirmation:
    """The evidence to record with the decision; a step that needs a code gets it
    from the redeemer (which refuses with ``ValidationFailed`` on ``code``)."""
    given = redeeming.confirmation
    if not needs_code(step):
        if given.ref or given.method not in PLAIN_METHODS:
            return default_for(channel)  # a code nobody asked for proves nothing
        return given
    if not given.ref or not _redeemer:
        raise code_required()
    return _redeemer[0](redeeming)
