"""What a refused command says, and the evidence it leaves.

A refusal changes nothing: the command's transaction rolls back. ``engine_refusal``
turns the engine's refusals into the application's errors (the message a person
reads, the field it is about); ``closed_message`` says why a task is closed, naming
who decided. ``refusals_audited`` records a refused decision or process command in
the audit log, in a transaction of its own, so the attempt is not lost with the
rollback: who tried what, from where, and why it was refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.core.errors import (
    ApplicationError,
    FieldProblem,
    NotFound,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.engine import errors as engine_errors
from sogla.engine.states import TaskRun
from sogla.engine.states import TaskState as EngineTaskState
from sogla.orgs.models import User
from sogla.workflow.errors import TaskClosed, WorkflowError
from sogla.workflow.labels import outcome_label
from sogla.workflow.models import Task, TaskState
from sogla.workflow.refs import ref_user_id
from sogla.workflow.repository import Loaded

T = TypeVar("T")

# --- engine refusals -> application errors ---------------------------------------------

E = engine_errors.EngineErrorCode


def _field_refusal(error: engine_errors.EngineError) -> Exception | None:
    """The refusals about one input field, or None."""
    code = error.code
    if code is E.OUTCOME_NOT_ALLOWED:
        return ValidationFailed.single(
            "outcome", "not_allowed", _("This decision is not possible in this step.")
        )
    if code is E.COMMENT_REQUIRED:
        return ValidationFailed.single(
            "comment", "required", _("A comment is required for this decision.")
        )
    if code is E.FIELDS_REQUIRED:
        return ValidationFailed(
            FieldProblem(name, "required", _("This field is required."))
            for name in error.fields
        )
    if code is E.FIELD_NOT_ALLOWED:
        return ValidationFailed(
            FieldProblem(
                name, "unknown_field", _("This step does not fill this field.")
            )
            for name in error.fields
        )
    if code is E.REASK_NOT_ALLOWED:
        return ValidationFailed.single(
            "reask",
            "not_allowed",
            _("This route does not let the initiator choose whom to ask again."),
        )
    if code is E.STAGE_NOT_ALLOWED:
        return ValidationFailed.single(
            "to_stage",
            "not_allowed",
            _(
                "Choose one of the earlier stages this step may send the document back to."
            ),
        )
    if code is E.DEADLINE_PASSED:
        return ValidationFailed.single(
            "due_at", "past", _("The new deadline has already passed.")
        )
    if code is E.REQUEST_ID_REUSED:
        return ValidationFailed.single(
            "request_id",
            "reused",
            _("This request id was already used for another decision."),
        )
    return None


def engine_refusal(error: engine_errors.EngineError) -> Exception:
    """The application error a person reads for an engine refusal."""
    by_field = _field_refusal(error)
    if by_field is not None:
        return by_field
    if error.code is E.TASK_NOT_FOUND:
        return NotFound()
    messages = {
        E.PROCESS_NOT_RUNNING: _("The approval is not in progress."),
        E.PROCESS_FINISHED: _("The approval has already finished."),
        E.PROCESS_NOT_IN_REVISION: _("The document is not returned for revision."),
        E.TASK_NOT_OPEN: _("Task already closed."),
        E.TASK_NOT_DECIDABLE: _("This task ends when the document is resubmitted."),
        E.STEP_NOT_FOUND: _("There is no such step in the current stage."),
        E.STEP_NOT_FAILED: _("Only a step that could not start can be resolved."),
        E.EDIT_NOT_ALLOWED: _("This route does not let the initiator change it."),
        E.ALREADY_ASSIGNED: _("This person already has a task in the step."),
        E.NO_PARTICIPANTS: _("Choose at least one person."),
        E.NOT_CARRIED_OVER: _(
            "Only an approval carried over to the running round can be withdrawn."
        ),
        E.STAGE_PASSED: _("This stage has already passed; it cannot be changed."),
        E.STEP_NOT_OPEN: _("This step is not waiting for decisions now."),
        E.NOT_PENDING: _("This person has no pending task in the step."),
        E.QUORUM_UNREACHABLE: _(
            "Without this person the step could never be completed: "
            "add someone else first."
        ),
        E.PROCESS_ALREADY_STARTED: _("The approval has already started."),
        E.PROCESS_NOT_STARTED: _("The approval has not started."),
    }
    return WorkflowError(messages.get(error.code, error.message), code=error.code.value)


# --- "Task already closed" ---------------------------------------------------------------


def _user_name(ref: str | None) -> str:
    user_id = ref_user_id(ref)
    if user_id is None:
        return (ref or "").partition(":")[2] or _("someone")
    user = User.objects.filter(pk=user_id).first()
    return user.short_name if user is not None else _("someone")


def closed_message(loaded: Loaded, task: TaskRun) -> TaskClosed:
    """ "Task already closed", naming who decided."""
    if task.state is EngineTaskState.DONE or task.state is EngineTaskState.CARRIED_OVER:
        return TaskClosed(
            _("Task already closed: %(name)s already decided (%(outcome)s).")
            % {
                "name": _user_name(task.decided_by),
                "outcome": outcome_label(task.outcome or ""),
            }
        )
    if task.state is EngineTaskState.CLOSED_BY_QUORUM:
        decider = (
            Task.objects.filter(
                process=loaded.process,
                round=task.round,
                stage_key=task.stage,
                step_key=task.step,
                state=TaskState.DONE,
            )
            .order_by("decided_at", "id")
            .values_list("decided_by_ref", flat=True)
            .first()
        )
        return TaskClosed(
            _("Task already closed: %(name)s has already decided for this step.")
            % {"name": _user_name(decider)}
        )
    reasons = {
        "returned": _("the document was returned for revision"),
        "sent back": _("the document was sent back to an earlier stage"),
        "rejected": _("the document was rejected"),
        "cancelled": _("the approval was cancelled"),
        "reassigned": _("the task was given to someone else"),
        "removed": _("you were taken off this approval"),
        "stage finished": _("the stage has finished"),
        "process finished": _("the approval has finished"),
    }
    reason = reasons.get(task.closed_reason or "", task.closed_reason or "")
    return TaskClosed(_("Task already closed: %(reason)s.") % {"reason": reason})


# --- the evidence of a refusal -----------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """How one refusal is recorded: the event's verb, target and payload."""

    verb: str
    target: tuple[str, int]
    payload: Mapping[str, Any]


