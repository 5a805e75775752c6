"""Refusals of workflow commands; the interfaces turn them into 404/409/422 answers."""

from __future__ import annotations

from sogla.core.errors import ApplicationError
from sogla.workflow.error_codes import WorkflowErrorCode


class WorkflowError(ApplicationError):
    """A command the process's state does not allow (HTTP 409); ``code`` says which."""

    code: str = WorkflowErrorCode.REFUSED


class TaskClosed(WorkflowError):
    """A decision on a task that is no longer open ("Task already closed ...")."""

    code = WorkflowErrorCode.TASK_CLOSED


class ProcessConflict(WorkflowError):
    """Another command changed the process at the same moment, twice in a row."""

    code = WorkflowErrorCode.CONFLICT
