"""What the guest page shows: only the guest's own document, step and files.

Everything is read from the session's link: its task, that task's process and
document. Nothing takes an id from the request except a file version, which must
be a current version of that document (else NotFound).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.core.errors import NotFound
from sogla.documents.fields import display_value
from sogla.documents.models import Document, FieldDef, FieldKind, FileVersion
from sogla.engine.definition import Outcome, RouteDefinition, StepDef, Text
from sogla.external.models import Challenge, GuestSession
from sogla.workflow.confirmations import needs_code
from sogla.workflow.definitions import definition_for
from sogla.workflow.labels import outcome_label
from sogla.workflow.models import (
    Process,
    ProcessStatus,
    StageRun,
    Task,
    TaskState,
)

MAX_CHECKS = 5  # checks of one code
LOCK_AFTER = 3  # dead challenges before a person must act


def dead_challenges(participant_ref: str, task_id: int) -> Q:
    return Q(
        participant_ref=participant_ref,
        task_id=task_id,
        verified_at=None,
        forgiven=False,
        attempts__gte=MAX_CHECKS,
    )


def is_locked(participant_ref: str, task_id: int) -> bool:
    """Locked out of codes for the task: ``LOCK_AFTER`` challenges died."""
    return (
        Challenge.objects.filter(dead_challenges(participant_ref, task_id)).count()
        >= LOCK_AFTER
    )


def current_task_for(task: Task) -> Task | None:
    """The guest's open task of the process's current round (the same task, or
    the one a new round opened for them)."""
    if task.is_open:
        return task
    return (
        Task.objects.select_related("process__route_version__template")
        .filter(
            process_id=task.process_id,
            guest_email=task.guest_email,
            state=TaskState.OPEN,
        )
        .order_by("-round", "-pk")
        .first()
    )


class PageState:
    OPEN = "open"  # not voted
    VOTED = "voted"
    NEW_ROUND = "new_round"  # the document changed: a new round asks again
    BY_COLLEAGUE = "by_colleague"  # closed by the quorum: another guest decided
    FINISHED = "finished"  # the process ended before the guest voted
    REVOKED = "revoked"


@dataclass(frozen=True)
class StageLine:
    number: int
    name: str
    state: str  # done / current / future / skipped / rejected
    who: str


@dataclass(frozen=True)
class FileLine:
    version_id: int
    name: str
    version: int
    size: int
    sha256: str
    is_pdf: bool
    row: FileVersion | None = field(default=None, compare=False, repr=False)


@dataclass
class GuestPage:
    session: GuestSession
    task: Task
    process: Process
    document: Document
    step: StepDef | None
    state: str
    inviter: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[FileLine] = field(default_factory=list)
    stages: list[StageLine] = field(default_factory=list)
    outcomes: list[tuple[str, str]] = field(default_factory=list)
    needs_code: bool = False
    locked: bool = False
    decided_at: datetime | None = None
    outcome_text: str = ""
    comment: str = ""
    result: str = ""

    @property
    def email(self) -> str:
        return self.session.link.email

    @property
    def participant_ref(self) -> str:
        return f"guest:{self.session.link.email}"


def _text(value: Text) -> str:
    return (value.en if get_language() == "en" else value.ru) or value.ru or value.en


def _state(task: Task, process: Process, link_revoked: bool) -> str:
    if link_revoked:
        return PageState.REVOKED
    if task.state == TaskState.DONE:
        return PageState.VOTED
    if task.round < process.round:
        return PageState.NEW_ROUND if process.is_active else PageState.FINISHED
    if task.state == TaskState.CLOSED_BY_QUORUM:
        return PageState.BY_COLLEAGUE
    if task.is_open and process.is_active:
        return PageState.OPEN
    return PageState.FINISHED


def _result(process: Process, definition: RouteDefinition) -> str:
    if process.status == ProcessStatus.APPROVED:
        return _("The approval has finished: approved.")
    if process.status == ProcessStatus.REJECTED:
        return _("The approval has finished: rejected.")
    if process.status == ProcessStatus.CANCELLED:
        return _("The approval was cancelled.")
    if process.status == ProcessStatus.REVISION:
        return _("The document was returned to its author for revision.")
    total = len(definition.stages)
    index = min(process.stage_index, total - 1)
    return _("Now: stage %(n)d of %(total)d, %(name)s.") % {
        "n": index + 1,
        "total": total,
        "name": _text(definition.stages[index].name) or definition.stages[index].key,
    }


def _fields(document: Document, step: StepDef | None) -> list[tuple[str, str]]:
    keys = list(step.guest_fields) if step else []
    if not keys:
        return []
    defs = {
        d.key: d
        for d in FieldDef.objects.filter(doc_type_id=document.doc_type_id, key__in=keys)
    }
    rows = []
    for key in keys:
        definition = defs.get(key)
        if definition is None or definition.kind in (FieldKind.USER, FieldKind.FILE):
            continue  # people and files are not shown as fields to a guest
        value = document.fields.get(key)
        if definition.kind == FieldKind.COUNTERPARTY:
            text = document.counterparty.name if document.counterparty else ""
        else:
            text = display_value(definition, value)
        rows.append((str(definition.label), text))
    return rows


def document_files(document: Document) -> list[FileLine]:
    """The current version of each of the document's files."""
    latest: dict[int, FileVersion] = {}
    for version in FileVersion.objects.filter(
        file__document_id=document.pk,
        file__archived_at=None,
        organisation_id=document.organisation_id,
    ).order_by("file_id", "version"):
        latest[version.file_id] = version
    return [
        FileLine(
            v.pk,
            v.original_name,
            v.version,
            v.size,
            v.sha256,
            v.mime_type == "application/pdf",
            v,
        )
        for v in latest.values()
    ]


