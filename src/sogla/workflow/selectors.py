"""Read-only queries for the inbox, the start form, the decision panel and the route map.

Every function is scoped to the user's organisation; ids of other organisations'
objects give NotFound. Lists use keyset pagination; the route map and the inbox run a
constant number of queries whatever the number of participants or tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound, PermissionDenied
from sogla.documents.access import visible_documents
from sogla.documents.models import Document, FieldDef
from sogla.engine.conditions import evaluate, parse_condition
from sogla.engine.definition import (
    COMMENT_REQUIRED,
    StepDef,
    Text,
)
from sogla.engine.run import PreviewStage, preview
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    ProcessStatus,
    RouteTemplate,
    RouteVersion,
    RouteVersionStatus,
    StageRun,
    StepRun,
    Task,
    TaskState,
)
from sogla.workflow.resolver import Resolver, document_facts

PAGE_SIZE = 25
_CURSOR_SALT = "sogla.workflow.inbox"
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # sorts "no due time" last

Tab = Literal["mine", "started", "watching", "done"]
TABS: tuple[Tab, ...] = ("mine", "started", "watching", "done")


def _text(text: Text) -> str:
    return text.get("en" if get_language() == "en" else "ru")


# --- inbox ------------------------------------------------------------------------------


@dataclass
class TaskPage:
    items: list[Task]
    next_cursor: str | None


@dataclass(frozen=True)
class TaskCounts:
    mine: int
    overdue: int
    started: int


def _inbox_rows(user: User) -> QuerySet[Task]:
    return Task.objects.for_org(organisation_id_of(user)).select_related(
        "process__document__doc_type",
        "process__document__status",
        "process__document__counterparty",
        "process__route_version",
        "process__initiator",
        "assignee",
        "on_behalf_of",
    )


def tab_rows(user: User, tab: str) -> QuerySet[Task]:
    """The tasks of an inbox tab, unordered (the web inbox and the API share it).

    ``mine``: my open tasks (delegated to me included); ``started``: open tasks in
    approvals I started; ``watching``: open tasks of others in running approvals I
    took part in (who holds them now); ``done``: tasks I decided.
    """
    if tab not in TABS:
        raise NotFound()
    rows = _inbox_rows(user)
    if tab == "done":
        return rows.filter(decided_by=user, state=TaskState.DONE)
    open_rows = rows.filter(state=TaskState.OPEN)
    if tab == "mine":
        return open_rows.filter(Q(assignee=user) | Q(on_behalf_of=user))
    if tab == "started":
        return open_rows.filter(process__initiator=user)
    took_part = (
        Task.objects.for_org(organisation_id_of(user))
        .filter(decided_by=user)
        .values("process_id")
    )
    return open_rows.filter(process_id__in=took_part).exclude(
        Q(assignee=user) | Q(on_behalf_of=user)
    )


def task_list_for_user(
    *, user: User, tab: str = "mine", cursor: str = "", limit: int = PAGE_SIZE
) -> TaskPage:
    """One page of a user's inbox tab (see ``tab_rows``), in one query.

    Open tasks come overdue first, then by due time (no due time last); done tasks
    newest first.
    """
    rows = tab_rows(user, tab)
    if tab == "done":
        if cursor:
            at, pk = _decode(cursor)
            rows = rows.filter(Q(decided_at__lt=at) | Q(decided_at=at, pk__lt=pk))
        items = list(rows.order_by("-decided_at", "-id")[: limit + 1])
        more = len(items) > limit
        items = items[:limit]
        last = items[-1] if items and more else None
        next_cursor = (
            _encode(last.decided_at or FAR_FUTURE, last.pk)
            if last is not None
            else None
        )
        return TaskPage(items, next_cursor)
    rows = rows.annotate(due_sort=Coalesce("due_at", FAR_FUTURE))
    if cursor:
        due, pk = _decode(cursor)
        rows = rows.filter(Q(due_sort__gt=due) | Q(due_sort=due, pk__gt=pk))
    items = list(rows.order_by("due_sort", "id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items and more else None
    return TaskPage(
        items, _encode(last.due_at or FAR_FUTURE, last.pk) if last else None
    )


def task_counts_for_user(*, user: User) -> TaskCounts:
    """The navigation's counts in one query (conditional aggregation)."""
    now = timezone.now()
    open_ = Q(state=TaskState.OPEN)
    mine = open_ & (Q(assignee=user) | Q(on_behalf_of=user))
    started = open_ & Q(process__initiator=user)
    counts = (
        Task.objects.for_org(organisation_id_of(user))
        .filter(mine | started)
        .aggregate(
            mine=Count("pk", filter=mine),
            overdue=Count("pk", filter=mine & (Q(due_at__lt=now) | Q(overdue=True))),
            started=Count("pk", filter=started),
        )
    )
    return TaskCounts(counts["mine"], counts["overdue"], counts["started"])


