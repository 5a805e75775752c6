"""The route map of a document's approval: every stage, step and task with its colour,
who holds the document up and since when; and the approval of a document.

Every function is scoped to the user's organisation; ids of other organisations'
objects give NotFound. The route map runs a constant number of queries whatever the
number of participants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from sogla.core.access import organisation_id_of
from sogla.core.errors import NotFound
from sogla.core.prepared import Prepared
from sogla.documents.access import visible_documents
from sogla.documents.models import Document
from sogla.engine.definition import POSITIVE, Assignee, StepDef
from sogla.engine.run import PreviewStage, preview
from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.labels import Colour, name_in_language
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    ProcessStatus,
    StageRun,
    StepRun,
    Task,
    TaskState,
)
from sogla.workflow.resolver import document_facts
from sogla.workflow.selectors.card_rows import MapRows
from sogla.workflow.selectors.versions import GivenOn, approvals_given_on


def _process_of(document_id: int, organisation_id: int) -> QuerySet[Process]:
    # The active process first (at most one), else the latest: one row.
    active = Case(
        When(status__in=ACTIVE_PROCESS_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        Process.objects.filter(document_id=document_id, organisation_id=organisation_id)
        .select_related("route_version__template", "initiator")
        .order_by(active, "-started_at", "-id")[:1]
    )


# The card reads these on every request: compiled once (``core.prepared``, ADR 0002).
_process_prepared = Prepared(_process_of, arity=2)


def _plain(value: int) -> RawSQL:
    # A round as a plain parameter: the placeholder ``Prepared`` compiles with is
    # negative, which a positive integer field's lookup would refuse.
    return RawSQL("%s", [value])


def process_for_document(document: Document) -> Process | None:
    """The document's active process, else its latest one, else None (one query)."""
    found = _process_prepared.all(document.pk, document.organisation_id)
    return found[0] if found else None


def _decided_here(org_id: int, document_id: int, user_id: int) -> QuerySet[Any]:
    return (
        Task.objects.filter(
            organisation_id=org_id,
            process__document_id=document_id,
            decided_at__isnull=False,
        )
        .filter(Q(decided_by_id=user_id) | Q(outcome="return"))
        .order_by("-decided_at")
        .values_list("decided_by_id", "outcome", "round", "decided_at")[:50]
    )


_decided_prepared: Prepared[Any] = Prepared(_decided_here, arity=3)


def decisions_to_compare(
    document: Document, user: User
) -> list[tuple[int | None, str, int, datetime | None]]:
    """The user's decisions on the document and its returns for revision, newest
    first (at most 50): (decided by, outcome, round, when); the card's "what changed
    since" links. One query, compiled once."""
    return _decided_prepared.all(document.organisation_id, document.pk, user.pk)


def current_step_tag(document: Document) -> dict[str, Any]:
    """The stage the document's active approval is at, in both languages, for the
    discussion's messages ({} without an active approval; registered in
    ``WorkflowConfig.ready``). Two queries: the process, its route version."""
    process = (
        Process.objects.filter(
            document_id=document.pk,
            organisation_id=document.organisation_id,
            status__in=ACTIVE_PROCESS_STATUSES,
        )
        .select_related("route_version")
        .first()
    )
    if process is None:
        return {}
    if process.status == "revision":
        return {
            "key": "revision",
            "ru": "На доработке",
            "en": "Returned for revision",
            "round": process.round,
        }
    stages = definitions.definition_for(process.route_version).stages
    if not 0 <= process.stage_index < len(stages):
        return {}
    stage = stages[process.stage_index]
    return {
        "key": stage.key,
        "ru": stage.name.ru or stage.name.en or stage.key,
        "en": stage.name.en or stage.name.ru or stage.key,
        "round": process.round,
    }


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
    # A carried-over approval given on files changed since: what differs, and
    # whether this reader may withdraw it (theirs, while the round runs).
    given_on: GivenOn | None = None
    can_withdraw: bool = False
    # ``duplicates: merge``: the stage whose approval of this round was carried here
    merged_from: str = ""
    # ``duplicates: keep``: the person already approved at this stage, asked again
    asked_again_after: str = ""


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
    # ``duplicates: merge``: another step's task that counts for this one too
    shared: list[MapTask] = field(default_factory=list)
    # Not started yet: the engine's preview says it will be skipped for the values
    # the document has now (``reason`` says why); ``tentative``: its condition reads
    # answers given later in the route.
    will_skip: bool = False
    tentative: bool = False
    task_ids: list[str] = field(default_factory=list)  # the run's (engine ids)
    # Not started yet: people added to it while the round runs (asked when it opens)
    added: list[User] = field(default_factory=list)


