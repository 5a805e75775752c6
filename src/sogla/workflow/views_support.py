"""Read-side helpers for the web screens: the inbox with filters, the registry's
traffic light, the card's holder line and history, in a constant number of queries.

Everything here reads; commands stay in ``sogla.workflow.services``. Every function
is scoped to the user's organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound
from sogla.documents.models import Document, FieldDef, FieldKind, fold
from sogla.engine.calendar import WorkCalendar
from sogla.engine.conditions import ENGLISH, Words
from sogla.orgs.models import Organisation, Role, User
from sogla.workflow import definitions
from sogla.workflow.condition_words import skip_reason, words_for
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    ProcessStatus,
    StageRun,
    Task,
    TaskState,
    Timer,
    TimerState,
)
from sogla.workflow.selectors import tab_rows
from sogla.workflow.services import organisation_calendar

PAGE_SIZE = 50
_SALT = "sogla.workflow.inbox.web"
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def calendar_for(organisation: Organisation) -> WorkCalendar:
    return organisation_calendar(organisation)


def local_now(organisation: Organisation | None = None) -> datetime:
    return timezone.localtime(timezone.now())


# --- durations in words -------------------------------------------------------------


def working_days(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    start_local = timezone.localtime(start)
    end_local = timezone.localtime(end)
    return calendar.working_days_between(start_local.date(), end_local.date())


def waiting_words(calendar: WorkCalendar, since: datetime, now: datetime) -> str:
    """ "3 working days" or, within the same day, "2 h" / "less than an hour"."""
    days = working_days(calendar, since, now)
    if days:
        return ngettext("%(count)d working day", "%(count)d working days", days) % {
            "count": days
        }
    hours = int((now - since).total_seconds() // 3600)
    if hours < 1:
        return _("less than an hour")
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def overdue_words(calendar: WorkCalendar, due: datetime, now: datetime) -> str:
    """ "2 working days overdue" (at least one: overdue today counts as one)."""
    days = max(1, working_days(calendar, due, now))
    return ngettext(
        "%(count)d working day overdue", "%(count)d working days overdue", days
    ) % {"count": days}


# --- inbox with filters -------------------------------------------------------------


# Full class names for the CSS purge.
KIND_ICONS = {
    "approve": "bi-check2-square",
    "sign": "bi-pen",
    "acknowledge": "bi-eye",
    "request_info": "bi-input-cursor-text",
    "task": "bi-list-check",
    "consult": "bi-chat-left-text",
    "revision": "bi-arrow-counterclockwise",
}


def kind_words(kind: str) -> str:
    words = {
        "approve": _("Approve"),
        "sign": _("Sign"),
        "acknowledge": _("Acknowledge"),
        "request_info": _("Fill in"),
        "task": _("Task"),
        "consult": _("Opinion"),
        "revision": _("Revise"),
    }
    return str(words.get(kind, kind))


@dataclass
class InboxRow:
    task: Task
    group: str  # overdue / today / week / later / none / done
    overdue_text: str
    delegated_for: User | None
    stage_name: str = ""
    stage_position: str = ""

    @property
    def icon(self) -> str:
        return KIND_ICONS.get(self.task.kind, "bi-circle")

    @property
    def kind_word(self) -> str:
        return kind_words(self.task.kind)

    @property
    def bulk_outcome(self) -> str | None:
        from sogla.workflow.bulk import bulk_outcome

        return bulk_outcome(self.task)


@dataclass
class InboxGroup:
    key: str
    title: str
    rows: list[InboxRow] = field(default_factory=list)


@dataclass
class InboxPage:
    groups: list[InboxGroup]
    next_cursor: str | None
    count: int


GROUP_TITLES = {
    "overdue": lambda: _("Overdue"),
    "today": lambda: _("Today"),
    "week": lambda: _("This week"),
    "later": lambda: _("Later"),
    "none": lambda: _("No due date"),
    "open": lambda: _("Waiting on others"),
    "done": lambda: _("Done"),
}


def _encode(at: datetime, pk: int) -> str:
    return signing.dumps([at.isoformat(), pk], salt=_SALT, compress=True)


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, pk = signing.loads(cursor, salt=_SALT)
        return datetime.fromisoformat(at), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound("bad cursor") from None


def inbox_page(
    *,
    user: User,
    tab: str = "mine",
    cursor: str = "",
    doc_type: str = "",
    q: str = "",
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """One page of an inbox tab in one query, grouped by urgency.

    The tabs are ``selectors.tab_rows``'; open tasks come overdue first, then by due
    time, no due time last; done tasks newest first.
    """
    rows = tab_rows(user, tab)
    if doc_type:
        rows = rows.filter(process__document__doc_type__key=doc_type)
    if q.strip():
        rows = rows.filter(process__document__search_text__contains=fold(q.strip()))
    if tab == "done":
        if cursor:
            at, pk = _decode(cursor)
            rows = rows.filter(Q(decided_at__lt=at) | Q(decided_at=at, pk__lt=pk))
        items = list(rows.order_by("-decided_at", "-id")[: limit + 1])
    else:
        rows = rows.annotate(due_sort=Coalesce("due_at", FAR_FUTURE))
        if cursor:
            due, pk = _decode(cursor)
            rows = rows.filter(Q(due_sort__gt=due) | Q(due_sort=due, pk__gt=pk))
        items = list(rows.order_by("due_sort", "id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    next_cursor = None
    if more and items:
        last = items[-1]
        if tab == "done":
            next_cursor = _encode(last.decided_at or FAR_FUTURE, last.pk)
        else:
            next_cursor = _encode(last.due_at or FAR_FUTURE, last.pk)
    calendar = (
        calendar_for(user.organisation)
        if items and tab != "done" and user.organisation is not None
        else None
    )
    now = timezone.now()
    today = timezone.localtime(now).date()
    week_end = today + timedelta(days=6 - today.weekday())
    groups: dict[str, InboxGroup] = {}
    for task in items:
        group = "done" if tab == "done" else _group(task, now, today, week_end)
        if tab in ("started", "watching") and group != "overdue":
            group = "open"
        text = ""
        if group == "overdue" and calendar is not None and task.due_at is not None:
            text = overdue_words(calendar, task.due_at, now)
        delegated = task.on_behalf_of if task.assignee_id == user.pk else None
        name, position = _stage_name(task)
        groups.setdefault(
            group, InboxGroup(group, str(GROUP_TITLES[group]()))
        ).rows.append(InboxRow(task, group, text, delegated, name, position))
    return InboxPage(list(groups.values()), next_cursor, len(items))


def _stage_name(task: Task) -> tuple[str, str]:
    """The stage's name and "3/5" from the (cached) route definition."""
    from sogla.workflow.selectors import _text

    if task.kind == "revision":
        return kind_words("revision"), ""
    definition = definitions.definition_for(task.process.route_version)
    for index, stage in enumerate(definition.stages):
        if stage.key == task.stage_key:
            return _text(
                stage.name
            ) or stage.key, f"{index + 1}/{len(definition.stages)}"
    return task.stage_key, ""


