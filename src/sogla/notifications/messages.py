"""What a notification says: the headline (subject and bell line) and the e-mail.

E-mails follow UI.md screen 10: a 600 px table with inline CSS and system fonts,
a plain-text twin, the recipient's language and time zone, the number first in the
subject, the key facts (document, initiator, deadline, decisions so far) and one
call to action. Unknown kinds get a generic message; nothing here raises on a
context it does not know.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sogla.notifications.models import DIGEST_KIND, Notification

if TYPE_CHECKING:
    from sogla.documents.models import Document
    from sogla.workflow.models import Task

# Kinds about one open task: cancelled, not sent, once the task is decided or closed.
TASK_BOUND_KINDS = frozenset(
    {"workflow.reminder", "workflow.overdue", "workflow.escalated", "workflow.nudge"}
)


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


# --- headlines ---------------------------------------------------------------------------


@dataclass
class Facts:
    """What the e-mail of one row shows besides its context (loaded in bulk)."""

    task: Task | None = None
    decisions: list[Task] = field(default_factory=list)
    items: list[Notification] = field(default_factory=list)  # a digest's rows


def _task_verb(task_kind: str) -> str:
    if task_kind == "acknowledge":
        return _("Please acknowledge")
    if task_kind == "task":
        return _("Task for you")
    if task_kind == "request_info":
        return _("Information requested")
    if task_kind == "consult":
        return _("Your opinion is requested")
    if task_kind == "sign":
        return _("Signature needed")
    return _("Approval needed")


def headline(
    row: Notification,
    zone: zoneinfo.ZoneInfo,
    *,
    task: Task | None = None,
    decisions: Sequence[Task] = (),
) -> str:
    """The subject of the mail and the line in the bell (active language)."""
    ctx: Mapping[str, Any] = row.context if isinstance(row.context, dict) else {}
    number = str(ctx.get("number") or "").strip()
    title = str(ctx.get("title") or "").strip()
    if number and number in title:  # titles often repeat the number: say it once
        title = " ".join(title.replace(number, " ").split())
        title = re.sub(r"\s+([:,.;])", r"\1", title)  # "Договор : X" -> "Договор: X"
    doc = number or title or _("a document")
    kind = row.kind.removeprefix("workflow.")
    due = task.due_at if task is not None and task.due_at else None
    due = due or parse_when(ctx.get("due_at"))
    if row.kind == DIGEST_KIND:
        count = int(ctx.get("count") or 0)
        return translation.ngettext(
            "Sogla: %(count)d notification of the day",
            "Sogla: %(count)d notifications of the day",
            count,
        ) % {"count": count}
    if kind == "task_assigned":
        text = f"{_task_verb(task.kind if task else '')}: {number} {title}".strip()
        if due is not None:
            text = _("%(what)s — due %(date)s") % {
                "what": text,
                "date": short_date(due, zone),
            }
        return text
    if kind in ("reminder", "nudge"):
        return _("Reminder: your decision on %(doc)s") % {"doc": doc}
    if kind == "overdue":
        if due is not None:
            return _("Overdue: %(doc)s — was due %(date)s") % {
                "doc": doc,
                "date": short_date(due, zone),
            }
        return _("Overdue: %(doc)s") % {"doc": doc}
    if kind == "escalated":
        return _("Escalation: %(doc)s is overdue") % {"doc": doc}
    if kind == "stage_stalled":
        hours = ctx.get("hours")
        if hours:
            return _("Stage over %(hours)s h: %(doc)s") % {"hours": hours, "doc": doc}
        return _("Stage is taking long: %(doc)s") % {"doc": doc}
    if kind == "returned":
        by = next(
            (
                t.decided_by.short_name
                for t in decisions
                if t.outcome == "return" and t.decided_by is not None
            ),
            "",
        )
        if by:
            return _("Returned for revision: %(doc)s by %(who)s") % {
                "doc": doc,
                "who": by,
            }
        return _("Returned for revision: %(doc)s") % {"doc": doc}
    if kind == "approved":
        return _("Approved: %(doc)s") % {"doc": doc}
    if kind == "rejected":
        return _("Rejected: %(doc)s") % {"doc": doc}
    if kind == "cancelled":
        return _("Approval cancelled: %(doc)s") % {"doc": doc}
    if kind == "step_unresolved":
        return _("Nobody to assign: %(doc)s") % {"doc": doc}
    if kind == "field_reminder":
        label = field_label(ctx)
        date = plain_date(ctx.get("date"))
        if label and date:
            return _("Reminder: %(doc)s — %(field)s on %(date)s") % {
                "doc": doc,
                "field": label,
                "date": date,
            }
        return _("Reminder: %(doc)s") % {"doc": doc}
    if kind == "route_notice":
        return _("Notice: %(doc)s %(title)s") % {"doc": number, "title": title}
    if number or title:
        return _("Notification: %(doc)s") % {"doc": f"{number} {title}".strip()}
    return _("Notification from Sogla")


def lead(row: Notification, facts: Facts, zone: zoneinfo.ZoneInfo) -> str:
    """One sentence under the headline: why the recipient gets this."""
    ctx: Mapping[str, Any] = row.context if isinstance(row.context, dict) else {}
    kind = row.kind.removeprefix("workflow.")
    task = facts.task
    mine = task is not None and row.recipient_user_id in {
        task.assignee_id,
        task.on_behalf_of_id,
    }
    if kind == "task_assigned":
        return _("A document is waiting for your decision.")
    if kind == "reminder":
        return _("The document is still waiting for your decision.")
    if kind == "nudge":
        return _(
            "The initiator asks you to look at the document: it is waiting for your decision."
        )
    if kind == "overdue":
        if mine:
            return _("The deadline for your decision has passed.")
        who = task.assignee.short_name if task and task.assignee else ""
        if who:
            return _("The deadline has passed; the document is waiting on %(who)s.") % {
                "who": who
            }
        return _("The deadline of this approval has passed.")
    if kind == "escalated":
        who = task.assignee.short_name if task and task.assignee else ""
        return _("The task of %(who)s is overdue; you are told as their manager.") % {
            "who": who or _("a colleague")
        }
    if kind == "stage_stalled":
        return _("A stage of this approval is taking longer than the route allows.")
    if kind == "returned":
        return _("The document was returned to you for revision.")
    if kind == "approved":
        return _("The approval has finished: approved.")
    if kind == "rejected":
        return _("The approval has finished: rejected.")
    if kind == "cancelled":
        reason = str(ctx.get("reason") or "")
        if reason:
            return _("The approval was cancelled: %(reason)s") % {"reason": reason}
        return _("The approval was cancelled.")
    if kind == "step_unresolved":
        return _("A step of the route has nobody to assign; please choose someone.")
    if kind == "field_reminder":
        return _("A date of this document is coming up.")
    return _("There is news about a document you take part in.")


def field_label(ctx: Mapping[str, Any]) -> str:
    """A date reminder's field, by its label in the reader's language."""
    language = "ru" if (translation.get_language() or "").startswith("ru") else "en"
    return str(ctx.get(f"label_{language}") or ctx.get("field") or "")


def outcome_word(outcome: str) -> str:
    from sogla.workflow.labels import outcome_label  # workflow sends notifications

    return str(outcome_label(outcome))


# --- links ------------------------------------------------------------------------------


def site_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def mail_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "sogla.local"


def link_for(row: Notification, task: Task | None) -> str:
    """The one call to action: the task (``/t/<task>/``) for its holder, else the
    document card; guests get the card for now (their link page comes later)."""
    if row.kind == DIGEST_KIND or row.document_id is None:
        return site_url(reverse("notifications:list"))
    if (
        task is not None
        and row.recipient_user_id is not None
        and row.recipient_user_id in {task.assignee_id, task.on_behalf_of_id}
        and task.is_open
    ):
        return site_url(reverse("notifications:task_link", args=[task.pk]))
    return site_url(reverse("documents:card", args=[row.document_id]))


def action_label(row: Notification, task: Task | None) -> str:
    if row.kind == DIGEST_KIND:
        return _("Open notifications")
    if (
        task is not None
        and task.is_open
        and row.recipient_user_id in {task.assignee_id, task.on_behalf_of_id}
    ):
        return _("Open and decide")
    return _("Open the document")


# --- the e-mail ---------------------------------------------------------------------------


def message_id(row: Notification) -> str:
    """Deterministic: a re-delivery of the same row carries the same id."""
    return f"<n{row.organisation_id}-{row.pk}@{mail_host()}>"


def thread_id(row: Notification) -> str:
    """One thread per document, as mail clients group by ``References``."""
    return f"<doc-{row.organisation_id}-{row.document_id}@{mail_host()}>"


def _document_facts(document: Document | None, zone: zoneinfo.ZoneInfo) -> list[Any]:
    if document is None:
        return []
    rows: list[tuple[str, str]] = [
        (_("Document"), f"{document.number} {document.title}".strip())
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
    row: Notification, facts: Facts, *, sender: str | None = None
) -> EmailMultiAlternatives:
    """The message for ``row`` (render it inside the recipient's language)."""
    zone = recipient_zone(row)
    with translation.override(recipient_language(row)), timezone.override(zone):
        task = facts.task
        subject = headline(row, zone, task=task, decisions=facts.decisions)
        ctx: Mapping[str, Any] = row.context if isinstance(row.context, dict) else {}
        rows = _document_facts(row.document, zone)
        due = (task.due_at if task is not None else None) or parse_when(
            ctx.get("due_at")
        )
        if due is not None and row.kind in {
            "workflow.task_assigned",
            "workflow.reminder",
            "workflow.overdue",
            "workflow.escalated",
            "workflow.nudge",
        }:
            rows.append((_("Deadline"), long_when(due, zone)))
        if row.kind == "workflow.field_reminder":
            label = field_label(ctx)
            if label:
                rows.append((label, plain_date(ctx.get("date"))))
        decisions = [
            (
                t.decided_by.short_name
                if t.decided_by is not None
                else t.decided_by_ref,
                outcome_word(t.outcome),
                long_when(t.decided_at, zone),
                t.comment,
            )
            for t in facts.decisions
        ]
        items = [
            {
                "headline": headline(item, zone),
                "when": long_when(item.created_at, zone),
                "link": site_url(reverse("documents:card", args=[item.document_id]))
                if item.document_id
                else "",
            }
            for item in facts.items
        ]
        org = row.organisation
        context: dict[str, Any] = {
            "org_name": org.name,
            "subject": subject,
            "lead": lead(row, facts, zone) if row.kind != DIGEST_KIND else "",
            "facts": rows,
            "decisions": decisions,
            "items": items,
            "link": link_for(row, task),
            "action": action_label(row, task),
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
        subject=" ".join(subject.split()),
        body=text,
        from_email=sender or settings.DEFAULT_FROM_EMAIL,
        to=[recipient_address(row)],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
