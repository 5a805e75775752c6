"""One-time codes (simple electronic signature) for ``sign`` and ``confirm: otp``
steps, for guests and internal users alike.

A challenge is one code for one person, one task (and so one round), the files'
SHA-256 and one outcome. The code is 6 digits from ``secrets``, kept only as an
HMAC with a per-challenge salt, valid ``CODE_TTL`` (10 minutes) and checked at most
``MAX_CHECKS`` times: the check is counted first with one atomic
``UPDATE ... SET attempts = attempts + 1 WHERE attempts < 5`` in its own
transaction, so parallel guesses cannot get more checks and a refused decision
does not give them back. A verified challenge is redeemed once, by the decision it
was made for (``redeem``, inside the decision's transaction). After
``LOCK_AFTER`` dead challenges the person is locked out of codes for the task
until the initiator or an administrator unlocks them. Sends are limited per
person (3 in 15 minutes, 10 a day) and per IP; every new code kills the previous.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.core.audit import audit_record
from sogla.core.errors import ApplicationError, RateLimited, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.external import throttle
from sogla.external.models import Challenge, CodeChannel
from sogla.external.recipients import Recipient
from sogla.external.selectors import (
    MAX_CHECKS,
    dead_challenges,
    is_locked,
)
from sogla.orgs.models import User
from sogla.workflow.confirmations import (
    Confirmation,
    Redeeming,
    register_redeemer,
)
from sogla.workflow.models import ConfirmationMethod, Task

CODE_TTL = timedelta(minutes=10)
SENDS_PER_15_MIN = 3
SENDS_PER_DAY = 10
SENDS_PER_IP_HOUR = 30


class CodeLocked(ApplicationError):
    """Too many wrong codes: a person must unlock (HTTP 423 on the API)."""

    code = "code_locked"


class CodeNotSent(ApplicationError):
    """The mail or SMS provider refused or is away; nothing was recorded."""

    code = "code_not_sent"


def _digest(salt: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


# --- lock-out --------------------------------------------------------------------------


def codes_unlock(
    *, actor: User, task: Task, participant_ref: str, meta: RequestMeta
) -> int:
    """The initiator or an administrator lets a locked-out person try again."""
    with transaction.atomic():
        count = Challenge.objects.filter(
            dead_challenges(participant_ref, task.pk),
            organisation_id=actor.organisation_id or 0,
        ).update(forgiven=True)
        audit_record(
            organisation_id=task.organisation_id,
            verb="code.unlocked",
            actor=actor,
            target_type="task",
            target_id=task.pk,
            document_id=task.process.document_id,
            payload={"task": task.pk, "person": participant_ref, "challenges": count},
            request_meta=meta,
        )
    return count


# --- sending ---------------------------------------------------------------------------


def _send_limits(recipient: Recipient, ip: str, now: datetime) -> None:
    mine = Challenge.objects.filter(participant_ref=recipient.participant_ref)
    if (
        mine.filter(created_at__gt=now - timedelta(minutes=15)).count()
        >= SENDS_PER_15_MIN
    ):
        raise RateLimited(
            _("Too many codes were sent. Try again in 15 minutes."), retry_after=900
        )
    if mine.filter(created_at__gt=now - timedelta(days=1)).count() >= SENDS_PER_DAY:
        raise RateLimited(
            _("Too many codes were sent today. Try again tomorrow."),
            retry_after=86400,
        )
    if (
        ip
        and throttle.hits(f"code-ip:{ip}", timedelta(hours=1), now) >= SENDS_PER_IP_HOUR
    ):
        raise RateLimited(
            _("Too many codes were sent from this address. Try again in an hour."),
            retry_after=3600,
        )


def challenge_create(
    *,
    task: Task,
    recipient: Recipient,
    outcome: str,
    files_sha256: str,
    meta: RequestMeta,
    now: datetime | None = None,
) -> Challenge:
    """Send a new code for ``outcome`` on ``task``; the previous codes die.

    Refusals: CodeLocked, RateLimited, CodeNotSent (the provider failed: the
    challenge is dropped, nothing else changes)."""
    from sogla.external.sending import send_code  # the words of the message

    now = now or timezone.now()
    if is_locked(recipient.participant_ref, task.pk):
        raise CodeLocked(locked_message())
    _send_limits(recipient, meta.ip, now)
    code = new_code()
    salt = secrets.token_hex(16)
    channel, to = sending_channel(recipient)
    with transaction.atomic():
        Challenge.objects.filter(
            participant_ref=recipient.participant_ref,
            task=task,
            verified_at=None,
            superseded=False,
        ).update(superseded=True)
        challenge = Challenge.objects.create(
            organisation_id=task.organisation_id,
            task=task,
            participant_ref=recipient.participant_ref,
            outcome=outcome,
            files_sha256=files_sha256 or "",
            channel=channel,
            sent_to=to,
            salt=salt,
            code_hash=_digest(salt, code),
            created_at=now,
            expires_at=now + CODE_TTL,
            ip=meta.ip[:45],
        )
        if meta.ip:
            throttle.hit(f"code-ip:{meta.ip}", now)
    try:
        send_code(task, recipient, channel, code, challenge.expires_at)
    except Exception as error:
        Challenge.objects.filter(pk=challenge.pk).update(superseded=True)
        _record_not_sent(task, recipient, challenge, error, meta)
        raise CodeNotSent(
            _("The code could not be sent. Nothing was recorded; try again later.")
        ) from error
    return challenge


def _record_not_sent(
    task: Task,
    recipient: Recipient,
    challenge: Challenge,
    error: Exception,
    meta: RequestMeta,
) -> None:
    """A delivery failure is kept in the audit log: the channel, the masked
    address and the provider's short reason (never the code)."""
    from sogla.external.sms import SmsError

    reason = error.code if isinstance(error, SmsError) else type(error).__name__
    with transaction.atomic():
        audit_record(
            organisation_id=task.organisation_id,
            verb="code.not_sent",
            actor_label=recipient.participant_ref,
            target_type="task",
            target_id=task.pk,
            document_id=task.process.document_id,
            payload={
                "task": task.pk,
                "person": recipient.participant_ref,
                "channel": challenge.channel,
                "to": challenge.sent_to,
                "reason": reason[:60],
            },
            request_meta=meta,
        )