@dataclass
class MapStage:
    key: str
    name: str
    index: int
    colour: Colour
    reason: str
    current: bool
    steps: list[MapStep] = field(default_factory=list)
    will_skip: bool = False  # as MapStep's, for a stage that has not opened
    tentative: bool = False


@dataclass
class MapRound:
    """An earlier round: its tasks (decided, or closed undecided) in order."""

    round: int
    tasks: list[MapTask]


@dataclass
class RouteMap:
    process: Process
    round: int
    stages: list[MapStage]
    waiting: list[MapTask]  # open tasks: who holds the document, since when
    my_tasks: list[MapTask]
    revision_task: MapTask | None
    earlier_rounds: list[MapRound] = field(default_factory=list)  # oldest first

    def step_names(self) -> dict[tuple[str, str], str]:
        """ "Stage · Step", or the stage's name alone when the step's says no more."""
        return {
            (stage.key, step.key): stage.name
            if step.name in (step.key, stage.name)
            else f"{stage.name} · {step.name}"
            for stage in self.stages
            for step in stage.steps
        }


# A carried-over approval its person withdrew (engine ``Withdraw``).
WITHDRAWN = "withdrawn"


def _task_colour(task: Task, now: datetime) -> Colour:
    if task.state == TaskState.OPEN:
        late = task.overdue or (task.due_at is not None and task.due_at < now)
        return "overdue" if late else "waiting"
    if task.state == TaskState.CARRIED_OVER:
        return "carried_over"
    if task.state == TaskState.DONE:
        if task.outcome in ("return", "return_to_stage"):
            return "returned"
        if task.outcome == "reject":
            return "rejected"
        return "done"
    return "skipped"


def _step_colour(run: StepRun | None, tasks: list[MapTask]) -> Colour:
    if run is None:
        return "not_started"
    if run.state == "skipped":
        return "skipped"
    if run.state in ("open", "failed"):
        if run.state == "failed" or any(t.colour == "overdue" for t in tasks):
            return "overdue"
        return "waiting"
    colours = {t.colour for t in tasks}
    if any(t.task.closed_reason == WITHDRAWN for t in tasks):
        return "returned"  # a carried approval withdrawn after its step was done
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


def route_map(
    *,
    user: User,
    document: Document,
    process: Process | None = None,
    rows: MapRows | None = None,
) -> RouteMap | None:
    """The traffic light of the document's process (None before the first start).

    Four queries whatever the number of stages, steps, rounds or participants: the
    process (none when the caller passes ``process``, which it read with
    ``process_for_document``), the stage runs, the step runs and the tasks of this
    round and the earlier ones (people joined); compiled once (``core.prepared``).
    None when the caller passes the ``rows`` ``card_process`` read with the process.
    """
    org_id = organisation_id_of(user)
    if document.organisation_id != org_id:
        raise NotFound()
    if process is None:
        process = process_for_document(document)
    elif process.document_id != document.pk:
        raise NotFound()
    if process is None:
        return None
    every = (
        rows.tasks
        if rows is not None
        else _tasks_prepared.all(process.pk, process.round)
    )
    current = [row for row in every if row.round == process.round]
    process.document = document
    for row in current:
        row.process = process  # the decision panels read them from here
    now = timezone.now()
    items = [_map_task(row, user, now) for row in current]
    revision = next((i for i in reversed(items) if _is_revision(i.task)), None)
    by_step: dict[tuple[str, str], list[MapTask]] = {}
    for item in items:
        if not _is_revision(item.task):
            key = (item.task.stage_key, item.task.step_key)
            by_step.setdefault(key, []).append(item)
    waiting = [i for i in items if i.task.state == TaskState.OPEN]
    mine = [i for i in waiting if i.mine]
    _note_carried(process, items)
    stages = _map_stages(process, by_step, rows)
    _duplicates_said(process, stages, items)
    _added_later(process, stages)
    if process.is_active:
        foresee_skips(process, document, stages)
    earlier = _earlier_rounds(process, every, user, now)
    return RouteMap(process, process.round, stages, waiting, mine, revision, earlier)


