"""The registry's traffic light: one light per document, its stages as segments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.engine.definition import RouteDefinition, StageDef
from sogla.orgs.models import User
from sogla.workflow import definitions
from sogla.workflow.labels import Colour, colour_word, look, name_in_language
from sogla.workflow.models import ProcessStatus
from sogla.workflow.screens.durations import WorkingTime, working_time
from sogla.workflow.selectors.lights import Holder, ProcessValues, light_processes


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
    process: ProcessValues
    segments: list[Segment]
    position: int
    total: int
    current_name: str
    current_word: str
    holder: Holder | None
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
    """The traffic light of each document on a page: one statement for any page
    size (``selectors.lights``), and one more the first time a route version's
    definition is read in this process.

    Each document shows its active process, else its latest one, with the stage
    runs of its current round and its open tasks with the people.
    """
    org_id = organisation_id_of(user)
    processes = _chosen(light_processes(org_id, list(document_ids)))
    if not processes:
        return {}
    routes = definitions.definitions_by_version(
        {
            (p.route_version_id, p.version_status, p.published_at)
            for p in processes.values()
        }
    )
    now = timezone.now()
    timing = (
        working_time(user.organisation)
        if user.organisation is not None and any(p.tasks for p in processes.values())
        else None
    )
    return {
        document_id: _summary(process, routes[process.route_version_id], now, timing)
        for document_id, process in processes.items()
    }


def _chosen(processes: list[ProcessValues]) -> dict[int, ProcessValues]:
    """Each document's active process, else its latest one, by document id."""
    chosen: dict[int, ProcessValues] = {}
    for process in sorted(processes, key=lambda p: (p.started_at, p.pk), reverse=True):
        known = chosen.get(process.document_id)
        if known is None or (process.is_active and not known.is_active):
            chosen[process.document_id] = process
    return chosen


def _summary(
    process: ProcessValues,
    definition: RouteDefinition,
    now: datetime,
    timing: WorkingTime | None,
) -> StageSummary:
    runs, tasks = process.runs, process.tasks
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
    stage: StageDef, run: str | None, process: ProcessValues, late_stages: set[str]
) -> Colour:
    """The colour of a stage whose run in the current round is in state ``run``."""
    if run is None:
        return "not_started"
    if run in ("done", "skipped"):
        return "done" if run == "done" else "skipped"
    if run == "open":
        return "overdue" if stage.key in late_stages else "waiting"
    if process.status == ProcessStatus.REVISION:
        return "returned"
    if process.status == ProcessStatus.REJECTED:
        return "rejected"
    return "not_started"
