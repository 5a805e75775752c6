"""The messages of codes: the code itself (e-mail or SMS) and the lock-out notice."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from sogla.external.models import CodeChannel
from sogla.external.recipients import Recipient
from sogla.external.sms import sms_send
from sogla.notifications.services import notification_enqueue
from sogla.workflow.models import Task


def _language(task: Task, recipient: Recipient) -> str:
    return recipient.language or task.organisation.language or settings.LANGUAGE_CODE


def send_code(
    task: Task, recipient: Recipient, channel: str, code: str, expires: datetime
) -> None:
    """Send now (not through the outbox): the person is waiting for it, and a
    provider that is away must fail the request, not a later worker."""
    org = task.organisation
    with translation.override(_language(task, recipient)):
        if channel == CodeChannel.SMS:
            sms_send(
                recipient.phone,
                _("%(code)s is your Sogla confirmation code. Do not tell it to anyone.")
                % {"code": code},
            )
            return
        zone = timezone.get_current_timezone()
        until = formats.date_format(expires.astimezone(zone), "H:i")
        subject = _("Confirmation code %(code)s") % {"code": code}
        body = _(
            "Your confirmation code: %(code)s\n\n"
            "It confirms your decision on a document of %(org)s and is valid "
            "until %(until)s (10 minutes). Do not tell it to anyone: nobody from "
            "%(org)s will ask for it.\n\n"
            "If you did not ask for a code, ignore this message."
        ) % {"code": code, "org": org.display_name, "until": until}
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Auto-Submitted": "auto-generated", "X-Sogla-Kind": "external.code"},
    ).send(fail_silently=False)


def tell_initiator_locked(task: Task, participant_ref: str) -> None:
    """Queue a notice to the initiator: a person is locked out of codes."""
    process = task.process
    document = process.document
    notification_enqueue(
        organisation_id=task.organisation_id,
        kind="external.code_locked",
        recipient_user=process.initiator,
        document_id=document.pk,
        context={
            "process": process.pk,
            "document": document.pk,
            "number": document.number,
            "title": document.title,
            "task": task.pk,
            "person": participant_ref.split(":", 1)[-1],
        },
        idempotency_key=f"code-locked:{task.pk}:{participant_ref}:{timezone.now():%Y%m%d%H%M%S}",
    )