def _note_carried(process: Process, items: list[MapTask]) -> None:
    """Carried-over approvals: the versions they were given on, if changed since
    (one query, none without carried approvals), and who may withdraw them."""
    carried = [i for i in items if i.carried_over and i.task.decided_at is not None]
    given = approvals_given_on(
        process.document_id,
        process.organisation_id,
        (i.task.decided_at for i in carried if i.task.decided_at is not None),
    )
    running = process.status == ProcessStatus.RUNNING
    for item in carried:
        found = given.get(item.task.decided_at) if item.task.decided_at else None
        item.given_on = found if found is not None and found.changes else None
        item.can_withdraw = item.mine and running


def _added_later(process: Process, stages: list[MapStage]) -> None:
    """People added to steps that have not opened yet (``Process.overrides``); a
    query only when there are some."""
    added: dict[str, list[int]] = {}
    for key, override in (process.overrides or {}).items():
        ids = [
            int(p["id"])
            for p in override.get("add", [])
            if p.get("kind") == "user" and str(p.get("id", "")).isdigit()
        ]
        if ids:
            added[key] = ids
    if not added:
        return
    wanted = {i for ids in added.values() for i in ids}
    people = User.objects.filter(
        organisation_id=process.organisation_id, pk__in=wanted
    ).in_bulk()
    for stage in stages:
        for step in stage.steps:
            if step.colour == "not_started":
                ids = added.get(f"{stage.key}.{step.key}", [])
                step.added = [people[i] for i in ids if i in people]


def _duplicates_said(
    process: Process, stages: list[MapStage], items: list[MapTask]
) -> None:
    """What the card says about a person named twice in the round: an approval
    carried from an earlier stage (merge), a task shared by parallel steps (merge),
    or a person asked again (keep)."""
    names = {stage.key: stage.name for stage in stages}
    keep = definitions.definition_for(process.route_version).duplicates == "keep"
    by_engine_id = {item.task.engine_id: item for item in items}
    approved_at: dict[int, str] = {}  # user -> the first stage they approved at
    for stage in stages:
        for step in stage.steps:
            for item in step.tasks:
                task = item.task
                source = task.carried_from or ""
                if item.carried_over and source.startswith(f"r{process.round}:"):
                    item.merged_from = names.get(source.split(":")[1], "")
                    item.can_withdraw = False  # asked once this round, not carried over
                seat = task.on_behalf_of_id or task.assignee_id
                earlier = approved_at.get(seat or 0, "")
                if keep and earlier and earlier != stage.name and not item.carried_over:
                    item.asked_again_after = earlier
                if seat and task.state == TaskState.DONE and task.outcome in POSITIVE:
                    approved_at.setdefault(seat, stage.name)
            own = {item.task.engine_id for item in step.tasks}
            step.shared = [
                by_engine_id[t]
                for t in step.task_ids
                if t not in own and t in by_engine_id
            ]


def _tasks(process_id: int, round_: int) -> QuerySet[Task]:
    return (
        Task.objects.filter(process_id=process_id, round__lte=_plain(round_))
        .select_related("assignee", "on_behalf_of", "decided_by")
        .order_by("round", "id")
    )


_tasks_prepared = Prepared(_tasks, arity=2)


def _earlier_rounds(
    process: Process, every: list[Task], user: User, now: datetime
) -> list[MapRound]:
    """The tasks of the rounds before the current one (not the initiator's revision
    tasks), by round, oldest first; from ``every`` task of the process."""
    if process.round <= 1:
        return []
    rounds: dict[int, list[MapTask]] = {}
    for row in every:
        if row.round < process.round and row.kind != "revision":
            rounds.setdefault(row.round, []).append(_map_task(row, user, now))
    return [MapRound(n, rounds.get(n, [])) for n in range(1, process.round)]


