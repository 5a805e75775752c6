"""The card's History tab: the document's audit events in plain language, by day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.workflow.labels import finished_label, outcome_label
from sogla.workflow.reason_words import Names, reason_in_words
from sogla.workflow.selectors.versions import version_note


@dataclass
class HistoryEntry:
    at: datetime
    actor: str
    text: str
    detail: str
    ip: str
    times: int = 1


@dataclass
class HistoryDay:
    day: date
    entries: list[HistoryEntry]


# Events the route caused: said as sentences of their own, without an actor.
SYSTEM_VERBS = frozenset(
    {
        "process.returned",
        "process.sent_back",
        "process.invitation_sent",
        "process.invitation_skipped",
        "process.finished",
        "process.step_unresolved",
        "process.filed",
        "process.status_set",
        "process.deadline_unknown",
        "process.action_not_supported",
        "process.notify_unresolved",
        "task.overdue",
        "task.escalated",
        "task.deadline_moved",
        "task.approval_carried",
        "process.reminder_scheduled",
        "process.reminder_skipped",
        "process.reminder_sent",
        "code.not_sent",
    }
)


# Events whose detail is a reason of the engine or the resolver.
REASON_VERBS = frozenset(
    {
        "process.step_unresolved",
        "process.deadline_unknown",
        "process.reminder_skipped",
        "process.invitation_skipped",
    }
)


def history_days(*, events: Iterable[Any], show_ip: bool) -> list[HistoryDay]:
    """Events grouped by local day, newest day first; repeats in a row folded."""
    days: list[HistoryDay] = []
    names: dict[int, Names] = {}  # by organisation, read only if a reason needs it
    for event in events:
        org_id = int(getattr(event, "organisation_id", 0) or 0)
        entry = _entry(event, show_ip, names.setdefault(org_id, Names(org_id)))
        day = entry.at.date()
        if not days or days[-1].day != day:
            days.append(HistoryDay(day, []))
        entries = days[-1].entries
        last = entries[-1] if entries else None
        if (
            last is not None
            and not entry.detail
            and (last.actor, last.text, last.detail) == (entry.actor, entry.text, "")
        ):
            last.times += 1
            continue
        entries.append(entry)
    days.reverse()
    return days


def _entry(event: Any, show_ip: bool, names: Names) -> HistoryEntry:
    text, detail = _history_text(event.verb, dict(event.payload or {}))
    if detail and event.verb in REASON_VERBS:  # the engine's words, translated
        detail = reason_in_words(detail, names)
    if event.verb in SYSTEM_VERBS:
        actor = ""  # the route did it: a sentence of its own
    elif event.actor is not None:
        actor = event.actor.short_name
    else:
        actor = event.actor_label or _("system")
    at = timezone.localtime(event.created_at)
    return HistoryEntry(at, actor, text, detail, event.ip if show_ip else "")


def _event_texts() -> dict[str, str]:
    return {
        "document.created": _("created the document"),
        "document.fields_changed": _("changed fields"),
        "document.archived": _("archived the document"),
        "document.file_version_added": _("uploaded a file version"),
        "discussion.message_posted": _("wrote in the discussion"),
        "discussion.message_edited": _("edited a message of the discussion"),
        "discussion.message_deleted": _("deleted a message of the discussion"),
        "process.started": _("sent the document for approval"),
        "process.resubmitted": _("sent a new version for approval (round %(round)s)"),
        "process.cancelled": _("cancelled the approval"),
        "process.returned": _("The document was returned for revision"),
        "process.sent_back": _(
            "The document was sent back to the stage «%(to)s» (round %(next)s)"
        ),
        "process.invitation_sent": _("A calendar invitation was sent for %(start)s"),
        "process.invitation_skipped": _("A calendar invitation could not be sent"),
        "process.finished": _("The approval finished: %(status)s"),
        "process.step_unresolved": _("Nobody could be assigned to a step"),
        "process.step_resolved": _("assigned a step manually"),
        "process.filed": _("The document was filed into %(folder)s"),
        "process.status_set": _("The route set the status «%(name)s»"),
        "process.deadline_unknown": _("A due date could not be set"),
        "process.action_not_supported": _("A route action was skipped"),
        "process.notify_unresolved": _("A notice reached nobody: %(target)s"),
        "task.reassigned": _("gave a task to someone else"),
        "task.approval_carried": _(
            "The approval of %(person)s carried over to changed files"
        ),
        "task.approval_withdrawn": _(
            "withdrew an approval carried over from the last round"
        ),
        "process.participants_changed": _("changed the people of a step"),
        "task.deadline_changed": _("moved a task's deadline to %(due)s"),
        "task.overdue": _("A task became overdue"),
        "task.escalated": _("An overdue task was escalated to the assignee's manager"),
        "task.deadline_moved": _(
            "The working calendar changed: a task's deadline moved to %(due)s"
        ),
        "process.reminder_scheduled": _("A date reminder is set for %(at)s"),
        "process.reminder_skipped": _("A date reminder could not be set"),
        "process.reminder_sent": _("The date reminder was sent"),
        "timer.retried": _("restarted a failed timer"),
        "process.reminded": _("reminded the people the approval waits on"),
        "guest_link.resent": _("sent the guest a new link"),
        "guest_link.renewed": _("asked for a new link"),
        "guest_link.revoked": _("revoked the guest's link"),
        "agreement.accepted": _("accepted the electronic signature agreement"),
        "code.locked_out": _("was locked out after wrong confirmation codes"),
        "code.unlocked": _("unlocked a person's confirmation codes"),
        "code.not_sent": _("A confirmation code could not be sent"),
    }


def _history_text(verb: str, payload: dict[str, Any]) -> tuple[str, str]:
    """What happened, in words, and a detail line (a comment, a reason, a file)."""
    if verb == "task.decided":
        outcome = outcome_label(str(payload.get("outcome", "")))
        text = _("decided: %(outcome)s") % {"outcome": outcome}
        return text, str(payload.get("comment") or "")
    template = _event_texts().get(verb)
    if template is None:
        return verb, ""
    if "%(" in template:
        values = {
            "round": payload.get("round", ""),
            "status": finished_label(str(payload.get("status", ""))),
            "folder": payload.get("folder", ""),
            "name": (
                payload.get("name_en" if get_language() == "en" else "name_ru")
                or payload.get("status", "")
            ),
            "target": payload.get("target", ""),
            "at": _local_date(payload.get("at")),
            "due": _local_date(payload.get("due_at")),
            "person": payload.get("name", ""),
            "to": (
                payload.get("to_en" if get_language() == "en" else "to_ru")
                or payload.get("to_stage", "")
            ),
            "next": int(payload.get("round") or 0) + 1,
            "start": _local_moment(payload.get("start")),
        }
        template = template % values
    return template, _detail(verb, payload)


def _detail(verb: str, payload: dict[str, Any]) -> str:
    if verb == "task.approval_carried":
        return version_note(
            (
                (str(c.get("name", "")), c.get("old"), c.get("new"))
                for c in payload.get("changes") or []
            ),
            several_files=bool(payload.get("several_files")),
        )
    if verb == "process.participants_changed":
        parts = [f"+ {name}" for name in payload.get("added_names") or []]
        parts += [f"− {name}" for name in payload.get("removed_names") or []]
        due = _local_date(payload.get("due_at"))
        if due:
            parts.append(_("deadline %(due)s") % {"due": due})
        return f"{payload.get('stage', '')}.{payload.get('step', '')}: " + "; ".join(
            parts
        )
    if verb == "document.fields_changed":
        changed = payload.get("changes", {}) or payload.get("fields", []) or []
        return ", ".join(sorted(str(k) for k in changed))
    if verb == "document.file_version_added":
        name = payload.get("name") or payload.get("original_name") or ""
        return f"{name} v{payload.get('version', '')}".strip()
    if verb.startswith("code."):
        person = str(payload.get("person") or "").split(":", 1)[-1]
        if verb == "code.not_sent":
            return f"{payload.get('to', '')} ({payload.get('reason', '')})"
        return person if "@" in person else ""
    return str(payload.get("comment") or payload.get("reason") or "")


def _local_moment(value: Any) -> str:
    """An ISO moment from a payload as a short local date and time."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _local_date(value: Any) -> str:
    """An ISO moment from a payload as a short local date ("" when missing)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")
