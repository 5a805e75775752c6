"""What workflow's notifications say, where they lead and when they no longer count.

Registered for the ``workflow.`` kinds in ``WorkflowConfig.ready()`` (see
``sogla.notifications.kinds``): notifications sits below workflow and never imports
it. The facts of a batch are loaded in two queries: the tasks the rows name (with
their assignees) and the current round's decisions of their processes.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from typing_extensions import override

from sogla.notifications.kinds import (
    NoticeKind,
    context_of,
    document_words,
    register,
    site_url,
)
from sogla.notifications.messages import long_when, parse_when, plain_date, short_date
from sogla.notifications.models import Notification
from sogla.workflow.labels import outcome_label
from sogla.workflow.models import Task, TaskState

if TYPE_CHECKING:
    pass

PREFIX = "workflow."
# Kinds about one open task: cancelled, not sent, once the task is decided or closed.
TASK_BOUND_KINDS = frozenset(
    {
        "workflow.reminder",
        "workflow.overdue",
        "workflow.escalated",
        "workflow.nudge",
        "workflow.deadline_moved",
    }
)
# Kinds whose e-mail shows the task's deadline.
DEADLINE_KINDS = TASK_BOUND_KINDS | {"workflow.task_assigned"}


@dataclass
class TaskFacts:
    """The task a row is about and the decisions of its process's current round."""

    task: Task | None = None
    decisions: list[Task] = field(default_factory=list)


def _task_id(row: Notification) -> int | None:
    value = context_of(row).get("task")
    return value if isinstance(value, int) else None


def _process_id(row: Notification) -> int | None:
    value = context_of(row).get("process")
    return value if isinstance(value, int) else None


def _holds_open(row: Notification, task: Task | None) -> bool:
    """The task is open and the recipient holds it (as assignee or as the seat)."""
    return (
        task is not None
        and task.is_open
        and row.recipient_user_id in {task.assignee_id, task.on_behalf_of_id}
    )


def field_label(ctx: Mapping[str, Any]) -> str:
    """A date reminder's field, by its label in the reader's language."""
    language = "ru" if (translation.get_language() or "").startswith("ru") else "en"
    return str(ctx.get(f"label_{language}") or ctx.get("field") or "")


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


@dataclass(frozen=True)
class _Said:
    """What the words of one row are made of."""

    row: Notification
    zone: zoneinfo.ZoneInfo
    facts: TaskFacts

    @property
    def ctx(self) -> Mapping[str, Any]:
        return context_of(self.row)

    @property
    def task(self) -> Task | None:
        return self.facts.task

    @property
    def doc(self) -> str:
        """The document by its number and its title (the number said once)."""
        number, title = document_words(self.row)
        return f"{number} {title}".strip() or _("a document")

    @property
    def due(self) -> datetime | None:
        task = self.task
        return (task.due_at if task is not None else None) or parse_when(
            self.ctx.get("due_at")
        )

    @property
    def assignee_name(self) -> str:
        task = self.task
        return task.assignee.short_name if task and task.assignee else ""


# --- headlines -------------------------------------------------------------------------


def _assigned(said: _Said) -> str:
    number, title = document_words(said.row)
    verb = _task_verb(said.task.kind if said.task else "")
    text = f"{verb}: {number} {title}".strip()
    if said.due is None:
        return text
    return _("%(what)s — due %(date)s") % {
        "what": text,
        "date": short_date(said.due, said.zone),
    }


def _overdue(said: _Said) -> str:
    if said.due is None:
        return _("Overdue: %(doc)s") % {"doc": said.doc}
    return _("Overdue: %(doc)s — was due %(date)s") % {
        "doc": said.doc,
        "date": short_date(said.due, said.zone),
    }


def _deadline_moved(said: _Said) -> str:
    due = parse_when(said.ctx.get("due_at"))
    if due is None:
        return _("Deadline moved: %(doc)s") % {"doc": said.doc}
    return _("Deadline moved: %(doc)s — now due %(date)s") % {
        "doc": said.doc,
        "date": short_date(due, said.zone),
    }


def _deadline_moved_lead(said: _Said) -> str:
    was, due = parse_when(said.ctx.get("was")), parse_when(said.ctx.get("due_at"))
    if said.ctx.get("by"):  # moved by hand while the round runs
        if due is None:
            return _("The deadline of your decision was changed.")
        if was is None:
            return _("Your decision now has a deadline: %(date)s.") % {
                "date": long_when(due, said.zone)
            }
        return _("Your decision is now due %(date)s instead of %(was)s.") % {
            "date": long_when(due, said.zone),
            "was": long_when(was, said.zone),
        }
    if was is None or due is None:
        return _("The working calendar changed, and so did your deadline.")
    return _(
        "The working calendar changed: your decision is now due %(date)s "
        "instead of %(was)s."
    ) % {"date": long_when(due, said.zone), "was": long_when(was, said.zone)}