def _group(task: Task, now: datetime, today: date, week_end: date) -> str:
    if task.due_at is None:
        return "overdue" if task.overdue else "none"
    if task.overdue or task.due_at < now:
        return "overdue"
    due = timezone.localtime(task.due_at).date()
    if due <= today:
        return "today"
    if due <= week_end:
        return "week"
    return "later"


# --- registry: one traffic light per document -----------------------------------------

# Full class names for the CSS purge.
SEGMENT_CLASSES = {
    "done": "tl-seg tl-done",
    "current": "tl-seg tl-current",
    "overdue": "tl-seg tl-overdue",
    "future": "tl-seg tl-future",
    "skipped": "tl-seg tl-skipped",
    "returned": "tl-seg tl-returned",
    "rejected": "tl-seg tl-rejected",
}


def _segment_word(colour: str) -> str:
    words = {
        "done": _("done"),
        "current": _("waiting"),
        "overdue": _("overdue"),
        "future": _("not started"),
        "skipped": _("skipped"),
        "returned": _("returned"),
        "rejected": _("rejected"),
    }
    return words[colour]


@dataclass
class Segment:
    name: str
    colour: str

    @property
    def css(self) -> str:
        return SEGMENT_CLASSES[self.colour]

    @property
    def word(self) -> str:
        return _segment_word(self.colour)


