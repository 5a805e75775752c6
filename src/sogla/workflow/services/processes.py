"""Commands on a whole process: start, resubmit, remind, cancel.

Each is a ``prepare`` for ``pipeline.execute``: its checks and the engine command.
Refusals of every command but start are recorded (``refusals.refused_command``).
Reassigning a task and resolving a step are in ``assignments``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Document, StatusMeaning
from sogla.documents.services import document_missing_required
from sogla.engine.commands import (
    Cancel,
    Resubmit,
    RoundChanges,
    Start,
)
from sogla.engine.definition import REASK_MODES
from sogla.engine.states import Participant
from sogla.engine.states import TaskState as EngineTaskState
from sogla.notifications.models import Notification
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User
from sogla.workflow import repository, tenant
from sogla.workflow.effects import EffectApplier
from sogla.workflow.error_codes import WorkflowErrorCode
from sogla.workflow.errors import WorkflowError
from sogla.workflow.models import (
    Process,
    ProcessStatus,
    RouteTemplate,
    RouteVersion,
)
from sogla.workflow.refs import user_ref
from sogla.workflow.services.pipeline import (
    NO_META,
    Answered,
    Event,
    Step,
    command_context,
    execute,
    lock_and_load,
    process_for,
    the_process,
)
from sogla.workflow.services.refusals import refused_command
from sogla.workflow.services.routes import route_version_latest_published


def process_start(
    *,
    actor: User,
    document: Document,
    template: RouteTemplate,
    meta: RequestMeta = NO_META,
    now: datetime | None = None,
) -> Process:
    """Start ``template``'s latest published version on a draft document.

    ``now`` (default: the clock) is the moment the engine sees; the demo uses it to
    lay out processes that started days ago.
    """

    def prepare() -> Step[Process]:
        locked, version = _startable(actor, document, template)
        moment = tenant.local_now(locked.organisation, now)
        try:
            with transaction.atomic():
                process = Process.objects.create(
                    organisation_id=locked.organisation_id,
                    document=locked,
                    route_version=version,
                    status=ProcessStatus.RUNNING,
                    initiator_id=locked.initiator_id,
                    started_at=moment,
                )
        except IntegrityError:
            raise _already_running() from None
        loaded = repository.new(process, locked)
        ctx = command_context(loaded, moment=moment)
        payload = {
            "route": template.key,
            "version": version.number,
            "initiator": locked.initiator_id,
            "files_sha256": ctx.files_sha256,
        }
        return Step(
            loaded,
            Start(Participant.user(locked.initiator_id)),
            ctx,
            answer=the_process,
            event=Event("process.started", payload),
            template=template,
        )

    return execute(prepare, actor=actor, meta=meta)


def _already_running() -> WorkflowError:
    return WorkflowError(
        _("The document is already being approved."),
        code=WorkflowErrorCode.ALREADY_RUNNING,
    )


def _startable(
    actor: User, document: Document, template: RouteTemplate
) -> tuple[Document, RouteVersion]:
    """The document, locked, and the version to start, once every check passed."""
    org_id = organisation_id_of(actor)
    if document.organisation_id != org_id or template.organisation_id != org_id:
        raise NotFound()
    document = (
        Document.objects.select_for_update(of=("self",))
        .select_related(
            "doc_type",
            "status",
            "organisation",
            "initiator__department",
            "counterparty",
        )
        .get(pk=document.pk, organisation_id=org_id)
    )
    tenant.remember(document)  # its approval's commands read them from the cache
    if document.initiator_id != actor.pk and not is_org_admin(actor):
        raise PermissionDenied(
            _("Only the initiator or an administrator may start the approval.")
        )
    if document.archived_at is not None:
        raise WorkflowError(
            _("The document is archived."), code=WorkflowErrorCode.ARCHIVED
        )
    running = [ProcessStatus.RUNNING, ProcessStatus.REVISION]
    if Process.objects.filter(document=document, status__in=running).exists():
        raise _already_running()
    if document.status.meaning != StatusMeaning.DRAFT:
        raise WorkflowError(
            _("Only a draft can be sent for approval."),
            code=WorkflowErrorCode.NOT_DRAFT,
        )
    if template.doc_type_id != document.doc_type_id or not template.is_active:
        raise ValidationFailed.single(
            "template", "invalid", _("This route is not available for the document.")
        )
    version = route_version_latest_published(template)
    if version is None:
        raise ValidationFailed.single(
            "template", "not_published", _("This route has no published version yet.")
        )
    missing = document_missing_required(document)
    if missing:
        raise ValidationFailed(missing)
    return document, version


@dataclass(frozen=True)
class RoundEdits:
    """The initiator's changes for the next round, keyed by ``"stage.step"``."""

    add: Mapping[str, Sequence[User]] = field(default_factory=dict)
    remove: Mapping[str, Sequence[User]] = field(default_factory=dict)
    due: Mapping[str, datetime] = field(default_factory=dict)