def _stalled(said: _Said) -> str:
    hours = said.ctx.get("hours")
    if hours:
        return _("Stage over %(hours)s h: %(doc)s") % {"hours": hours, "doc": said.doc}
    return _("Stage is taking long: %(doc)s") % {"doc": said.doc}


def _returned(said: _Said) -> str:
    by = next(
        (
            t.decided_by.short_name
            for t in said.facts.decisions
            if t.outcome == "return" and t.decided_by is not None
        ),
        "",
    )
    if by:
        return _("Returned for revision: %(doc)s by %(who)s") % {
            "doc": said.doc,
            "who": by,
        }
    return _("Returned for revision: %(doc)s") % {"doc": said.doc}


def _field_reminder(said: _Said) -> str:
    label = field_label(said.ctx)
    date = plain_date(said.ctx.get("date"))
    if label and date:
        return _("Reminder: %(doc)s — %(field)s on %(date)s") % {
            "doc": said.doc,
            "field": label,
            "date": date,
        }
    return _("Reminder: %(doc)s") % {"doc": said.doc}


def _route_notice(said: _Said) -> str:
    number, title = document_words(said.row)
    return _("Notice: %(doc)s %(title)s") % {"doc": number, "title": title}


def _stage_name(said: _Said, prefix: str) -> str:
    language = "en" if (translation.get_language() or "").startswith("en") else "ru"
    return str(said.ctx.get(f"{prefix}_{language}") or said.ctx.get("stage") or "")


def _sent_back(said: _Said) -> str:
    return _("Sent back to «%(stage)s»: %(doc)s") % {
        "stage": _stage_name(said, "to"),
        "doc": said.doc,
    }


def _sent_back_lead(said: _Said) -> str:
    by = next(
        (
            t.decided_by.short_name
            for t in reversed(said.facts.decisions)
            if t.outcome == "return_to_stage" and t.decided_by is not None
        ),
        "",
    )
    words = {
        "who": by or _("A participant"),
        "stage": _stage_name(said, "to"),
        "comment": str(said.ctx.get("comment") or ""),
    }
    return (
        _(
            "%(who)s sent the document back to the stage «%(stage)s»; a new round "
            "starts there. Comment: %(comment)s"
        )
        % words
    )


def _invitation(said: _Said) -> str:
    start = parse_when(said.ctx.get("invite_start"))
    what = str(said.ctx.get("invite_summary") or said.doc)
    if start is None:
        return _("Invitation: %(what)s") % {"what": what}
    return _("Invitation: %(what)s — %(when)s") % {
        "what": what,
        "when": long_when(start, said.zone),
    }


def _decision_pending(said: _Said) -> str:
    return _("Reminder: your decision on %(doc)s") % {"doc": said.doc}


HEADLINES: dict[str, Callable[[_Said], str]] = {
    "task_assigned": _assigned,
    "reminder": _decision_pending,
    "nudge": _decision_pending,
    "overdue": _overdue,
    "deadline_moved": _deadline_moved,
    "escalated": lambda s: _("Escalation: %(doc)s is overdue") % {"doc": s.doc},
    "stage_stalled": _stalled,
    "returned": _returned,
    "approved": lambda s: _("Approved: %(doc)s") % {"doc": s.doc},
    "rejected": lambda s: _("Rejected: %(doc)s") % {"doc": s.doc},
    "cancelled": lambda s: _("Approval cancelled: %(doc)s") % {"doc": s.doc},
    "step_unresolved": lambda s: _("Nobody to assign: %(doc)s") % {"doc": s.doc},
    "task_removed": lambda s: _("Removed from the approval: %(doc)s") % {"doc": s.doc},
    "field_reminder": _field_reminder,
    "route_notice": _route_notice,
    "approval_carried": lambda s: (
        _("Your approval carried over to a new version: %(doc)s") % {"doc": s.doc}
    ),
    "approval_withdrawn": lambda s: (
        _("An approval was withdrawn: %(doc)s") % {"doc": s.doc}
    ),
    "sent_back": _sent_back,
    "invitation": _invitation,
    "assignee_deactivated": lambda s: (
        _("Reassign: %(doc)s — %(person)s was deactivated")
        % {"doc": s.doc, "person": s.ctx.get("person", "")}
    ),
}


# --- leads -----------------------------------------------------------------------------


def _overdue_lead(said: _Said) -> str:
    task = said.task
    if task is not None and said.row.recipient_user_id in {
        task.assignee_id,
        task.on_behalf_of_id,
    }:
        return _("The deadline for your decision has passed.")
    if said.assignee_name:
        return _("The deadline has passed; the document is waiting on %(who)s.") % {
            "who": said.assignee_name
        }
    return _("The deadline of this approval has passed.")