@dataclass
class StageSummary:
    process: Process
    segments: list[Segment]
    position: int
    total: int
    current_name: str
    current_word: str
    holder: User | None
    holder_email: str
    more_holders: int
    waiting: str
    overdue: bool

    @property
    def hidden_text(self) -> str:
        return _("Stage %(n)d of %(total)d, %(name)s, %(state)s") % {
            "n": self.position,
            "total": self.total,
            "name": self.current_name,
            "state": self.current_word,
        }


def stage_summaries(
    *, user: User, documents: Sequence[Document]
) -> dict[int, StageSummary]:
    """The traffic light of each document on a page: three queries for any page size.

    The processes (the active one, else the latest), their current round's stage
    runs and their open tasks with the people.
    """
    org_id = organisation_id_of(user)
    ids = [d.pk for d in documents]
    if not ids:
        return {}
    processes: dict[int, Process] = {}
    for process in (
        Process.objects.filter(organisation_id=org_id, document_id__in=ids)
        .select_related("route_version")
        .order_by("document_id", "-started_at", "-id")
    ):
        known = processes.get(process.document_id)
        if known is None or (
            process.is_active and known.status not in ACTIVE_PROCESS_STATUSES
        ):
            processes[process.document_id] = process
    if not processes:
        return {}
    by_pk = {p.pk: p for p in processes.values()}
    runs: dict[int, dict[str, StageRun]] = {}
    for run in StageRun.objects.filter(process_id__in=list(by_pk)):
        if run.round == by_pk[run.process_id].round:
            runs.setdefault(run.process_id, {})[run.stage_key] = run
    open_tasks: dict[int, list[Task]] = {}
    for task in (
        Task.objects.filter(
            process_id__in=[p.pk for p in by_pk.values() if p.is_active],
            state=TaskState.OPEN,
        )
        .select_related("assignee")
        .order_by("created_at", "id")
    ):
        open_tasks.setdefault(task.process_id, []).append(task)
    now = timezone.now()
    calendar = (
        calendar_for(user.organisation)
        if open_tasks and user.organisation is not None
        else None
    )
    result: dict[int, StageSummary] = {}
    for document_id, process in processes.items():
        result[document_id] = _summary(
            process,
            runs.get(process.pk, {}),
            open_tasks.get(process.pk, []),
            now,
            calendar,
        )
    return result


def _summary(
    process: Process,
    runs: dict[str, StageRun],
    tasks: list[Task],
    now: datetime,
    calendar: WorkCalendar | None,
) -> StageSummary:
    from sogla.workflow.selectors import _text

    definition = definitions.definition_for(process.route_version)
    late_stages = {
        t.stage_key
        for t in tasks
        if t.overdue or (t.due_at is not None and t.due_at < now)
    }
    segments: list[Segment] = []
    for stage in definition.stages:
        run = runs.get(stage.key)
        name = _text(stage.name) or stage.key
        if run is None:
            colour = "future"
        elif run.state == "done":
            colour = "done"
        elif run.state == "skipped":
            colour = "skipped"
        elif run.state == "open":
            colour = "overdue" if stage.key in late_stages else "current"
        elif process.status == ProcessStatus.REVISION:
            colour = "returned"
        elif process.status == ProcessStatus.REJECTED:
            colour = "rejected"
        else:
            colour = "future"
        segments.append(Segment(name, colour))
    total = len(segments)
    if process.status == ProcessStatus.APPROVED:
        position = total
    else:
        position = min(process.stage_index + 1, total)
    current = segments[position - 1] if segments else Segment("", "future")
    if process.status == ProcessStatus.REVISION:
        current = Segment(current.name, "returned")
    holder_task = next((t for t in tasks if t.kind != "revision"), None)
    if holder_task is None and tasks:
        holder_task = tasks[0]
    waiting = ""
    if holder_task is not None and calendar is not None:
        waiting = waiting_words(calendar, holder_task.created_at, now)
    return StageSummary(
        process=process,
        segments=segments,
        position=position,
        total=total,
        current_name=current.name,
        current_word=current.word,
        holder=holder_task.assignee if holder_task else None,
        holder_email=holder_task.guest_email if holder_task else "",
        more_holders=max(0, len(tasks) - 1),
        waiting=waiting,
        overdue=bool(late_stages),
    )