def sending_channel(recipient: Recipient) -> tuple[str, str]:
    """SMS when the person has a phone and an SMS provider is set, else e-mail;
    the address masked as the page shows it."""
    from sogla.core.masking import mask_email, mask_phone
    from sogla.external.sms import sms_enabled

    if recipient.phone and sms_enabled():
        return CodeChannel.SMS, mask_phone(recipient.phone)
    return CodeChannel.EMAIL, mask_email(recipient.email)


# --- checking --------------------------------------------------------------------------


def locked_message() -> str:
    return _(
        "Too many wrong codes. The initiator has been told; ask them to unlock "
        "your confirmation."
    )


def _wrong(left: int) -> ValidationFailed:
    if left <= 0:
        return ValidationFailed.single(
            "code",
            "code_dead",
            _("Wrong code. This code no longer works; ask for a new one."),
        )
    return ValidationFailed.single(
        "code",
        "code_wrong",
        ngettext(
            "Wrong code. %(left)d attempt left.",
            "Wrong code. %(left)d attempts left.",
            left,
        )
        % {"left": left},
    )


def challenge_verify(
    *,
    task: Task,
    participant_ref: str,
    challenge_id: str,
    code: str,
    now: datetime | None = None,
) -> Challenge:
    """Check ``code``; counted before it is compared (at most ``MAX_CHECKS``).
    Runs in its own transaction: a wrong guess stays counted."""
    now = now or timezone.now()
    try:
        pk = int(challenge_id)
    except (TypeError, ValueError):
        raise ValidationFailed.single(
            "code", "code_unknown", _("Ask for a code first.")
        ) from None
    found = Challenge.objects.filter(
        pk=pk, task_id=task.pk, participant_ref=participant_ref
    ).first()
    if found is None:
        raise ValidationFailed.single(
            "code", "code_unknown", _("Ask for a code first.")
        )
    if is_locked(participant_ref, task.pk):
        raise CodeLocked(locked_message())
    if found.verified_at is not None:
        return found
    if found.superseded:
        raise ValidationFailed.single(
            "code", "code_replaced", _("A newer code was sent; use the latest one.")
        )
    if now >= found.expires_at:
        raise ValidationFailed.single(
            "code", "code_expired", _("The code has expired. Ask for a new one.")
        )
    with transaction.atomic():
        counted = Challenge.objects.filter(
            pk=pk, attempts__lt=MAX_CHECKS, verified_at=None, superseded=False
        ).update(attempts=F("attempts") + 1)
    if not counted:
        _maybe_locked(found, now)
        raise _wrong(0)
    clean = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(clean) == 6 and hmac.compare_digest(
        found.code_hash, _digest(found.salt, clean)
    ):
        with transaction.atomic():
            Challenge.objects.filter(pk=pk, verified_at=None).update(verified_at=now)
        found.refresh_from_db()
        return found
    attempts = (
        Challenge.objects.filter(pk=pk).values_list("attempts", flat=True).first()
        or MAX_CHECKS
    )
    if attempts >= MAX_CHECKS:
        _maybe_locked(found, now)
    raise _wrong(MAX_CHECKS - attempts)