# Says what a refused command was about, given the actor and their organisation; it
# runs only when the command is refused, and None records nothing.
Refusal = Callable[[User, int], Refused | None]


def refused_decision(task_id: int | str, payload: Mapping[str, Any]) -> Refusal:
    """A refused decision leaves ``task.decision_refused``, but only on the actor's
    own task in their organisation: somebody else's task, another organisation's
    or an unknown id leaves no trace, as it reveals nothing."""

    def find(actor: User, org_id: int) -> Refused | None:
        try:
            row = (
                Task.objects.for_org(org_id)
                .filter(Q(assignee=actor) | Q(on_behalf_of=actor))
                .values("pk", "engine_id", "process_id", "process__document_id")
                .get(pk=int(task_id))
            )
        except (Task.DoesNotExist, ValueError, TypeError):
            return None
        return Refused(
            "task.decision_refused",
            ("task", row["pk"]),
            {
                "document": row["process__document_id"],
                "process": row["process_id"],
                "task": row["pk"],
                "task_ref": row["engine_id"],
                **payload,
            },
        )

    return find


def refused_command(process_id: int, command: str) -> Refusal:
    """A refused process command (resubmit, cancel, reassign, resolve, remind)
    leaves ``process.command_refused``; the process is already known to be in the
    actor's organisation."""
    return lambda _actor, _org_id: Refused(
        "process.command_refused",
        ("process", process_id),
        {"process": process_id, "command": command},
    )


def refusals_audited(
    call: Callable[[], T],
    *,
    actor: User | None,
    meta: RequestMeta,
    refusal: Refusal | None,
) -> T:
    """Run a command; a refusal (but NotFound) leaves the event ``refusal`` finds.

    The command's own transaction has already rolled back when the event is written
    in a transaction of its own, so a refusal still changes nothing else. It is not
    on the card's history: only what happened goes there.
    """
    try:
        return call()
    except NotFound:
        raise
    except ApplicationError as error:
        org_id = actor.organisation_id if actor is not None else None
        if refusal is not None and actor is not None and org_id is not None:
            found = refusal(actor, org_id)
            if found is not None:
                _record(actor, org_id, error, meta, found)
        raise


def _record(
    actor: User,
    org_id: int,
    error: ApplicationError,
    meta: RequestMeta,
    refused: Refused,
) -> None:
    fields = (
        sorted({p.field for p in error.problems})
        if isinstance(error, ValidationFailed)
        else []
    )
    with transaction.atomic():
        audit_record(
            organisation_id=org_id,
            verb=refused.verb,
            actor=actor,
            target_type=refused.target[0],
            target_id=refused.target[1],
            payload={
                **refused.payload,
                "code": error.code,
                "fields": fields,
                "message": str(error.message),
            },
            request_meta=meta,
        )