# --- history in plain language --------------------------------------------------------


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


def _history_text(verb: str, payload: dict[str, Any]) -> tuple[str, str]:
    """What happened, in words, and a detail line (a comment, a reason, a file)."""
    from sogla.workflow.labels import outcome_label

    texts = {
        "document.created": _("created the document"),
        "document.fields_changed": _("changed fields"),
        "document.archived": _("archived the document"),
        "document.file_version_added": _("uploaded a file version"),
        "process.started": _("sent the document for approval"),
        "process.resubmitted": _("sent a new version for approval (round %(round)s)"),
        "process.cancelled": _("cancelled the approval"),
        "process.returned": _("The document was returned for revision"),
        "process.finished": _("The approval finished: %(status)s"),
        "process.step_unresolved": _("Nobody could be assigned to a step"),
        "process.step_resolved": _("assigned a step manually"),
        "process.filed": _("The document was filed into %(folder)s"),
        "process.deadline_unknown": _("A due date could not be set"),
        "process.action_not_supported": _("A route action was skipped"),
        "process.notify_unresolved": _("A notice reached nobody: %(target)s"),
        "task.reassigned": _("gave a task to someone else"),
        "task.overdue": _("A task became overdue"),
        "task.escalated": _("An overdue task was escalated to the assignee's manager"),
        "process.reminder_scheduled": _("A date reminder is set for %(at)s"),
        "process.reminder_skipped": _("A date reminder could not be set"),
        "process.reminder_sent": _("The date reminder was sent"),
        "timer.retried": _("restarted a failed timer"),
        "process.reminded": _("reminded the people the approval waits on"),
    }
    detail = ""
    if verb == "task.decided":
        text = _("decided: %(outcome)s") % {
            "outcome": outcome_label(str(payload.get("outcome", "")))
        }
        detail = str(payload.get("comment") or "")
    elif verb in texts:
        statuses = {
            "approved": _("approved"),
            "rejected": _("rejected"),
            "cancelled": _("cancelled"),
        }
        values = {
            "round": payload.get("round", ""),
            "status": statuses.get(
                str(payload.get("status", "")), payload.get("status", "")
            ),
            "folder": payload.get("folder", ""),
            "target": payload.get("target", ""),
            "at": _local_date(payload.get("at")),
        }
        text = texts[verb] % values if "%(" in texts[verb] else texts[verb]
        if verb == "document.fields_changed":
            detail = ", ".join(sorted(str(k) for k in payload.get("changes", {}) or {}))
            if not detail:
                detail = ", ".join(
                    sorted(str(k) for k in payload.get("fields", []) or [])
                )
        elif verb == "document.file_version_added":
            name = payload.get("name") or payload.get("original_name") or ""
            detail = f"{name} v{payload.get('version', '')}".strip()
        else:
            detail = str(payload.get("comment") or payload.get("reason") or "")
    else:
        text = verb
    return text, detail


SYSTEM_VERBS = frozenset(
    {
        "process.returned",
        "process.finished",
        "process.step_unresolved",
        "process.filed",
        "process.deadline_unknown",
        "process.action_not_supported",
        "process.notify_unresolved",
        "task.overdue",
        "task.escalated",
        "process.reminder_scheduled",
        "process.reminder_skipped",
        "process.reminder_sent",
    }
)


