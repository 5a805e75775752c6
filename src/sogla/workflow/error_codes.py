"""The codes of workflow's refusals (``WorkflowError.code``), as API clients see them.

An engine refusal keeps the engine's code (``engine.errors.EngineErrorCode``:
``process_not_running``, ``task_not_open``...); these are the workflow's own.
The values are part of the API: never change one.
"""

from __future__ import annotations

from enum import StrEnum


class WorkflowErrorCode(StrEnum):
    REFUSED = "workflow_refused"  # the state does not allow the command
    TASK_CLOSED = "task_closed"  # a decision on a task that is no longer open
    CONFLICT = "conflict"  # a concurrent change, twice in a row
    ALREADY_PUBLISHED = "already_published"  # a published route version never changes
    DRAFT_CHANGED = "draft_changed"  # another administrator saved the route first
    ARCHIVED = "archived"  # the document is archived
    ALREADY_RUNNING = "already_running"  # the document is already being approved
    NOT_DRAFT = "not_draft"  # only a draft can be sent for approval
