"""What a notification says: the headline (subject and bell line) and the e-mail.

E-mails follow UI.md screen 10: a 600 px table with inline CSS and system fonts,
a plain-text twin, the recipient's language and time zone, the number first in the
subject, the key facts (document, initiator, deadline, decisions so far) and one
call to action. The words, the link and the extra facts come from the row's kind
(``sogla.notifications.kinds``: the apps above register theirs); unknown kinds get
a generic message; nothing here raises on a context it does not know.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from email.mime.text import MIMEText
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sogla.core.text import strip_bidi, without_number
from sogla.notifications.kinds import kind_for, site_url
from sogla.notifications.models import Notification

if TYPE_CHECKING:
    from sogla.documents.models import Document


# --- the recipient's language, zone and address ---------------------------------------


def recipient_language(row: Notification) -> str:
    user = row.recipient_user
    org = row.organisation
    return (
        (user.language if user is not None else "")
        or org.language
        or settings.LANGUAGE_CODE
    )


def recipient_zone(row: Notification) -> zoneinfo.ZoneInfo:
    user = row.recipient_user
    org = row.organisation
    name = (
        (user.time_zone if user is not None else "")
        or org.time_zone
        or settings.TIME_ZONE
    )
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def recipient_address(row: Notification) -> str:
    if row.recipient_user is not None:
        return row.recipient_user.email
    return row.recipient_email


# --- dates ------------------------------------------------------------------------------


def parse_when(value: Any) -> datetime | None:
    """A datetime from a context value (ISO text) or None."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
    return parsed


def short_date(value: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    if value is None:
        return ""
    # Translators: a date in a notification subject, Django date format ("15 May").
    return formats.date_format(value.astimezone(zone), pgettext("subject date", "j F"))


def long_when(value: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    if value is None:
        return ""
    return formats.date_format(
        value.astimezone(zone),
        # Translators: a deadline in a notification, Django date format.
        pgettext("e-mail date and time", "j F Y, H:i"),
    )


def plain_date(value: Any) -> str:
    """A field date (``2026-03-31``) in the active language's format."""
    if not isinstance(value, str) or not value:
        return str(value or "")
    try:
        day = datetime.fromisoformat(value).date()
    except ValueError:
        return value
    return formats.date_format(day, pgettext("e-mail date", "j F Y"))


# --- what the notification says: asked of its kind ---------------------------------------


def headline(
    row: Notification, zone: zoneinfo.ZoneInfo, facts: Any | None = None
) -> str:
    """The subject of the mail and the line in the bell (active language)."""
    return strip_bidi(kind_for(row.kind).headline(row, zone, facts))


def mail_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "sogla.local"


# --- the e-mail ---------------------------------------------------------------------------


def message_id(row: Notification) -> str:
    """Deterministic: a re-delivery of the same row carries the same id."""
    return f"<n{row.organisation_id}-{row.pk}@{mail_host()}>"


def thread_id(row: Notification) -> str:
    """One thread per document, as mail clients group by ``References``."""
    return f"<doc-{row.organisation_id}-{row.document_id}@{mail_host()}>"


def _document_facts(document: Document | None) -> list[tuple[str, str]]:
    if document is None:
        return []
    rows: list[tuple[str, str]] = [
        (
            _("Document"),
            f"{document.number} {without_number(document.title, document.number)}",
        )
    ]
    if document.doc_type_id and document.doc_type is not None:
        rows.append((_("Type"), str(document.doc_type.name)))
    if document.counterparty_id and document.counterparty is not None:
        rows.append((_("Counterparty"), document.counterparty.name))
    if document.initiator_id and document.initiator is not None:
        rows.append(
            (
                _("Initiator"),
                document.initiator.get_full_name() or str(document.initiator),
            )
        )
    return rows


def build_email(
    row: Notification, facts: Any | None, *, sender: str | None = None
) -> EmailMultiAlternatives:
    """The message for ``row`` with the ``facts`` its kind loaded (rendered in the
    recipient's language and time zone)."""
    kind = kind_for(row.kind)
    zone = recipient_zone(row)
    with translation.override(recipient_language(row)), timezone.override(zone):
        subject = kind.headline(row, zone, facts)
        context: dict[str, Any] = {
            "org_name": row.organisation.display_name,
            "subject": subject,
            "lead": kind.lead(row, zone, facts),
            "facts": _document_facts(row.document) + kind.fact_rows(row, zone, facts),
            "decisions": kind.decisions(row, zone, facts),
            "items": kind.items(row, zone, facts),
            "link": kind.link(row, facts),
            "action": kind.action_label(row, facts),
            "settings_link": site_url(reverse("accounts:profile")),
            "is_guest": row.recipient_user_id is None,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        }
        text = render_to_string("notifications/email/message.txt", context)
        html = render_to_string("notifications/email/message.html", context)
    headers: dict[str, str] = {
        "Message-ID": message_id(row),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Sogla-Kind": row.kind,
        "Content-Language": context["language"],
    }
    if row.document_id is not None:
        headers["In-Reply-To"] = thread_id(row)
        headers["References"] = thread_id(row)
    message = EmailMultiAlternatives(
        # No bidirectional controls: a title could make "…exe" read as "…pdf".
        subject=" ".join(strip_bidi(subject).split()),
        body=text,
        from_email=sender or settings.DEFAULT_FROM_EMAIL,
        to=[recipient_address(row)],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    ics = (row.context or {}).get("ics")
    if isinstance(ics, str) and ics:
        message.attach(calendar_part(ics))
    return message


def calendar_part(ics: str) -> MIMEText:
    """A calendar invitation (RFC 5545 text, METHOD:REQUEST) as an attachment a
    mail client offers to add to the calendar."""
    part = MIMEText(ics, "calendar", "utf-8")
    part.set_param("method", "REQUEST")
    part.add_header("Content-Disposition", "attachment", filename="invitation.ics")
    return part