def _cancelled_lead(said: _Said) -> str:
    reason = str(said.ctx.get("reason") or "")
    if reason:
        return _("The approval was cancelled: %(reason)s") % {"reason": reason}
    return _("The approval was cancelled.")


def _escalated_lead(said: _Said) -> str:
    return _("The task of %(who)s is overdue; you are told as their manager.") % {
        "who": said.assignee_name or _("a colleague")
    }


def _withdrawn_lead(said: _Said) -> str:
    comment = str(said.ctx.get("comment") or "")
    who = said.assignee_name or _("A colleague")
    if comment:
        return _(
            "%(who)s withdrew the approval carried over from the last round and "
            "is asked again: %(comment)s"
        ) % {"who": who, "comment": comment}
    return _(
        "%(who)s withdrew the approval carried over from the last round and is "
        "asked again."
    ) % {"who": who}


LEADS: dict[str, Callable[[_Said], str]] = {
    "approval_withdrawn": _withdrawn_lead,
    "overdue": _overdue_lead,
    "deadline_moved": _deadline_moved_lead,
    "escalated": _escalated_lead,
    "cancelled": _cancelled_lead,
    "sent_back": _sent_back_lead,
}
# The leads that say the same whatever the row (translated when said).
FIXED_LEADS = {
    "task_assigned": gettext_lazy("A document is waiting for your decision."),
    "reminder": gettext_lazy("The document is still waiting for your decision."),
    "nudge": gettext_lazy(
        "The initiator asks you to look at the document: it is waiting for your decision."
    ),
    "stage_stalled": gettext_lazy(
        "A stage of this approval is taking longer than the route allows."
    ),
    "returned": gettext_lazy("The document was returned to you for revision."),
    "approved": gettext_lazy("The approval has finished: approved."),
    "rejected": gettext_lazy("The approval has finished: rejected."),
    "step_unresolved": gettext_lazy(
        "A step of the route has nobody to assign; please choose someone."
    ),
    "field_reminder": gettext_lazy("A date of this document is coming up."),
    "approval_carried": gettext_lazy(
        "The document was returned and corrected. Your earlier approval counts for "
        "the new version too, but the files changed since you approved. Compare the "
        "versions on the card; if the change matters, withdraw your approval there "
        "while the round runs."
    ),
    "invitation": gettext_lazy(
        "You are invited to a meeting about this document. The calendar file is "
        "attached: open it to add the event to your calendar."
    ),
    "task_removed": gettext_lazy(
        "You were taken off this approval: your decision is no longer needed."
    ),
    "assignee_deactivated": gettext_lazy(
        "The person holding a task of this document was deactivated. Open the "
        "document and give the task to someone else."
    ),
}


# --- the kind --------------------------------------------------------------------------


# The notification settings: (kind, label, essential). Essential kinds ask the
# person to act and cannot be turned off (only moved to the digest).
PREFERENCE_KINDS = (
    ("workflow.task_assigned", gettext_lazy("A document waits for my decision"), True),
    ("workflow.returned", gettext_lazy("My document was returned for revision"), True),
    ("workflow.step_unresolved", gettext_lazy("A step of my route has nobody"), True),
    (
        "workflow.assignee_deactivated",
        gettext_lazy("A task of my route is held by a deactivated person"),
        True,
    ),
    (
        "workflow.approval_carried",
        gettext_lazy("My approval carried over to a changed version"),
        False,
    ),
    (
        "workflow.approval_withdrawn",
        gettext_lazy("An approval of my document was withdrawn"),
        False,
    ),
    ("workflow.reminder", gettext_lazy("Reminders before a deadline"), False),
    ("workflow.nudge", gettext_lazy("The initiator asks me to look"), False),
    ("workflow.overdue", gettext_lazy("A task is overdue"), False),
    (
        "workflow.deadline_moved",
        gettext_lazy("The deadline of my task moved"),
        False,
    ),
    (
        "workflow.task_removed",
        gettext_lazy("I was taken off an approval"),
        False,
    ),
    ("workflow.escalated", gettext_lazy("A task of my team is overdue"), False),
    ("workflow.stage_stalled", gettext_lazy("A stage takes too long"), False),
    ("workflow.approved", gettext_lazy("My document was approved"), False),
    ("workflow.rejected", gettext_lazy("My document was rejected"), False),
    ("workflow.cancelled", gettext_lazy("An approval was cancelled"), False),
    ("workflow.field_reminder", gettext_lazy("A date of a document comes up"), False),
    ("workflow.route_notice", gettext_lazy("Notices sent by routes"), False),
    (
        "workflow.sent_back",
        gettext_lazy("My document was sent back to an earlier stage"),
        False,
    ),
    ("workflow.invitation", gettext_lazy("Calendar invitations of routes"), False),
)