def _local_date(value: Any) -> str:
    """An ISO moment from a payload as a short local date ("" when missing)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def history_days(*, events: Iterable[Any], show_ip: bool) -> list[HistoryDay]:
    """Events grouped by local day, newest day first; repeats in a row folded."""
    days: list[HistoryDay] = []
    for event in events:
        text, detail = _history_text(event.verb, dict(event.payload or {}))
        if event.verb in SYSTEM_VERBS:
            actor = ""  # the route did it: a sentence of its own
        elif event.actor is not None:
            actor = event.actor.short_name
        else:
            actor = event.actor_label or _("system")
        at = timezone.localtime(event.created_at)
        entry = HistoryEntry(at, actor, text, detail, event.ip if show_ip else "")
        if not days or days[-1].day != at.date():
            days.append(HistoryDay(at.date(), []))
        entries = days[-1].entries
        if (
            entries
            and entries[-1].actor == actor
            and entries[-1].text == text
            and entries[-1].detail == detail
            and not detail
        ):
            entries[-1].times += 1
            continue
        entries.append(entry)
    days.reverse()
    return days


# --- the card: holder line, route map extras, panels, start, revision ----------------


@dataclass
class PreviewStepView:
    name: str
    kind: str
    runs: bool
    reason: str
    unresolved: bool
    people: list[str]
    tentative: bool


@dataclass
class PreviewStageView:
    name: str
    runs: bool
    reason: str
    steps: list[PreviewStepView]
    tentative: bool = False  # its condition reads answers given later


@dataclass
class StartView:
    routes: list[Any]  # RouteTemplate
    chosen: Any  # RouteTemplate | None
    stages: list[PreviewStageView]
    problem: str = ""


def preview_view(preview: Any, words: Words | None = None) -> list[PreviewStageView]:
    """A ``selectors.ProcessPreview`` with people's names, for the start section."""
    from sogla.workflow.selectors import _text

    definition = definitions.definition_for(preview.version)
    words = words or ENGLISH
    stages = []
    for stage in preview.stages:
        stage_def = definition.stage(stage.key)
        conditions = {s.key: s.when for s in stage_def.steps}
        steps = []
        for step in stage.steps:
            names = []
            for person in step.participants:
                if person.kind == "user":
                    user = preview.users.get(int(person.id))
                    name = user.short_name if user else person.id
                else:
                    name = person.id
                if (
                    person.on_behalf_of is not None
                    and person.on_behalf_of.kind == "user"
                ):
                    seat = preview.users.get(int(person.on_behalf_of.id))
                    if seat is not None:
                        name = _("%(name)s for %(seat)s") % {
                            "name": name,
                            "seat": seat.short_name,
                        }
                names.append(name)
            steps.append(
                PreviewStepView(
                    name=_text(step.name) or step.key,
                    kind=step.kind,
                    runs=step.runs,
                    reason=skip_reason(step.reason, conditions.get(step.key), words),
                    unresolved=step.unresolved,
                    people=names,
                    tentative=step.tentative,
                )
            )
        stages.append(
            PreviewStageView(
                name=_text(stage.name) or stage.key,
                runs=stage.runs,
                reason=skip_reason(stage.reason, stage_def.when, words),
                steps=steps,
                tentative=stage.tentative,
            )
        )
    return stages


@dataclass
class PanelView:
    panel: Any  # selectors.DecisionPanel
    request_id: str
    widgets: list[Any]
    errors: dict[str, list[str]]
    outcome: str
    comment: str
    overdue: bool
    due_at: datetime | None
    general_error: str = ""

    @property
    def task(self) -> Task:
        task: Task = self.panel.task
        return task