def _encode(at: datetime, pk: int) -> str:
    return signing.dumps([at.isoformat(), pk], salt=_CURSOR_SALT, compress=True)


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, pk = signing.loads(cursor, salt=_CURSOR_SALT)
        return datetime.fromisoformat(at), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound("bad cursor") from None


# --- processes --------------------------------------------------------------------------


def process_for_document(document: Document) -> Process | None:
    """The document's active process, else its latest one, else None."""
    processes = Process.objects.filter(
        document_id=document.pk, organisation_id=document.organisation_id
    ).select_related("route_version__template", "initiator")
    active = processes.filter(status__in=ACTIVE_PROCESS_STATUSES).first()
    if active is not None:
        return active
    return processes.order_by("-started_at", "-id").first()


def routes_for_document(*, user: User, document: Document) -> list[RouteTemplate]:
    """Active routes of the document's type that fit its values; the first is suggested.

    Only routes with a published version are offered.
    """
    org_id = organisation_id_of(user)
    if document.organisation_id != org_id:
        raise NotFound()
    templates = list(
        RouteTemplate.objects.for_org(org_id)
        .filter(
            doc_type_id=document.doc_type_id,
            is_active=True,
            versions__status=RouteVersionStatus.PUBLISHED,
        )
        .distinct()
        .order_by("order", "key")
    )
    facts = document_facts(document)
    fitting = []
    for template in templates:
        if template.suggest_when is None:
            fitting.append(template)
            continue
        try:
            condition = parse_condition(template.suggest_when)
        except ValueError:
            continue
        if evaluate(condition, facts):
            fitting.append(template)
    return fitting


@dataclass
class ProcessPreview:
    template: RouteTemplate
    version: RouteVersion
    stages: list[PreviewStage]
    users: dict[int, User]  # the people named in the preview, by id


