"""The registry's traffic light: one light per document, its stages as segments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.engine.definition import StageDef
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.labels import Colour, colour_word, look, name_in_language
from sogla.workflow.models import (
    ACTIVE_PROCESS_STATUSES,
    Process,
    ProcessStatus,
    StageRun,
    Task,
    TaskState,
)
from sogla.workflow.screens.durations import WorkingTime, working_time


@dataclass
class Segment:
    name: str
    colour: Colour

    @property
    def css(self) -> str:
        return look(self.colour).segment

    @property
    def word(self) -> str:
        return colour_word(self.colour)


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
    *, user: User, document_ids: Sequence[int]
) -> dict[int, StageSummary]:
    """The traffic light of each document on a page: three queries for any page size.

    The processes (the active one, else the latest), their current round's stage
    runs and their open tasks with the people.
    """
    processes = _processes(organisation_id_of(user), list(document_ids))
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
    timing = (
        working_time(user.organisation)
        if open_tasks and user.organisation is not None
        else None
    )
    return {
        document_id: _summary(
            process,
            runs.get(process.pk, {}),
            open_tasks.get(process.pk, []),
            now,
            timing,
        )
        for document_id, process in processes.items()
    }


def _processes(org_id: int, document_ids: list[int]) -> dict[int, Process]:
    """Each document's active process, else its latest one, by document id."""
    if not document_ids:
        return {}
    processes: dict[int, Process] = {}
    for process in (
        Process.objects.filter(organisation_id=org_id, document_id__in=document_ids)
        .select_related("route_version")
        .order_by("document_id", "-started_at", "-id")
    ):
        known = processes.get(process.document_id)
        if known is None or (
            process.is_active and known.status not in ACTIVE_PROCESS_STATUSES
        ):
            processes[process.document_id] = process
    return processes


def _summary(
    process: Process,
    runs: dict[str, StageRun],
    tasks: list[Task],
    now: datetime,
    timing: WorkingTime | None,
) -> StageSummary:
    definition = definitions.definition_for(process.route_version)
    late_stages = {
        t.stage_key
        for t in tasks
        if t.overdue or (t.due_at is not None and t.due_at < now)
    }
    segments = [
        Segment(
            name_in_language(stage.name) or stage.key,
            _segment_colour(stage, runs.get(stage.key), process, late_stages),
        )
        for stage in definition.stages
    ]
    total = len(segments)
    if process.status == ProcessStatus.APPROVED:
        position = total
    else:
        position = min(process.stage_index + 1, total)
    current = segments[position - 1] if segments else Segment("", "not_started")
    if process.status == ProcessStatus.REVISION:
        current = Segment(current.name, "returned")
    holder = next((t for t in tasks if t.kind != "revision"), None)
    if holder is None and tasks:
        holder = tasks[0]
    waiting = ""
    if holder is not None and timing is not None:
        waiting = timing.waiting(holder.created_at, now)
    return StageSummary(
        process=process,
        segments=segments,
        position=position,
        total=total,
        current_name=current.name,
        current_word=current.word,
        holder=holder.assignee if holder else None,
        holder_email=holder.guest_email if holder else "",
        more_holders=max(0, len(tasks) - 1),
        waiting=waiting,
        overdue=bool(late_stages),
    )


def _segment_colour(
    stage: StageDef, run: StageRun | None, process: Process, late_stages: set[str]
) -> Colour:
    if run is None:
        return "not_started"
    if run.state in ("done", "skipped"):
        return "done" if run.state == "done" else "skipped"
    if run.state == "open":
        return "overdue" if stage.key in late_stages else "waiting"
    if process.status == ProcessStatus.REVISION:
        return "returned"
    if process.status == ProcessStatus.REJECTED:
        return "rejected"
    return "not_started"
