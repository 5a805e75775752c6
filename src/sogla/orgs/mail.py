"""E-mails about joining: invitations and sign-up confirmations.

They are sent at once from the request (like Django's password reset), after the
command's transaction has committed; a failure to send leaves the invitation in
place, and the people screen offers to send it again or to copy the link.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from sogla.orgs.models import Invitation

logger = logging.getLogger("sogla.mail")


def absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def invitation_link(raw: str) -> str:
    return absolute(reverse("accounts:invitation", args=[raw]))


def _send(to: str, subject: str, template: str, context: dict[str, object]) -> bool:
    text = render_to_string(f"orgs/mail/{template}.txt", context)
    html = render_to_string(f"orgs/mail/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("could not send %s to %s", template, to)
        return False
    return True


def send_invitation(invitation: Invitation, raw: str) -> bool:
    """E-mail the invitation in the organisation's language; True when sent."""
    org = invitation.organisation
    inviter = invitation.invited_by
    language = invitation.user.language or org.language
    with translation.override(language):
        context = {
            "organisation": org.name,
            "inviter": inviter.get_full_name() if inviter is not None else "",
            "link": invitation_link(raw),
            "expires_at": invitation.expires_at,
        }
        subject = _("Invitation to %(organisation)s in Sogla") % {
            "organisation": org.name
        }
        return _send(invitation.email, subject, "invitation", context)


def send_signup_confirmation(
    email: str, organisation_name: str, link: str, language: str
) -> bool:
    with translation.override(language):
        subject = _("Confirm your e-mail to create %(organisation)s in Sogla") % {
            "organisation": organisation_name
        }
        return _send(
            email,
            subject,
            "signup",
            {"organisation": organisation_name, "link": link},
        )