@dataclass
class CardApproval:
    process: Process | None
    route_map: Any  # selectors.RouteMap | None
    waits: dict[int, str]
    holders: list[tuple[str, str]]  # (who, step name)
    holder_wait: str
    holder_overdue: str
    holder_due: datetime | None
    panels: list[PanelView]
    start: StartView | None
    can_manage: bool
    is_initiator: bool
    can_cancel: bool
    people: list[User]
    returned_task: Any  # MapTask | None
    rounds: list[int]
    shown_round: int
    old_round_tasks: list[Task]
    decided: Task | None
    next_task: Task | None
    may_edit_round: bool
    edit_steps: list[tuple[str, str]]  # ("stage.step", "Stage · Step")
    files_sha: str
    files_version: int
    errors: dict[str, list[str]]
    posted: dict[str, str]
    step_names: dict[tuple[str, str], str]
    assignee_words: dict[str, str] = field(default_factory=dict)
    wait_until: dict[str, datetime] = field(default_factory=dict)  # "stage.step"
    approves: bool = True  # the route has approve or sign steps (else: tasks only)

    @property
    def holder_until(self) -> datetime | None:
        """The route pauses in a wait step: until when (the earliest)."""
        return min(self.wait_until.values()) if self.wait_until else None


def _assignee_words(
    assignee: dict[str, Any], role_names: dict[str, str], labels: dict[str, str]
) -> str:
    """A not-yet-started step's assignee in words (the definition's rule)."""
    if not assignee:
        return ""
    if assignee.get("role"):
        role = str(assignee["role"])
        return _("any holder of the role «%(role)s»") % {
            "role": role_names.get(role, role)
        }
    if assignee.get("manager_of"):
        return _("the initiator's manager")
    if assignee.get("department_head"):
        return _("the head of the department")
    if assignee.get("user_field") or assignee.get("users_field"):
        key = str(assignee.get("user_field") or assignee.get("users_field"))
        return _("the people named in the field «%(field)s»") % {
            "field": labels.get(key, key)
        }
    if assignee.get("initiator"):
        return _("the initiator")
    if assignee.get("guests"):
        return ", ".join(str(g) for g in assignee["guests"])
    if assignee.get("user"):
        return str(assignee["user"])
    return _("external participants")


def _reasons_in_words(rmap: Any, words: Words) -> None:
    """Skip reasons of the route map said from the route's conditions."""
    definition = definitions.definition_for(rmap.process.route_version)
    for stage in rmap.stages:
        stage_def = definition.stage(stage.key)
        stage.reason = skip_reason(stage.reason, stage_def.when, words)
        conditions = {s.key: s.when for s in stage_def.steps}
        for step in stage.steps:
            step.reason = skip_reason(step.reason, conditions.get(step.key), words)


