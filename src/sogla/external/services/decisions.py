"""A guest's decision: checked against the link's session, confirmed (a link
session, or a one-time code for ``sign``/``confirm: otp`` steps) and recorded
through workflow's one pipeline (``workflow.services.guest_task_decide``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.engine.definition import StepDef
from sogla.external.models import Challenge, GuestSession
from sogla.external.recipients import Recipient, guest_phone, recipient_of_guest
from sogla.external.selectors import guest_outcomes
from sogla.external.services.agreement import (
    agreement_accept,
    agreement_accepted,
    agreement_current,
)
from sogla.external.services.codes import (
    challenge_create,
    challenge_verify,
    sending_channel,
)
from sogla.workflow import services as workflow
from sogla.workflow.confirmations import Confirmation, by_code, needs_code
from sogla.workflow.definitions import definition_for
from sogla.workflow.models import ConfirmationMethod, Task

COMMENT_MAX = 4000
NEEDS_COMMENT = frozenset({"return", "reject", "approve_with_remarks"})


def _task(session: GuestSession) -> tuple[Task, StepDef | None]:
    link = session.link
    if link.revoked_at is not None:
        raise PermissionDenied(_("This link no longer works."))
    task = (
        Task.objects.select_related("process__route_version", "process__document")
        .filter(pk=link.task_id, organisation_id=link.organisation_id)
        .first()
    )
    if task is None or task.guest_email != link.email:
        raise NotFound()
    step = definition_for(task.process.route_version).step(
        task.stage_key, task.step_key
    )
    return task, step


def check_answer(step: StepDef | None, outcome: str, comment: str) -> None:
    """The refusals a code must not be sent for: an outcome the step does not
    allow, a missing or oversized comment."""
    allowed = [str(o) for o in guest_outcomes(step)] if step else []
    if outcome not in allowed:
        raise ValidationFailed.single("outcome", "invalid", _("Choose a decision."))
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed.single(
            "comment",
            "too_long",
            _("The comment is too long (at most %(max)d characters).")
            % {"max": COMMENT_MAX},
        )
    if outcome in NEEDS_COMMENT and not comment.strip():
        raise ValidationFailed.single(
            "comment", "required", _("A comment is required.")
        )


def _agreement_version(
    session: GuestSession, task: Task, accept: bool, meta: RequestMeta
) -> str:
    agreement = agreement_current(task.organisation_id)
    if not agreement_accepted(agreement, session.link.email):
        if not accept:
            raise ValidationFailed.single(
                "agreement",
                "required",
                _("Accept the electronic signature agreement to sign."),
            )
        agreement_accept(
            agreement=agreement,
            email=session.link.email,
            meta=meta,
            document_id=task.process.document_id,
        )
    return agreement.version


def _guest_recipient(
    session: GuestSession, counterparty_id: int | None, language: str = ""
) -> Recipient:
    email = session.link.email
    phone = guest_phone(session.organisation_id, counterparty_id, email)
    return recipient_of_guest(email, language, phone)


def guest_code_channel(
    session: GuestSession, counterparty_id: int | None
) -> tuple[str, str]:
    """Where the guest's code will go ("sms"/"email", the masked number or address),
    for the page to say so before it is sent."""
    return sending_channel(_guest_recipient(session, counterparty_id))


def guest_code_send(
    *,
    session: GuestSession,
    outcome: str,
    comment: str,
    accept_agreement: bool,
    meta: RequestMeta,
    language: str = "",
) -> Challenge:
    """The first half of a signed decision: checks, the agreement, then a code."""
    task, step = _task(session)
    if not task.is_open:
        raise NotFound()
    check_answer(step, outcome, comment)
    _agreement_version(session, task, accept_agreement, meta)
    return challenge_create(
        task=task,
        recipient=_guest_recipient(
            session, task.process.document.counterparty_id, language
        ),
        outcome=outcome,
        files_sha256=workflow.files_sha256(task.process.document),
        meta=meta,
    )


def guest_decide(
    *,
    session: GuestSession,
    outcome: str,
    comment: str,
    request_id: str,
    meta: RequestMeta,
    challenge_id: str = "",
    code: str = "",
    accept_agreement: bool = False,
) -> Task:
    """Record the guest's decision (channel "guest link"); a step that needs a
    code takes the challenge and the code the guest typed."""
    task, step = _task(session)
    check_answer(step, outcome, comment)
    participant = f"guest:{session.link.email}"
    if needs_code(step):
        version = _agreement_version(session, task, accept_agreement, meta)
        if not challenge_id:
            raise ValidationFailed.single(
                "code", "code_required", _("Ask for a code first.")
            )
        challenge_verify(
            task=task, participant_ref=participant, challenge_id=challenge_id, code=code
        )
        proof = by_code(challenge_id)
        confirmation = Confirmation(
            proof.method, ref=proof.ref, agreement_version=version
        )
    else:
        confirmation = Confirmation(ConfirmationMethod.LINK)
    return workflow.guest_task_decide(
        organisation_id=task.organisation_id,
        email=session.link.email,
        task_id=task.pk,
        outcome=outcome,
        comment=comment,
        request_id=request_id,
        confirmation=confirmation,
        meta=meta,
    )