def _is_revision(task: Task) -> bool:
    return task.step_key == "revision" and task.kind == "revision"


def _map_task(row: Task, user: User, now: datetime) -> MapTask:
    return MapTask(
        task=row,
        colour=_task_colour(row, now),
        person=row.assignee,
        guest_email=row.guest_email,
        on_behalf_of=row.on_behalf_of,
        mine=user.pk in (row.assignee_id, row.on_behalf_of_id),
        waiting_since=row.created_at if row.state == TaskState.OPEN else None,
        carried_over=row.state == TaskState.CARRIED_OVER,
    )


_stage_runs_prepared = Prepared(
    lambda process_id, round_: StageRun.objects.filter(
        process_id=process_id, round=_plain(round_)
    ),
    arity=2,
)
_step_runs_prepared = Prepared(
    lambda process_id, round_: StepRun.objects.filter(
        process_id=process_id, round=_plain(round_)
    ),
    arity=2,
)


def _map_stages(
    process: Process,
    by_step: dict[tuple[str, str], list[MapTask]],
    rows: MapRows | None,
) -> list[MapStage]:
    """The route's stages and steps with the current round's runs and tasks."""
    definition = definitions.definition_for(process.route_version)
    if rows is None:
        rows = MapRows(
            [],
            _stage_runs_prepared.all(process.pk, process.round),
            _step_runs_prepared.all(process.pk, process.round),
        )
    stage_runs = {r.stage_key: r for r in rows.stage_runs}
    step_runs = {(r.stage_key, r.step_key): r for r in rows.step_runs}
    stages: list[MapStage] = []
    for index, stage_def in enumerate(definition.stages):
        steps = [
            _map_step(
                step_def,
                step_runs.get((stage_def.key, step_def.key)),
                by_step.get((stage_def.key, step_def.key), []),
            )
            for step_def in stage_def.steps
        ]
        stage_run = stage_runs.get(stage_def.key)
        stages.append(
            MapStage(
                key=stage_def.key,
                name=name_in_language(stage_def.name) or stage_def.key,
                index=index,
                colour=_stage_colour(stage_run, steps),
                reason=stage_run.reason if stage_run is not None else "",
                current=process.is_active and index == process.stage_index,
                steps=steps,
            )
        )
    return stages


def _map_step(step_def: StepDef, run: StepRun | None, tasks: list[MapTask]) -> MapStep:
    return MapStep(
        key=step_def.key,
        name=name_in_language(step_def.name) or step_def.key,
        kind=str(step_def.kind),
        colour=_step_colour(run, tasks),
        reason=run.reason if run is not None else "",
        unresolved=run is not None and run.state == "failed",
        quorum=run.quorum if run else str(step_def.effective_quorum()),
        assignee=step_def.assignee.model_dump(exclude_defaults=True)
        if step_def.assignee
        else {},
        tasks=tasks,
        task_ids=list(run.task_ids) if run is not None else [],
    )


def foresee_skips(process: Process, document: Document, stages: list[MapStage]) -> None:
    """Mark the stages and steps that have not opened yet and that the engine's
    preview (the start form's) says will be skipped for the document's values now.
    Nobody is resolved: only the conditions are read."""
    waiting = [stage for stage in stages if stage.colour == "not_started"]
    if not waiting:
        return
    definition = definitions.definition_for(process.route_version)
    foreseen: dict[str, PreviewStage] = {
        stage.key: stage
        for stage in preview(definition, document_facts(document), _nobody)
    }
    for stage in waiting:
        found = foreseen.get(stage.key)
        if found is None:
            continue
        stage.tentative = found.tentative
        if not found.runs:
            stage.will_skip, stage.reason = True, found.reason
        by_key = {step.key: step for step in found.steps}
        for step in stage.steps:
            seen = by_key.get(step.key)
            if step.colour == "not_started" and seen is not None and not seen.runs:
                step.will_skip, step.reason = True, seen.reason
                step.tentative = seen.tentative
            elif step.colour == "not_started" and stage.will_skip and not by_key:
                step.will_skip = True  # the stage's own condition skips it whole


def _nobody(_assignee: Assignee) -> list[Participant]:
    return []