def _org_people(organisation_id: int) -> list[User]:
    return list(
        User.objects.filter(organisation_id=organisation_id, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )


def card_approval(
    *,
    user: User,
    document: Document,
    files: Sequence[Any],
    round_param: str = "",
    route_key: str = "",
    decided_id: str = "",
    panel_state: dict[int, dict[str, Any]] | None = None,
    start_problem: str = "",
    errors: dict[str, list[str]] | None = None,
    posted: dict[str, str] | None = None,
    people: Sequence[User] | None = None,
) -> CardApproval:
    """Everything the card's approval parts show, in a constant number of queries."""
    import uuid

    from sogla.documents.forms import build_widgets
    from sogla.documents.models import StatusMeaning
    from sogla.orgs.access import is_org_admin
    from sogla.workflow import selectors

    panel_state = panel_state or {}
    process = selectors.process_for_document(document)
    rmap = selectors.route_map(user=user, document=document) if process else None
    fields = getattr(document, "field_defs", None)
    if fields is None:
        fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    words = words_for(fields)
    if rmap is not None:
        _reasons_in_words(rmap, words)
    now = timezone.now()
    calendar = calendar_for(document.organisation)
    waits: dict[int, str] = {}
    holders: list[tuple[str, str]] = []
    holder_wait = holder_overdue = ""
    holder_due: datetime | None = None
    step_names: dict[tuple[str, str], str] = {}
    assignee_words: dict[str, str] = {}
    returned = None
    if rmap is not None:
        usernames = {
            str(step.assignee["user"])
            for stage in rmap.stages
            for step in stage.steps
            if not step.tasks and step.assignee.get("user")
        }
        named = (
            {
                u.username: u.short_name
                for u in User.objects.filter(
                    organisation_id=document.organisation_id, username__in=usernames
                )
            }
            if usernames
            else {}
        )
        role_keys = {
            str(step.assignee["role"])
            for stage in rmap.stages
            for step in stage.steps
            if not step.tasks and step.assignee.get("role")
        }
        role_names = (
            {
                r.key: r.name
                for r in Role.objects.for_org(document.organisation_id).filter(
                    key__in=role_keys
                )
            }
            if role_keys
            else {}
        )
        for stage in rmap.stages:
            for step in stage.steps:
                redundant = step.name in (step.key, stage.name)
                step_names[(stage.key, step.key)] = (
                    stage.name if redundant else f"{stage.name} · {step.name}"
                )
                user_key = str(step.assignee.get("user") or "")
                assignee_words[f"{stage.key}.{step.key}"] = named.get(
                    user_key
                ) or _assignee_words(
                    step.assignee, role_names, {f.key: f.label for f in fields}
                )
                for item in step.tasks:
                    if item.colour == "returned":
                        returned = item
        blockers = [w for w in rmap.waiting if w.task.kind != "consult"]
        for item in rmap.waiting:
            waits[item.task.pk] = waiting_words(calendar, item.task.created_at, now)
        for item in blockers or rmap.waiting:
            who = (
                item.person.short_name if item.person is not None else item.guest_email
            )
            holders.append(
                (who, step_names.get((item.task.stage_key, item.task.step_key), ""))
            )
        holding = blockers or rmap.waiting
        first = holding[0] if holding else None
        if first is not None:
            holder_wait = waits[first.task.pk]
            late = [
                w.task.due_at
                for w in (blockers or rmap.waiting)
                if w.colour == "overdue" and w.task.due_at is not None
            ]
            if late:
                holder_overdue = overdue_words(calendar, min(late), now)
            dues = [w.task.due_at for w in (blockers or rmap.waiting) if w.task.due_at]
            holder_due = min(dues) if dues else None
    is_initiator = document.initiator_id == user.pk
    admin = is_org_admin(user)
    can_manage = bool(process and selectors.can_manage_process(user, process))
    # the decision panels: my open tasks in this process
    panels: list[PanelView] = []
    wanted = [item.task.pk for item in rmap.my_tasks] if rmap is not None else []
    wanted += [pk for pk in panel_state if pk not in wanted]  # e.g. a closed task
    loaded_panels = []
    for task_pk in wanted:
        panel = selectors.task_get_for_decision(user=user, task_id=task_pk)
        if panel.task.kind != "revision":
            loaded_panels.append(panel)
    # People for person fields in a panel (S6's "choose the designer"), and for the
    # owner's reassign and the initiator's round edits.
    asks_people = any(
        f.kind in (FieldKind.USER, FieldKind.USERS)
        for panel in loaded_panels
        for f in panel.fields
    )
    for panel in loaded_panels:
        task_pk = panel.task.pk
        state = panel_state.get(task_pk, {})
        if people is None and asks_people:
            people = _org_people(document.organisation_id)
        widgets = build_widgets(
            panel.fields,
            state.get("values", {}),
            state.get("errors", {}),
            users=list(people or []),
        )
        is_late = panel.task.is_open and (
            panel.task.overdue
            or (panel.task.due_at is not None and panel.task.due_at < now)
        )
        panels.append(
            PanelView(
                panel=panel,
                request_id=state.get("request_id") or uuid.uuid4().hex,
                widgets=widgets,
                errors=state.get("errors", {}),
                outcome=state.get("outcome", ""),
                comment=state.get("comment", ""),
                overdue=bool(is_late),
                due_at=panel.task.due_at,
                general_error=state.get("general", ""),
            )
        )
    # start: a draft without an active approval, for the initiator or an admin
    start = None
    if (
        (process is None or not process.is_active)
        and document.status.meaning == StatusMeaning.DRAFT
        and document.archived_at is None
        and (is_initiator or admin)
    ):
        routes = selectors.routes_for_document(user=user, document=document)
        chosen = next((r for r in routes if r.key == route_key), None) or (
            routes[0] if routes else None
        )
        preview = (
            selectors.process_preview(user=user, document=document, template=chosen)
            if chosen is not None
            else None
        )
        start = StartView(
            routes,
            chosen,
            preview_view(preview, words) if preview else [],
            start_problem,
        )
    rounds: list[int] = []
    shown = 0
    old_tasks: list[Task] = []
    if process is not None:
        rounds = list(range(process.round, 0, -1))
        shown = process.round
        if round_param.isdigit() and 0 < int(round_param) < process.round:
            shown = int(round_param)
            old_tasks = list(
                Task.objects.filter(process=process, round=shown)
                .exclude(kind="revision")
                .select_related("assignee", "on_behalf_of", "decided_by")
                .order_by("id")
            )
    decided = None
    next_task = None
    if decided_id.isdigit():
        decided = (
            Task.objects.for_org(document.organisation_id)
            .filter(pk=int(decided_id), process__document=document, decided_by=user)
            .first()
        )
        if decided is not None:
            nxt = inbox_page(user=user, tab="mine", limit=1)
            next_task = next((r.task for g in nxt.groups for r in g.rows), None)
    may_edit = False
    edit_steps: list[tuple[str, str]] = []
    if process is not None and process.status == ProcessStatus.REVISION:
        definition = definitions.definition_for(process.route_version)
        may_edit = definition.on_return.initiator_may_edit
        if may_edit:
            from sogla.workflow.selectors import _text

            for stage_def in definition.stages:
                for step_def in stage_def.steps:
                    if step_def.kind in ("wait", "system"):
                        continue
                    edit_steps.append(
                        (
                            f"{stage_def.key}.{step_def.key}",
                            f"{_text(stage_def.name) or stage_def.key} · "
                            f"{_text(step_def.name) or step_def.key}",
                        )
                    )
    need_people = can_manage or (may_edit and is_initiator)
    if people is None:
        people = _org_people(document.organisation_id) if need_people else []
    latest: dict[int, Any] = {}
    for file in files:
        versions = list(file.versions.all())
        if versions:
            latest[file.pk] = versions[0]
    import hashlib

    joined = "\n".join(sorted(v.sha256 for v in latest.values()))
    files_sha = hashlib.sha256(joined.encode("ascii")).hexdigest() if latest else ""
    wait_until: dict[str, datetime] = {}
    if process is not None and process.is_active and not holders:
        for target, at in Timer.objects.filter(
            process=process, kind="wait", state=TimerState.PENDING
        ).values_list("target", "due_at"):
            _round, _sep, key = target.partition(":")
            wait_until[key.replace(":", ".")] = at
    return CardApproval(
        process=process,
        route_map=rmap,
        waits=waits,
        holders=holders,
        holder_wait=holder_wait,
        holder_overdue=holder_overdue,
        holder_due=holder_due,
        panels=panels,
        start=start,
        can_manage=can_manage,
        is_initiator=is_initiator,
        can_cancel=bool(process and process.is_active and (is_initiator or admin)),
        people=list(people),
        returned_task=returned,
        rounds=rounds,
        shown_round=shown,
        old_round_tasks=old_tasks,
        decided=decided,
        next_task=next_task,
        may_edit_round=may_edit and is_initiator,
        edit_steps=edit_steps,
        files_sha=files_sha,
        files_version=max((v.version for v in latest.values()), default=0),
        errors=errors or {},
        posted=posted or {},
        step_names=step_names,
        assignee_words=assignee_words,
        wait_until=wait_until,
        approves=process is None
        or any(
            step.kind in ("approve", "sign")
            for stage in definitions.definition_for(process.route_version).stages
            for step in stage.steps
        ),
    )
