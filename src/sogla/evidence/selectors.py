"""Reading what the evidence shows: a process's decisions with the files each was
made on, the process a user may see for a document, a verification code's record.

Every query is scoped to the process's or the user's organisation.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.audit import audit_verify_document
from sogla.core.errors import NotFound
from sogla.core.masking import mask_email
from sogla.documents.access import access_document
from sogla.documents.models import Document, DocumentFile, FileVersion
from sogla.engine.definition import RouteDefinition
from sogla.evidence.models import ProcessEvidence
from sogla.orgs.models import Organisation, User
from sogla.workflow.definitions import definition_for
from sogla.workflow.labels import name_in_language, outcome_label
from sogla.workflow.models import (
    Channel,
    ConfirmationMethod,
    Process,
    ProcessStatus,
    Task,
    TaskState,
)
from sogla.workflow.selectors import process_for_document


@dataclass(frozen=True)
class FileRow:
    """One file version a decision was made on."""

    name: str
    version: int
    sha256: str
    size: int


@dataclass
class DecisionRow:
    task: Task
    round: int
    role: str
    person: str
    email: str
    on_behalf_of: str
    outcome: str
    comment: str
    decided_at: datetime  # in the organisation's zone
    channel: str
    confirmation: str
    files: list[FileRow] = field(default_factory=list)
    files_match: bool = True  # the versions found hash to what the task recorded
    # A carried-over approval: the round it was given in (its files are those of
    # that moment, listed in ``files``).
    carried_from_round: int | None = None


@dataclass
class SheetData:
    organisation: Organisation
    document: Document
    process: Process
    route_name: str
    status: str
    zone: zoneinfo.ZoneInfo
    decisions: list[DecisionRow]
    files: list[FileRow]  # every version any decision was made on, once
    generated_at: datetime

    @property
    def rounds(self) -> list[int]:
        return sorted({row.round for row in self.decisions})


def organisation_zone(organisation: Organisation) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organisation.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def decided_tasks(process: Process) -> list[Task]:
    """The process's decisions, every round, in the order they were made, with
    the approvals carried over to a later round (at the time they were given)."""
    return list(
        Task.objects.for_org(process.organisation_id)
        .filter(
            process=process,
            state__in=(TaskState.DONE, TaskState.CARRIED_OVER),
            decided_at__isnull=False,
        )
        .select_related("decided_by", "assignee", "on_behalf_of")
        .order_by("decided_at", "id")
    )


def generated_file_ids(document: Document) -> set[int]:
    """The document's files Sogla made (sheets, stamped copies)."""
    pairs = (
        ProcessEvidence.objects.for_org(document.organisation_id)
        .filter(document_id=document.pk)
        .values_list("sheet_version__file_id", "stamped_version__file_id")
    )
    return {pk for pair in pairs for pk in pair if pk}


def files_at(
    document: Document, moment: datetime, *, without: set[int] | None = None
) -> list[FileRow]:
    """The document's current file versions at ``moment`` (the latest version of
    each file not archived by then), in file order; ``without`` file ids."""
    files = DocumentFile.objects.for_org(document.organisation_id).filter(
        Q(archived_at=None) | Q(archived_at__gt=moment), document=document
    )
    if without:
        files = files.exclude(pk__in=without)
    versions = (
        FileVersion.objects.for_org(document.organisation_id)
        .filter(file__in=files, created_at__lte=moment)
        .order_by("file_id", "-version")
    )
    latest: dict[int, FileRow] = {}
    for row in versions:
        latest.setdefault(
            row.file_id, FileRow(row.original_name, row.version, row.sha256, row.size)
        )
    return [latest[key] for key in sorted(latest)]


def combined_sha256(files: list[FileRow]) -> str:
    """The hash a decision records over its files (documents' files_sha256)."""
    joined = "\n".join(sorted(f.sha256 for f in files))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def decision_files(document: Document, task: Task) -> list[FileRow]:
    """The file versions ``task``'s decision was made on: those current when it
    was decided, checked against the hash the decision recorded. When they do not
    match (rows written with another clock, e.g. the demo's past, or files Sogla
    generated since) the first set that does match is taken: without generated
    files, then the current files."""
    moment = task.decided_at or timezone.now()
    files = files_at(document, moment)
    if not task.files_sha256 or combined_sha256(files) == task.files_sha256:
        return files
    generated = generated_file_ids(document)
    now = timezone.now()
    for at, without in ((moment, generated), (now, set()), (now, generated)):
        found = files_at(document, at, without=without)
        if combined_sha256(found) == task.files_sha256:
            return found
    return files


def channel_label(task: Task) -> str:
    labels: dict[str, str] = {
        Channel.WEB: _("web"),
        Channel.API: _("API"),
        Channel.EMAIL: _("e-mail link"),
        Channel.GUEST: _("guest link"),
    }
    return str(labels.get(task.channel, task.channel or _("web")))


def confirmation_label(task: Task) -> str:
    """How the person proved who they were: a one-time code with where it went
    (masked) and the e-signature agreement accepted, else the session the channel
    implies (older rows record no method)."""
    if task.confirmation in CODES:
        said = f"{task.get_confirmation_display()} {task.confirmation_to}".strip()
        if task.agreement_version:
            said += " · " + _("agreement v%(version)s") % {
                "version": task.agreement_version
            }
        return said
    if task.confirmation == ConfirmationMethod.TOKEN or task.channel == Channel.API:
        return _("API token or session")
    if task.confirmation == ConfirmationMethod.LINK or task.channel in (
        Channel.GUEST,
        Channel.EMAIL,
    ):
        return _("personal link")
    return _("password session")


CODES = frozenset({ConfirmationMethod.EMAIL_CODE, ConfirmationMethod.SMS_CODE})