def _round_changes(org_id: int, edits: RoundEdits | None) -> RoundChanges:
    if edits is None:
        return RoundChanges()
    problems = []
    for key, users in [*edits.add.items(), *edits.remove.items()]:
        if any(u.organisation_id != org_id or not u.is_active for u in users):
            problems.append(FieldProblem(key, "invalid", _("No such person.")))
    if problems:
        raise ValidationFailed(problems)
    return RoundChanges(
        add={k: [Participant.user(u.pk) for u in v] for k, v in edits.add.items()},
        remove={k: [user_ref(u.pk) for u in v] for k, v in edits.remove.items()},
        due=dict(edits.due),
    )


def process_resubmit(
    *,
    actor: User,
    process: Process | int,
    comment: str = "",
    changes: RoundEdits | None = None,
    reask: str = "",
    meta: RequestMeta = NO_META,
) -> Process:
    """The initiator sends a returned document again: a new round starts.

    ``reask`` (an engine ``Reask`` value, "" for the route's) says whom the round
    asks again; another mode than the route's needs the route's
    ``on_return.initiator_may_choose_reask``."""
    org_id, process_id = process_for(actor, process)
    round_changes = _round_changes(org_id, changes)
    if reask and reask not in REASK_MODES:
        raise ValidationFailed.single(
            "reask", "invalid", _("Choose whom to ask again from the list.")
        )
    command = Resubmit(
        Participant.user(actor.pk), comment.strip(), round_changes, reask=reask
    )

    def prepare() -> Step[Process]:
        loaded = lock_and_load(process_id, org_id, command)
        if loaded.process.initiator_id != actor.pk:
            raise PermissionDenied(_("Only the initiator may resubmit the document."))
        ctx = command_context(loaded)
        return Step(
            loaded,
            command,
            ctx,
            answer=the_process,
            event=lambda result: Event(
                "process.resubmitted",
                {
                    "round": result.state.round,
                    "comment": comment.strip(),
                    "files_sha256": ctx.files_sha256,
                    "changes": bool(round_changes),
                    "reask": result.state.reask or loaded.definition.on_return.reask,
                },
            ),
        )

    refusal = refused_command(process_id, "resubmit")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)


def process_remind(
    *, actor: User, process: Process | int, meta: RequestMeta = NO_META
) -> int:
    """The initiator reminds the people the approval waits on ("Remind", UI.md).

    Only people with an open task get it, at most once a day each (the outbox's
    idempotency key carries the local date: a second click the same day sends
    nothing). Returns how many were reminded now. Nothing for the engine here.
    """
    org_id, process_id = process_for(actor, process)

    def prepare() -> Answered[int]:
        loaded = lock_and_load(process_id, org_id)
        if loaded.process.initiator_id != actor.pk:
            raise PermissionDenied(_("Only the initiator may send reminders."))
        if loaded.process.status != ProcessStatus.RUNNING:
            raise WorkflowError(_("Nobody is asked now: the approval is not running."))
        today = tenant.local_now(loaded.document.organisation).date().isoformat()
        nudges = Notification.objects.filter(
            organisation_id=org_id, kind="workflow.nudge", document=loaded.document
        )
        before = nudges.count()
        applier = EffectApplier(loaded, actor, meta)
        for task in loaded.state.tasks.values():
            if task.state is EngineTaskState.OPEN:
                applier.notify(
                    "nudge",
                    [task.participant.ref],
                    f"{task.id}:{today}",
                    {"task": loaded.task_pks.get(task.id), "stage": task.stage},
                )
        applier.flush()
        sent = nudges.count() - before
        if sent:
            applier.audit("process.reminded", {"people": sent})
        return Answered(sent)

    refusal = refused_command(process_id, "remind")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)


def process_cancel(
    *,
    actor: User,
    process: Process | int,
    reason: str,
    meta: RequestMeta = NO_META,
) -> Process:
    """The initiator or an administrator stops the approval; a reason is required."""
    org_id, process_id = process_for(actor, process)

    def prepare() -> Step[Process]:
        if not reason.strip():
            raise ValidationFailed.single(
                "reason", "required", _("Say why the approval is cancelled.")
            )
        command = Cancel(Participant.user(actor.pk), reason.strip())
        loaded = lock_and_load(process_id, org_id, command)
        if loaded.process.initiator_id != actor.pk and not is_org_admin(actor):
            raise PermissionDenied(
                _("Only the initiator or an administrator may cancel the approval.")
            )
        return Step(
            loaded,
            command,
            command_context(loaded, with_files=False),
            answer=the_process,
            event=Event("process.cancelled", {"reason": reason.strip()}),
        )

    refusal = refused_command(process_id, "cancel")
    return execute(prepare, actor=actor, meta=meta, refusal=refusal)