class WorkflowNotices(NoticeKind[TaskFacts]):
    """The ``workflow.*`` kinds: tasks, deadlines, outcomes, date reminders."""

    def preference_kinds(self) -> Sequence[tuple[str, Any, bool]]:
        return PREFERENCE_KINDS

    def load_facts(self, rows: Sequence[Notification]) -> dict[int, TaskFacts]:
        task_ids = {t for row in rows if (t := _task_id(row)) is not None}
        tasks = {
            task.pk: task
            for task in Task.objects.filter(pk__in=task_ids).select_related("assignee")
        }
        process_ids = {p for row in rows if (p := _process_id(row)) is not None}
        decisions: dict[int, list[Task]] = {}
        if process_ids:
            done = (
                Task.objects.filter(process_id__in=process_ids, state=TaskState.DONE)
                .select_related("decided_by", "process")
                .order_by("decided_at", "pk")
            )
            for task in done:
                # only the current round's decisions (earlier rounds are history)
                if task.round == task.process.round:
                    decisions.setdefault(task.process_id, []).append(task)
        facts = {}
        for row in rows:
            task_id, process_id = _task_id(row), _process_id(row)
            facts[row.pk] = TaskFacts(
                task=tasks.get(task_id) if task_id is not None else None,
                decisions=decisions.get(process_id, [])
                if process_id is not None
                else [],
            )
        return facts

    def _say(
        self,
        words: Mapping[str, Callable[[_Said], str]],
        row: Notification,
        zone: zoneinfo.ZoneInfo,
        facts: TaskFacts | None,
    ) -> str | None:
        say = words.get(row.kind.removeprefix(PREFIX))
        return say(_Said(row, zone, facts or TaskFacts())) if say else None

    def headline(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: TaskFacts | None
    ) -> str:
        said = self._say(HEADLINES, row, zone, facts)
        return said if said is not None else super().headline(row, zone, facts)

    def lead(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: TaskFacts | None
    ) -> str:
        fixed = FIXED_LEADS.get(row.kind.removeprefix(PREFIX))
        if fixed is not None:
            return str(fixed)
        said = self._say(LEADS, row, zone, facts)
        return said if said is not None else super().lead(row, zone, facts)

    def fact_rows(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: TaskFacts | None
    ) -> list[tuple[str, str]]:
        said = _Said(row, zone, facts or TaskFacts())
        if row.kind in DEADLINE_KINDS and said.due is not None:
            return [(_("Deadline"), long_when(said.due, zone))]
        if row.kind == "workflow.field_reminder" and (label := field_label(said.ctx)):
            return [(label, plain_date(said.ctx.get("date")))]
        if row.kind == "workflow.invitation":
            return _invitation_rows(said.ctx, zone)
        return []

    @override
    def decisions(
        self, row: Notification, zone: zoneinfo.ZoneInfo, facts: TaskFacts | None
    ) -> list[tuple[str, str, str, str]]:
        return [
            (
                t.decided_by.short_name
                if t.decided_by is not None
                else t.decided_by_ref,
                str(outcome_label(t.outcome)),
                long_when(t.decided_at, zone),
                t.comment,
            )
            for t in (facts.decisions if facts else [])
        ]

    def link(self, row: Notification, facts: TaskFacts | None) -> str:
        """The task (``/t/<task>/``) for its holder, else the document card; guests
        get the card for now (their link page comes later)."""
        task = facts.task if facts else None
        if (
            task is not None
            and row.document_id is not None
            and row.recipient_user_id is not None
            and _holds_open(row, task)
        ):
            return site_url(reverse("workflow:task_link", args=[task.pk]))
        return super().link(row, facts)

    def action_label(self, row: Notification, facts: TaskFacts | None) -> str:
        if _holds_open(row, facts.task if facts else None):
            return _("Open and decide")
        return super().action_label(row, facts)

    def why_stale(self, row: Notification, facts: TaskFacts | None) -> str | None:
        task = facts.task if facts else None
        if row.kind in TASK_BOUND_KINDS and (task is None or not task.is_open):
            return "the task was decided or closed before delivery"
        return None


def _invitation_rows(
    ctx: Mapping[str, Any], zone: zoneinfo.ZoneInfo
) -> list[tuple[str, str]]:
    start = parse_when(ctx.get("invite_start"))
    end = parse_when(ctx.get("invite_end"))
    rows = []
    if start is not None:
        until = f" – {end.astimezone(zone):%H:%M}" if end is not None else ""
        rows.append((_("When"), f"{long_when(start, zone)}{until} ({zone.key})"))
    if ctx.get("invite_location"):
        rows.append((_("Where"), str(ctx["invite_location"])))
    return rows


def register_notices() -> None:
    """Called from ``WorkflowConfig.ready()``."""
    register(PREFIX, WorkflowNotices())