def process_preview(
    *, user: User, document: Document, template: RouteTemplate
) -> ProcessPreview:
    """Who would approve in which order for the document's current values."""
    org_id = organisation_id_of(user)
    if document.organisation_id != org_id or template.organisation_id != org_id:
        raise NotFound()
    version = (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NotFound()
    definition = definitions.definition_for(version)
    stages = preview(definition, document_facts(document), Resolver(document))
    ids: set[int] = set()
    for stage in stages:
        for step in stage.steps:
            for person in step.participants:
                for who in (person, person.on_behalf_of):
                    if who is not None and who.kind == "user":
                        ids.add(int(who.id))
    users = {u.pk: u for u in User.objects.filter(organisation_id=org_id, pk__in=ids)}
    return ProcessPreview(template, version, stages, users)


# --- the decision panel -----------------------------------------------------------------


@dataclass
class DecisionPanel:
    task: Task
    document: Document
    step: StepDef | None
    outcomes: list[str]
    comment_required: list[str]  # outcomes that need a comment
    fields: list[FieldDef]  # what a request_info / task step fills in
    required_fields: list[str]


def task_get_for_decision(*, user: User, task_id: int | str) -> DecisionPanel:
    """The user's task with what the panel needs; NotFound for anyone else's task."""
    org_id = organisation_id_of(user)
    try:
        task = (
            Task.objects.for_org(org_id)
            .select_related(
                "process__route_version",
                "process__document__doc_type",
                "process__document__status",
                "process__initiator",
                "assignee",
                "on_behalf_of",
                "decided_by",
            )
            .get(pk=int(task_id))
        )
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if user.pk not in (task.assignee_id, task.on_behalf_of_id):
        raise NotFound()
    definition = definitions.definition_for(task.process.route_version)
    step = definition.step(task.stage_key, task.step_key)
    outcomes = [str(o) for o in step.allowed_outcomes()] if step else []
    fields: list[FieldDef] = []
    if step is not None and step.fields:
        by_key = {
            f.key: f
            for f in FieldDef.objects.filter(
                doc_type_id=task.process.document.doc_type_id, key__in=step.fields
            )
        }
        fields = [by_key[k] for k in step.fields if k in by_key]
        for field_def in fields:  # the step decides what is required, not the type
            field_def.required = field_def.key in step.required_fields
            field_def.required_when = None
    return DecisionPanel(
        task=task,
        document=task.process.document,
        step=step,
        outcomes=outcomes if task.is_open else [],
        comment_required=[o for o in outcomes if o in COMMENT_REQUIRED],
        fields=fields,
        required_fields=list(step.required_fields) if step else [],
    )


# --- the route map (traffic light) ------------------------------------------------------

Colour = Literal[
    "not_started",
    "waiting",
    "overdue",
    "returned",
    "rejected",
    "done",
    "skipped",
    "carried_over",
]


@dataclass
class MapTask:
    task: Task
    colour: Colour
    person: User | None  # None for a guest
    guest_email: str
    on_behalf_of: User | None
    mine: bool
    waiting_since: datetime | None  # when still open
    carried_over: bool


@dataclass
class MapStep:
    key: str
    name: str
    kind: str
    colour: Colour
    reason: str  # why skipped, or why nobody could be assigned
    unresolved: bool
    quorum: str
    assignee: dict[str, Any]  # the definition's assignee, for not-yet-started steps
    tasks: list[MapTask] = field(default_factory=list)


@dataclass
class MapStage:
    key: str
    name: str
    index: int
    colour: Colour
    reason: str
    current: bool
    steps: list[MapStep] = field(default_factory=list)


@dataclass
class RouteMap:
    process: Process
    round: int
    stages: list[MapStage]
    waiting: list[MapTask]  # open tasks: who holds the document, since when
    my_tasks: list[MapTask]
    revision_task: MapTask | None


def _task_colour(task: Task, now: datetime) -> Colour:
    if task.state == TaskState.OPEN:
        late = task.overdue or (task.due_at is not None and task.due_at < now)
        return "overdue" if late else "waiting"
    if task.state == TaskState.CARRIED_OVER:
        return "carried_over"
    if task.state == TaskState.DONE:
        if task.outcome == "return":
            return "returned"
        if task.outcome == "reject":
            return "rejected"
        return "done"
    return "skipped"


def _step_colour(run: StepRun | None, tasks: list[MapTask], process: Process) -> Colour:
    if run is None:
        return "not_started"
    if run.state == "skipped":
        return "skipped"
    if run.state in ("open", "failed"):
        if run.state == "failed" or any(t.colour == "overdue" for t in tasks):
            return "overdue"
        return "waiting"
    colours = {t.colour for t in tasks}
    if run.state == "done":
        if (
            colours
            and colours <= {"carried_over", "skipped"}
            and ("carried_over" in colours)
        ):
            return "carried_over"
        return "done"
    # closed: the process was returned, rejected or cancelled while it was open
    if "returned" in colours:
        return "returned"
    if "rejected" in colours:
        return "rejected"
    return "skipped"


def _stage_colour(run: StageRun | None, steps: list[MapStep]) -> Colour:
    if run is None:
        return "not_started"
    if run.state == "skipped":
        return "skipped"
    colours = {s.colour for s in steps}
    if run.state == "open":
        return "overdue" if "overdue" in colours else "waiting"
    if run.state == "done":
        active = colours - {"skipped"}
        return "carried_over" if active == {"carried_over"} else "done"
    for colour in ("returned", "rejected"):
        if colour in colours:
            return colour
    return "skipped"


def route_map(*, user: User, document: Document) -> RouteMap | None:
    """The traffic light of the document's process (None before the first start).

    Four queries whatever the number of stages, steps or participants: the process,
    the stage runs, the step runs and the tasks of the current round (people joined).
    """
    org_id = organisation_id_of(user)
    if document.organisation_id != org_id:
        raise NotFound()
    process = process_for_document(document)
    if process is None:
        return None
    definition = definitions.definition_for(process.route_version)
    round_ = process.round
    stage_runs = {
        r.stage_key: r for r in StageRun.objects.filter(process=process, round=round_)
    }
    step_runs = {
        (r.stage_key, r.step_key): r
        for r in StepRun.objects.filter(process=process, round=round_)
    }
    task_rows = list(
        Task.objects.filter(process=process, round=round_)
        .select_related("assignee", "on_behalf_of", "decided_by")
        .order_by("id")
    )
    now = timezone.now()
    by_step: dict[tuple[str, str], list[MapTask]] = {}
    revision: MapTask | None = None
    waiting: list[MapTask] = []
    mine: list[MapTask] = []
    for row in task_rows:
        item = MapTask(
            task=row,
            colour=_task_colour(row, now),
            person=row.assignee,
            guest_email=row.guest_email,
            on_behalf_of=row.on_behalf_of,
            mine=user.pk in (row.assignee_id, row.on_behalf_of_id),
            waiting_since=row.created_at if row.state == TaskState.OPEN else None,
            carried_over=row.state == TaskState.CARRIED_OVER,
        )
        if row.step_key == "revision" and row.kind == "revision":
            revision = item
        else:
            by_step.setdefault((row.stage_key, row.step_key), []).append(item)
        if row.state == TaskState.OPEN:
            waiting.append(item)
            if item.mine:
                mine.append(item)
    stages: list[MapStage] = []
    for index, stage_def in enumerate(definition.stages):
        steps = []
        for step_def in stage_def.steps:
            run = step_runs.get((stage_def.key, step_def.key))
            tasks = by_step.get((stage_def.key, step_def.key), [])
            steps.append(
                MapStep(
                    key=step_def.key,
                    name=_text(step_def.name) or step_def.key,
                    kind=str(step_def.kind),
                    colour=_step_colour(run, tasks, process),
                    reason=run.reason if run is not None else "",
                    unresolved=run is not None and run.state == "failed",
                    quorum=run.quorum if run else str(step_def.effective_quorum()),
                    assignee=step_def.assignee.model_dump(exclude_defaults=True)
                    if step_def.assignee
                    else {},
                    tasks=tasks,
                )
            )
        stage_run = stage_runs.get(stage_def.key)
        stages.append(
            MapStage(
                key=stage_def.key,
                name=_text(stage_def.name) or stage_def.key,
                index=index,
                colour=_stage_colour(stage_run, steps),
                reason=stage_run.reason if stage_run is not None else "",
                current=process.is_active and index == process.stage_index,
                steps=steps,
            )
        )
    return RouteMap(process, round_, stages, waiting, mine, revision)


def can_manage_process(user: User, process: Process) -> bool:
    """Route owner or administrator: may reassign tasks and resolve failed steps."""
    template = process.route_version.template
    return is_org_admin(user) or (
        template.owner_id is not None and template.owner_id == user.pk
    )


# --- for the API: processes, people, route templates ---------------------------------


def process_get(*, user: User, process_id: int) -> Process:
    """A process of a document the user may see; NotFound otherwise."""
    org_id = organisation_id_of(user)
    process = (
        Process.objects.for_org(org_id)
        .select_related("route_version__template", "initiator")
        .filter(pk=process_id)
        .first()
    )
    if process is None or not (
        visible_documents(user).filter(pk=process.document_id).exists()
    ):
        raise NotFound()
    return process


def colleagues_by_id(*, user: User, ids: list[int]) -> dict[int, User]:
    """Active people of the user's organisation among ``ids``, by id."""
    org_id = organisation_id_of(user)
    return {
        u.pk: u
        for u in User.objects.filter(
            organisation_id=org_id, is_active=True, pk__in=list(set(ids))
        )
    }


@dataclass
class RouteTemplateDetail:
    template: RouteTemplate
    draft: RouteVersion | None
    published: RouteVersion | None  # the latest published version


def _admin_org(user: User) -> int:
    org_id = organisation_id_of(user)
    if not is_org_admin(user):
        raise PermissionDenied(_("Only an administrator may change routes."))
    return org_id


def route_templates_for_admin(*, user: User) -> list[RouteTemplateDetail]:
    """Every route template of the organisation with its draft and latest version.

    Two queries: the templates, and their versions' numbers and states (definitions
    are not loaded).
    """
    org_id = _admin_org(user)
    templates = list(
        RouteTemplate.objects.for_org(org_id)
        .select_related("doc_type", "owner")
        .order_by("order", "key")
    )
    versions = (
        RouteVersion.objects.for_org(org_id)
        .filter(template__in=templates)
        .defer("definition")
        .order_by("template_id", "number")
    )
    drafts: dict[int, RouteVersion] = {}
    published: dict[int, RouteVersion] = {}
    for version in versions:
        if version.status == RouteVersionStatus.DRAFT:
            drafts[version.template_id] = version
        else:
            published[version.template_id] = version
    return [
        RouteTemplateDetail(t, drafts.get(t.pk), published.get(t.pk)) for t in templates
    ]


def route_template_for_admin(*, user: User, key: str) -> RouteTemplateDetail:
    """One route template by key with its draft and latest published definitions.

    NotFound for a key the organisation does not have (whoever asks), then
    PermissionDenied for anyone but an administrator.
    """
    template = (
        RouteTemplate.objects.for_org(organisation_id_of(user))
        .select_related("doc_type", "owner")
        .filter(key=key)
        .first()
    )
    if template is None:
        raise NotFound()
    _admin_org(user)
    draft = RouteVersion.objects.filter(
        template=template, status=RouteVersionStatus.DRAFT
    ).first()
    published = (
        RouteVersion.objects.filter(
            template=template, status=RouteVersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
    return RouteTemplateDetail(template, draft, published)


def task_for_manager(*, user: User, task_id: int) -> Task:
    """Any task of a process the user manages (route owner or administrator)."""
    task = _inbox_rows(user).select_related("process__route_version__template")
    found = task.filter(pk=task_id).first()
    if found is None or not can_manage_process(user, found.process):
        raise NotFound()
    return found


__all__ = [
    "TABS",
    "DecisionPanel",
    "MapStage",
    "MapStep",
    "MapTask",
    "ProcessPreview",
    "ProcessStatus",
    "RouteMap",
    "RouteTemplateDetail",
    "TaskCounts",
    "TaskPage",
    "can_manage_process",
    "colleagues_by_id",
    "process_for_document",
    "process_get",
    "process_preview",
    "route_map",
    "route_template_for_admin",
    "route_templates_for_admin",
    "routes_for_document",
    "tab_rows",
    "task_counts_for_user",
    "task_for_manager",
    "task_get_for_decision",
    "task_list_for_user",
]