def _stages(
    process: Process, definition: RouteDefinition, show_names: bool, me: Task
) -> list[StageLine]:
    runs = {
        r.stage_key: r
        for r in StageRun.objects.filter(process=process, round=process.round)
    }
    tasks = list(
        Task.objects.filter(process=process, round=process.round).select_related(
            "assignee"
        )
    )
    lines = []
    for index, stage in enumerate(definition.stages):
        run = runs.get(stage.key)
        state = run.state if run is not None else "future"
        if state == "open":
            state = "current"
        elif state == "closed":
            state = "stopped"
        who_parts = []
        ran = {(t.stage_key, t.step_key) for t in tasks}
        for step in stage.steps:
            if run is not None and (stage.key, step.key) not in ran:
                continue  # a step skipped by its condition
            mine = [
                t for t in tasks if t.stage_key == stage.key and t.step_key == step.key
            ]
            if any(
                t.pk == me.pk or (t.guest_email and t.guest_email == me.guest_email)
                for t in mine
            ):
                who_parts.append(_("You"))
            elif show_names and mine:
                who_parts.append(
                    ", ".join(
                        t.assignee.short_name if t.assignee else t.guest_email
                        for t in mine
                    )
                )
            else:
                who_parts.append(_text(step.name) or step.key)
        lines.append(
            StageLine(
                index + 1, _text(stage.name) or stage.key, state, " · ".join(who_parts)
            )
        )
    return lines


def guest_page(session: GuestSession) -> GuestPage:
    link = session.link
    task = (
        Task.objects.select_related(
            "process__route_version",
            "process__document__counterparty",
            "process__initiator",
        )
        .filter(pk=link.task_id, organisation_id=link.organisation_id)
        .first()
    )
    if task is None or task.guest_email != link.email:
        raise NotFound()
    process = task.process
    document = process.document
    definition = definition_for(process.route_version)
    step = definition.step(task.stage_key, task.step_key)
    state = _state(task, process, link.revoked_at is not None)
    page = GuestPage(
        session=session,
        task=task,
        process=process,
        document=document,
        step=step,
        state=state,
        inviter=process.initiator.get_full_name() or process.initiator.get_username(),
        fields=_fields(document, step),
        files=document_files(document),
        stages=_stages(process, definition, definition.guests_see_names, task),
        needs_code=needs_code(step),
        result=_result(process, definition),
    )
    if step is not None:
        page.outcomes = [
            (str(o), str(outcome_label(str(o)))) for o in guest_outcomes(step)
        ]
    if task.state == TaskState.DONE:
        page.decided_at = task.decided_at
        page.outcome_text = str(outcome_label(task.outcome))
        page.comment = task.comment
    page.locked = page.needs_code and is_locked(page.participant_ref, task.pk)
    return page


def guest_file(session: GuestSession, version_id: int) -> FileVersion:
    """A current file version of the guest's document; NotFound for any other."""
    page_doc = session.link.task.process.document_id
    allowed = {
        f.version_id
        for f in document_files(
            Document.objects.get(pk=page_doc, organisation_id=session.organisation_id)
        )
    }
    if version_id not in allowed:
        raise NotFound()
    return FileVersion.objects.get(
        pk=version_id, organisation_id=session.organisation_id
    )


def guest_outcomes(step: StepDef) -> list[Outcome]:
    """A guest's decisions: the step's, without sending back to an earlier stage
    (the guest page does not choose stages)."""
    return [o for o in step.allowed_outcomes() if o is not Outcome.RETURN_TO_STAGE]