def role_label(definition: RouteDefinition | None, task: Task) -> str:
    if task.step_key == "revision" or task.outcome == "resubmitted":
        return _("Initiator")
    if definition is None:
        return task.step_key
    step = definition.step(task.stage_key, task.step_key)
    stage = next((s for s in definition.stages if s.key == task.stage_key), None)
    for text in (step.name if step else None, stage.name if stage else None):
        if text is not None and name_in_language(text):
            return name_in_language(text)
    return task.step_key


def _definition(process: Process) -> RouteDefinition | None:
    """The process's route, or None when its stored version no longer reads
    (its decisions still go on the sheet)."""
    try:
        return definition_for(process.route_version)
    except (ValueError, KeyError, TypeError):  # pydantic's errors are ValueErrors
        return None


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _carried_round(task: Task) -> int | None:
    """ "r1:legal:l:3" -> 1 for a carried-over approval; None for a decision."""
    if task.state != TaskState.CARRIED_OVER:
        return None
    head = (task.carried_from or "").split(":", 1)[0].removeprefix("r")
    return int(head) if head.isdigit() else None


def sheet_data(process: Process, *, now: datetime | None = None) -> SheetData:
    """Everything the approval sheet shows, with words in the active language."""
    document = Document.objects.select_related("organisation", "doc_type").get(
        pk=process.document_id, organisation_id=process.organisation_id
    )
    organisation = document.organisation
    zone = organisation_zone(organisation)
    definition = _definition(process)
    template = process.route_version.template
    route_name = template.name_en if _english() else template.name_ru
    decisions: list[DecisionRow] = []
    seen: dict[str, FileRow] = {}
    for task in decided_tasks(process):
        if task.decided_at is None:  # the query asked for decided ones
            continue
        files = decision_files(document, task)
        for row in files:
            seen.setdefault(f"{row.sha256}:{row.name}:{row.version}", row)
        who = task.decided_by or task.assignee
        email = who.email if who else task.guest_email
        decisions.append(
            DecisionRow(
                task=task,
                round=task.round,
                role=role_label(definition, task),
                person=_person(who) or task.guest_email,
                email=email,
                on_behalf_of=_person(task.on_behalf_of),
                outcome=outcome_label(task.outcome),
                comment=task.comment,
                decided_at=task.decided_at.astimezone(zone),
                channel=channel_label(task),
                confirmation=confirmation_label(task),
                files=files,
                files_match=not task.files_sha256
                or combined_sha256(files) == task.files_sha256,
                carried_from_round=_carried_round(task),
            )
        )
    return SheetData(
        organisation=organisation,
        document=document,
        process=process,
        route_name=route_name,
        status=str(ProcessStatus(process.status).label),
        zone=zone,
        decisions=decisions,
        files=list(seen.values()),
        generated_at=(now or timezone.now()).astimezone(zone),
    )


def _english() -> bool:
    from django.utils.translation import get_language

    return get_language() == "en"


def process_for_user(user: User, document_id: int | str) -> Process:
    """The document's active or latest process, if the user may see the document;
    NotFound otherwise (also when it never had one)."""
    document = access_document(user, document_id)
    process = process_for_document(document)
    if process is None:
        raise NotFound(_("This document has not been sent for approval."))
    return process


def evidence_of(process: Process) -> ProcessEvidence | None:
    return (
        ProcessEvidence.objects.for_org(process.organisation_id)
        .filter(process=process)
        .select_related("stamped_version", "approved_version", "sheet_version")
        .first()
    )


def evidence_by_code(code: str) -> ProcessEvidence | None:
    """The record a public code names (any organisation: the code is the key)."""
    return (
        ProcessEvidence.objects.filter(code=code)
        .select_related(
            "organisation",
            "document",
            "process",
            "approved_version",
            "stamped_version",
        )
        .first()
    )


def signers(evidence: ProcessEvidence) -> list[dict[str, Any]]:
    """Who approved, by role and time, for the public page: short names for
    people of the organisation, masked addresses for guests."""
    process = evidence.process
    definition = _definition(process)
    zone = organisation_zone(evidence.organisation)
    rows = []
    for task in decided_tasks(process):
        if task.round != process.round or task.outcome == "resubmitted":
            continue
        who = task.decided_by or task.assignee
        if task.decided_at is None:
            continue
        rows.append(
            {
                "role": role_label(definition, task),
                "name": who.short_name if who else mask_email(task.guest_email),
                "outcome": outcome_label(task.outcome),
                "at": task.decided_at.astimezone(zone),
            }
        )
    return rows


def finished_without_evidence(limit: int) -> list[Process]:
    """Finished processes the worker has not made evidence for yet, oldest first."""
    return list(
        Process.objects.filter(
            status__in=[
                ProcessStatus.APPROVED,
                ProcessStatus.REJECTED,
                ProcessStatus.CANCELLED,
            ],
            finished_at__isnull=False,
            evidence__isnull=True,
        )
        .select_related("route_version__template")
        .order_by("finished_at", "id")[:limit]
    )


# --- the public page -------------------------------------------------------------------

MATCH_APPROVED = "approved"
MATCH_STAMPED = "stamped"
MATCH_NONE = "different"


def compare_upload(evidence: ProcessEvidence, chunks: Iterable[bytes]) -> str:
    """Whether the bytes are exactly the approved version or the stamped copy."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    sha = digest.hexdigest()
    if evidence.approved_version and sha == evidence.approved_version.sha256:
        return MATCH_APPROVED
    if evidence.stamped_version and sha == evidence.stamped_version.sha256:
        return MATCH_STAMPED
    return MATCH_NONE


def document_chain_intact(evidence: ProcessEvidence) -> bool:
    report = audit_verify_document(evidence.organisation_id, evidence.document_id)
    return report.intact and report.events > 0