def _maybe_locked(challenge: Challenge, now: datetime) -> None:
    """When the last check of a challenge failed: audit, and on lock-out tell the
    initiator (once per lock-out)."""
    if not is_locked(challenge.participant_ref, challenge.task_id):
        return
    from sogla.external.sending import tell_initiator_locked

    with transaction.atomic():
        key = (
            f"code-lock:{challenge.task_id}:{challenge.participant_ref}:{challenge.pk}"
        )
        if throttle.hits(key, timedelta(days=1), now):
            return
        throttle.hit(key, now)
        task = Task.objects.select_related("process__document").get(
            pk=challenge.task_id
        )
        audit_record(
            organisation_id=task.organisation_id,
            verb="code.locked_out",
            actor_label=challenge.participant_ref,
            target_type="task",
            target_id=task.pk,
            document_id=task.process.document_id,
            payload={"task": task.pk, "person": challenge.participant_ref},
        )
        tell_initiator_locked(task, challenge.participant_ref)


def redeem(redeeming: Redeeming) -> Confirmation:
    """Inside the decision's transaction: the challenge it names must be verified
    for this person, task, files and outcome, and unused; it is used now."""
    given = redeeming.confirmation
    task = redeeming.task
    try:
        pk = int(given.ref)
    except (TypeError, ValueError):
        raise ValidationFailed.single(
            "code", "code_unknown", _("Ask for a code first.")
        ) from None
    challenge = (
        Challenge.objects.select_for_update()
        .filter(pk=pk, task_id=task.pk, participant_ref=redeeming.participant_ref)
        .first()
    )
    if challenge is None or challenge.verified_at is None:
        raise ValidationFailed.single(
            "code", "code_unknown", _("Ask for a code first.")
        )
    if challenge.used_at is not None:
        raise ValidationFailed.single(
            "code", "code_used", _("This code was already used. Ask for a new one.")
        )
    if challenge.outcome != redeeming.outcome or (challenge.files_sha256 or "") != (
        redeeming.files_sha256 or ""
    ):
        raise ValidationFailed.single(
            "code",
            "code_mismatch",
            _("The code was sent for another decision or version. Ask for a new one."),
        )
    if timezone.now() >= challenge.expires_at + CODE_TTL:
        raise ValidationFailed.single(
            "code", "code_expired", _("The code has expired. Ask for a new one.")
        )
    Challenge.objects.filter(pk=pk).update(used_at=timezone.now())
    method = (
        ConfirmationMethod.SMS_CODE
        if challenge.channel == CodeChannel.SMS
        else ConfirmationMethod.EMAIL_CODE
    )
    return Confirmation(
        method, challenge.sent_to, str(challenge.pk), given.agreement_version
    )


def _verify_hook(task: Task, participant_ref: str, challenge: str, code: str) -> None:
    challenge_verify(
        task=task, participant_ref=participant_ref, challenge_id=challenge, code=code
    )


def register() -> None:
    register_redeemer(redeem, _verify_hook)
