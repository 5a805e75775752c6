"""Why the engine refuses a command. A refusal never changes the state."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar


class EngineErrorCode(StrEnum):
    PROCESS_NOT_STARTED = "process_not_started"
    PROCESS_ALREADY_STARTED = "process_already_started"
    PROCESS_NOT_RUNNING = "process_not_running"
    PROCESS_NOT_IN_REVISION = "process_not_in_revision"
    PROCESS_FINISHED = "process_finished"
    TASK_NOT_FOUND = "task_not_found"
    TASK_NOT_OPEN = "task_not_open"
    TASK_NOT_DECIDABLE = "task_not_decidable"
    OUTCOME_NOT_ALLOWED = "outcome_not_allowed"
    COMMENT_REQUIRED = "comment_required"
    FIELDS_REQUIRED = "fields_required"
    FIELD_NOT_ALLOWED = "field_not_allowed"
    REQUEST_ID_REUSED = "request_id_reused"
    STEP_NOT_FOUND = "step_not_found"
    STEP_NOT_FAILED = "step_not_failed"
    EDIT_NOT_ALLOWED = "edit_not_allowed"
    ALREADY_ASSIGNED = "already_assigned"
    NO_PARTICIPANTS = "no_participants"
    REASK_NOT_ALLOWED = "reask_not_allowed"
    NOT_CARRIED_OVER = "not_carried_over"
    STAGE_NOT_ALLOWED = "stage_not_allowed"
    STAGE_PASSED = "stage_passed"
    STEP_NOT_OPEN = "step_not_open"
    NOT_PENDING = "not_pending"
    QUORUM_UNREACHABLE = "quorum_unreachable"
    DEADLINE_PASSED = "deadline_passed"


class EngineError(Exception):
    """A refused command: ``code`` for programs, ``message`` for people (English)."""

    code: ClassVar[EngineErrorCode]

    def __init__(self, message: str, *, fields: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fields = tuple(fields)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.message})"


class ProcessNotStarted(EngineError):
    code = EngineErrorCode.PROCESS_NOT_STARTED


class ProcessAlreadyStarted(EngineError):
    code = EngineErrorCode.PROCESS_ALREADY_STARTED


class ProcessNotRunning(EngineError):
    code = EngineErrorCode.PROCESS_NOT_RUNNING


class ProcessNotInRevision(EngineError):
    code = EngineErrorCode.PROCESS_NOT_IN_REVISION


class ProcessFinished(EngineError):
    code = EngineErrorCode.PROCESS_FINISHED


class TaskNotFound(EngineError):
    code = EngineErrorCode.TASK_NOT_FOUND


class TaskNotOpen(EngineError):
    code = EngineErrorCode.TASK_NOT_OPEN


class TaskNotDecidable(EngineError):
    code = EngineErrorCode.TASK_NOT_DECIDABLE


class OutcomeNotAllowed(EngineError):
    code = EngineErrorCode.OUTCOME_NOT_ALLOWED


class CommentRequired(EngineError):
    code = EngineErrorCode.COMMENT_REQUIRED


class FieldsRequired(EngineError):
    code = EngineErrorCode.FIELDS_REQUIRED


class FieldNotAllowed(EngineError):
    code = EngineErrorCode.FIELD_NOT_ALLOWED


class RequestIdReused(EngineError):
    code = EngineErrorCode.REQUEST_ID_REUSED


class StepNotFound(EngineError):
    code = EngineErrorCode.STEP_NOT_FOUND


class StepNotFailed(EngineError):
    code = EngineErrorCode.STEP_NOT_FAILED


class EditNotAllowed(EngineError):
    code = EngineErrorCode.EDIT_NOT_ALLOWED


class AlreadyAssigned(EngineError):
    code = EngineErrorCode.ALREADY_ASSIGNED


class NoParticipants(EngineError):
    code = EngineErrorCode.NO_PARTICIPANTS


class ReaskNotAllowed(EngineError):
    code = EngineErrorCode.REASK_NOT_ALLOWED


class NotCarriedOver(EngineError):
    code = EngineErrorCode.NOT_CARRIED_OVER


class StageNotAllowed(EngineError):
    """A "return_to_stage" decision names a stage the step may not send back to."""

    code = EngineErrorCode.STAGE_NOT_ALLOWED


class StagePassed(EngineError):
    code = EngineErrorCode.STAGE_PASSED


class StepNotOpen(EngineError):
    code = EngineErrorCode.STEP_NOT_OPEN


class NotPending(EngineError):
    code = EngineErrorCode.NOT_PENDING


class QuorumUnreachable(EngineError):
    code = EngineErrorCode.QUORUM_UNREACHABLE


class DeadlinePassed(EngineError):
    code = EngineErrorCode.DEADLINE_PASSED
