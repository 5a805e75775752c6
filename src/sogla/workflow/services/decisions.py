"""Decisions on tasks: ``task_decide`` and the result files of ``task_file_add``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from sogla.core.access import organisation_id_of
from sogla.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.documents.fields import clean_values
from sogla.documents.models import Document, FieldDef, FileVersion
from sogla.documents.services import NewFile, file_add_for_step
from sogla.documents.uploads import CheckedUpload
from sogla.engine.commands import Decide
from sogla.engine.definition import StepDef
from sogla.engine.run import Context
from sogla.engine.states import Participant, TaskRun
from sogla.engine.states import TaskState as EngineTaskState
from sogla.orgs.models import User
from sogla.workflow import repository
from sogla.workflow.confirmations import Confirmation, Redeeming, confirmed, default_for
from sogla.workflow.definitions import definition_for
from sogla.workflow.errors import TaskClosed
from sogla.workflow.models import Channel, Process, Task, TaskState
from sogla.workflow.services.pipeline import (
    NO_META,
    Answered,
    Done,
    Event,
    Step,
    command_context,
    execute,
)
from sogla.workflow.services.refusals import closed_message, refused_decision
from sogla.workflow.state_rows import task_columns

RESULT_FILE_KINDS = frozenset({"task", "request_info"})

# ``Channel.values`` builds its list on every read
_CHANNELS = frozenset(Channel.values)


def task_decide(
    *,
    actor: User,
    task_id: int | str,
    outcome: str,
    comment: str = "",
    request_id: str,
    fields: Mapping[str, Any] | None = None,
    channel: str = Channel.WEB,
    confirmation: Confirmation | None = None,
    meta: RequestMeta = NO_META,
    now: datetime | None = None,
    to_stage: str = "",
) -> Task:
    """Record the actor's decision on their task; the same request id again is harmless.

    ``to_stage``: the earlier stage a "return_to_stage" decision sends the process
    back to (one the step lists in ``return_to``); ignored for other outcomes.

    ``now`` (default: the clock) is the moment the engine sees (see process_start).
    ``confirmation`` is how the actor was confirmed (default: by the channel, a
    password session or an API token); a step that needs a one-time code takes
    only a code's confirmation naming a verified challenge (``confirmations``).

    Refusals change nothing: NotFound (not the actor's task, another organisation),
    TaskClosed ("Task already closed", naming who decided), ValidationFailed naming
    ``outcome``, ``comment``, ``request_id``, ``code`` or a field key.
    """
    request_id = (request_id or "").strip()[:100]
    decision = _Decision(
        actor,
        Participant.user(actor.pk),
        task_id,
        outcome,
        comment.strip(),
        request_id,
        fields or {},
        channel,
        confirmation or default_for(channel),
        to_stage=(to_stage or "").strip() if outcome == "return_to_stage" else "",
    )
    return execute(
        lambda: decision.prepare(meta, now),
        actor=actor,
        meta=meta,
        refusal=refused_decision(
            task_id, {"outcome": outcome, "request_id": request_id, "channel": channel}
        ),
    )


def guest_task_decide(
    *,
    organisation_id: int,
    email: str,
    task_id: int,
    outcome: str,
    comment: str = "",
    request_id: str,
    confirmation: Confirmation,
    meta: RequestMeta = NO_META,
    now: datetime | None = None,
) -> Task:
    """A guest's decision on their task (the guest page, channel "guest link"),
    through the same pipeline as ``task_decide``: the task must be the guest's
    (its ``guest_email``) in the organisation, else NotFound. The audit events
    name the guest by e-mail."""
    request_id = (request_id or "").strip()[:100]
    guest = Participant.guest(email)
    decision = _Decision(
        None,
        guest,
        task_id,
        outcome,
        comment.strip(),
        request_id,
        {},
        Channel.GUEST,
        confirmation,
        organisation_id=organisation_id,
    )
    return execute(
        lambda: decision.prepare(meta, now),
        actor=None,
        actor_label=guest.id,
        meta=meta,
        refusal=refused_decision(
            task_id,
            {"outcome": outcome, "request_id": request_id, "channel": Channel.GUEST},
        ),
    )


@dataclass(frozen=True)
class _Decision:
    actor: User | None
    participant: Participant
    task_id: int | str
    outcome: str
    comment: str
    request_id: str
    fields: Mapping[str, Any]
    channel: str
    confirmation: Confirmation
    organisation_id: int | None = None  # a guest's: the organisation of the link
    to_stage: str = ""  # "return_to_stage": the earlier stage chosen

    def locked(self) -> Task:
        if self.actor is not None:
            return task_locked_for(self.actor, self.task_id)
        try:
            row = repository.lock_task(
                int(self.task_id), int(self.organisation_id or 0)
            )
        except (Task.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
        if row.assignee_id is not None or row.guest_email != self.participant.id:
            raise NotFound()
        return row

    def prepare(
        self, meta: RequestMeta, moment: datetime | None
    ) -> Step[Task] | Answered[Task]:
        if self.channel not in _CHANNELS:
            raise ValidationFailed.single("channel", "invalid", _("Unknown channel."))
        row = self.locked()
        loaded = repository.load(
            row.process, task_id=row.engine_id, whole_round=bool(self.to_stage)
        )
        task = loaded.state.tasks[row.engine_id]
        if self.request_id and (task.request_id, task.outcome) == (
            self.request_id,
            self.outcome,
        ):
            return Answered(Task.objects.get(pk=row.pk))  # a harmless repeat
        if task.state is not EngineTaskState.OPEN:
            raise closed_message(loaded, task)
        document = loaded.document
        step = loaded.definition.step(task.stage, task.step)
        values = clean_decision_fields(document, step, self.fields)
        attached = step_files(document, step)
        ctx = command_context(loaded, moment=moment, answers=values)
        proof = confirmed(
            step,
            Redeeming(
                task=row,
                participant_ref=self.participant.ref,
                outcome=self.outcome,
                files_sha256=ctx.files_sha256,
                confirmation=self.confirmation,
            ),
            self.channel,
        )
        extra = {
            "channel": self.channel,
            "ip": meta.ip[:45],
            "user_agent": meta.user_agent[:500],
            **proof.columns(),
        }
        return Step(
            loaded,
            Decide(
                task.id,
                self.participant,
                self.outcome,
                comment=self.comment,
                request_id=self.request_id,
                files_sha256=ctx.files_sha256,
                # A file field counts as filled when the document has a current file
                # for it (uploaded with task_file_add); the engine sees its hash.
                fields={**values, **attached},
                to_stage=self.to_stage,
            ),
            ctx,
            answer=lambda done: task_as_written(row, done, task.id, extra),
            event=self.event(row, task, ctx, values, attached, proof),
            file_fields=frozenset(attached),
            task_extra={task.id: extra},
        )

    def event(
        self,
        row: Task,
        task: TaskRun,
        ctx: Context,
        values: Mapping[str, Any],
        attached: Mapping[str, str],
        proof: Confirmation,
    ) -> Event:
        payload = {
            "task": row.pk,
            "task_ref": task.id,
            "round": task.round,
            "stage": task.stage,
            "step": task.step,
            "outcome": self.outcome,
            "comment": self.comment,
            "files_sha256": ctx.files_sha256,
            "request_id": self.request_id,
            "channel": self.channel,
            "confirmation": proof.columns(),
            "on_behalf_of": task.on_behalf_of.id if task.on_behalf_of else None,
            "fields": dict(values),
            "files": attached,
        }
        if self.to_stage:
            payload["to_stage"] = self.to_stage
        return Event("task.decided", payload, target=str(row.pk))


def task_row_for(actor: User, task_id: int | str) -> Task:
    """The actor's task (assignee or the person it is delegated from); NotFound
    otherwise, whatever the reason."""
    org_id = organisation_id_of(actor)
    try:
        task = Task.objects.for_org(org_id).get(pk=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if actor.pk not in (task.assignee_id, task.on_behalf_of_id):
        raise NotFound()
    return task


def task_locked_for(actor: User, task_id: int | str) -> Task:
    """``task_row_for`` with the task's process locked (``repository.lock_task``)."""
    org_id = organisation_id_of(actor)
    try:
        task = repository.lock_task(int(task_id), org_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if actor.pk not in (task.assignee_id, task.on_behalf_of_id):
        raise NotFound()
    return task


def clean_decision_fields(
    document: Document, step: StepDef | None, raw: Mapping[str, Any]
) -> dict[str, Any]:
    if not raw:
        return {}
    allowed = set(step.fields) if step else set()
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise ValidationFailed(
            FieldProblem(k, "unknown_field", _("This step does not fill this field."))
            for k in unknown
        )
    defs = list(
        FieldDef.objects.filter(doc_type_id=document.doc_type_id, key__in=list(raw))
    )
    for definition in defs:  # the step decides what is required, not the type
        definition.required = False
        definition.required_when = None
    return clean_values(organisation_id=document.organisation_id, fields=defs, raw=raw)


def step_files(document: Document, step: StepDef | None) -> dict[str, str]:
    """The step's file fields that have a current file: key -> its latest sha256."""
    if step is None or not step.fields:
        return {}
    rows = FileVersion.objects.filter(
        file__document_id=document.pk,
        file__archived_at=None,
        file__field_key__in=list(step.fields),
    ).values_list("file__field_key", "version", "sha256")
    latest: dict[str, tuple[int, str]] = {}
    for key, version, sha in rows:
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, sha)
    return {key: sha for key, (_v, sha) in sorted(latest.items())}


def _as_read(value: Any) -> Any:
    """A value as the database hands it back (aware times in UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def task_as_written(
    row: Task, done: Done, task_id: str, extra: Mapping[str, Any]
) -> Task:
    """The task row after ``repository.save`` wrote the decision, without reading
    it back: every engine column comes from the result, the rest from ``extra``
    (channel, ip, user agent)."""
    written = {**task_columns(done.result.state.tasks[task_id]), **extra}
    for name, value in written.items():
        setattr(row, name, _as_read(value))
    row.process = done.loaded.process
    return row


def task_file_add(
    *,
    actor: User,
    task_id: int | str,
    upload: CheckedUpload,
    field_key: str = "",
    meta: RequestMeta = NO_META,
) -> FileVersion:
    """Attach a task's result file while the approval runs (S3 "Provide the act").

    The actor must hold the open ``task`` or ``request_info`` task (or be the person
    it is delegated from); ``field_key`` must be one of the step's fields (or '' for
    the type's general files). The version goes in through
    ``documents.services.file_add_for_step`` (no draft check) and is audited as
    ``document.file_version_added`` with the task. A required file field of the step
    then counts as filled when the task is done.
    """
    with transaction.atomic():
        row = task_row_for(actor, task_id)
        repository.lock_process(row.process_id, row.organisation_id)
        row = Task.objects.select_related("process__route_version").get(pk=row.pk)
        if row.kind not in RESULT_FILE_KINDS:
            raise PermissionDenied(_("Files can be attached only to a task's result."))
        if row.state != TaskState.OPEN:
            raise TaskClosed(_("Task already closed."))
        process: Process = row.process
        step = definition_for(process.route_version).step(row.stage_key, row.step_key)
        if field_key and (step is None or field_key not in step.fields):
            raise ValidationFailed.single(
                field_key, "unknown_field", _("This step does not fill this field.")
            )
        return file_add_for_step(
            actor=actor,
            document=Document.objects.get(
                pk=process.document_id, organisation_id=row.organisation_id
            ),
            new=NewFile(upload=upload, field_key=field_key),
            context={"task": row.pk, "task_ref": row.engine_id},
            meta=meta,
        )
