"""Refusals of workflow commands; the interfaces turn them into 404/409/422 answers."""

from __future__ import annotations

from sogla.core.errors import ApplicationError


class WorkflowError(ApplicationError):
    """A command the process's state does not allow (HTTP 409); ``code`` says which."""

    code = "workflow_refused"


class TaskClosed(WorkflowError):
    """A decision on a task that is no longer open ("Task already closed ...")."""

    code = "task_closed"


class ProcessConflict(WorkflowError):
    """Another command changed the process at the same moment, twice in a row."""

    code = "conflict"
