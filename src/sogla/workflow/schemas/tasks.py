"""API schemas of tasks: the inbox, one task with its decision panel, decisions and
reassignment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from sogla.api.schemas import MAX_ID
from sogla.documents.schemas import FieldDefOut, field_def_out
from sogla.workflow.models import Task
from sogla.workflow.schemas.common import (
    In,
    PersonRefOut,
    RefOut,
    person_ref,
    user_ref,
)
from sogla.workflow.selectors import DecisionPanel, TaskCounts, person_values


class TaskListIn(In):
    tab: Literal["mine", "started", "watching", "done"] = Field(
        "mine",
        description="mine: my open tasks, overdue first; started: open tasks in "
        "approvals I started; watching: open tasks of others in running approvals I "
        "took part in; done: tasks I decided, newest first.",
    )
    cursor: str = Field("", max_length=500)
    limit: int = Field(25, ge=1, le=100)


class DocumentRefOut(Schema):
    id: int
    number: str
    title: str
    doc_type: str
    status: str


class TaskOut(Schema):
    id: int
    process_id: int
    document: DocumentRefOut
    initiator: RefOut
    round: int
    stage: str
    step: str
    kind: str
    state: str
    assignee: RefOut | None
    on_behalf_of: PersonRefOut | None = Field(
        description="Whom a delegate stands in for."
    )
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    outcome: str
    comment: str
    decided_at: datetime | None


class TaskCountsOut(Schema):
    mine: int
    overdue: int
    started: int


class TaskListOut(Schema):
    items: list[TaskOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    counts: TaskCountsOut


class ReturnStageOut(Schema):
    key: str
    name: str


class TaskDetailOut(TaskOut):
    outcomes: list[str] = Field(description="Decisions possible now ([] when closed).")
    comment_required: list[str] = Field(description="Outcomes that need a comment.")
    fields: list[FieldDefOut] = Field(description="What this step fills in.")
    required_fields: list[str]
    return_stages: list[ReturnStageOut] = Field(
        description="With the outcome `return_to_stage`: the earlier stages you may "
        "send the document back to (give one as `to_stage`)."
    )


def task_out(task: Task) -> dict[str, Any]:
    process = task.process
    document = process.document
    return {
        "id": task.pk,
        "process_id": process.pk,
        "document": {
            "id": document.pk,
            "number": document.number,
            "title": document.title,
            "doc_type": document.doc_type.key,
            "status": document.status.key,
        },
        "initiator": user_ref(process.initiator),
        "round": task.round,
        "stage": task.stage_key,
        "step": task.step_key,
        "kind": task.kind,
        "state": task.state,
        "assignee": user_ref(task.assignee),
        "on_behalf_of": person_ref(task.on_behalf_of),
        "created_at": task.created_at,
        "due_at": task.due_at,
        "overdue": task.overdue,
        "outcome": task.outcome,
        "comment": task.comment,
        "decided_at": task.decided_at,
    }


def task_out_values(row: dict[str, Any]) -> dict[str, Any]:
    """``task_out`` of a task read as ``selectors.TASK_VALUES`` (the task list)."""
    return {
        "id": row["id"],
        "process_id": row["process_id"],
        "document": {
            "id": row["process__document_id"],
            "number": row["process__document__number"],
            "title": row["process__document__title"],
            "doc_type": row["process__document__doc_type__key"],
            "status": row["process__document__status__key"],
        },
        "initiator": user_ref(person_values(row, "process__initiator")),
        "round": row["round"],
        "stage": row["stage_key"],
        "step": row["step_key"],
        "kind": row["kind"],
        "state": row["state"],
        "assignee": user_ref(person_values(row, "assignee")),
        "on_behalf_of": person_ref(person_values(row, "on_behalf_of")),
        "created_at": row["created_at"],
        "due_at": row["due_at"],
        "overdue": row["overdue"],
        "outcome": row["outcome"],
        "comment": row["comment"],
        "decided_at": row["decided_at"],
    }


def task_detail_out(panel: DecisionPanel) -> dict[str, Any]:
    return {
        **task_out(panel.task),
        "outcomes": panel.outcomes,
        "comment_required": panel.comment_required,
        "fields": [field_def_out(f) for f in panel.fields],
        "required_fields": panel.required_fields,
        "return_stages": [
            {"key": key, "name": name} for key, name in panel.return_stages
        ],
    }


def task_counts_out(counts: TaskCounts) -> dict[str, int]:
    return {"mine": counts.mine, "overdue": counts.overdue, "started": counts.started}


class DecisionIn(In):
    outcome: str = Field(
        min_length=1,
        max_length=30,
        description="approve, approve_with_remarks, return, return_to_stage, "
        "reject, acknowledge, done, opinion: one the step allows.",
    )
    comment: str = Field("", max_length=5000)
    to_stage: str = Field(
        "",
        max_length=60,
        description="With `return_to_stage`: the key of the earlier stage to send "
        "the document back to, one of the task's `return_stages`.",
    )
    fields: dict[str, Any] = Field(
        default_factory=dict, description="Values the step fills in, by field key."
    )
    request_id: str = Field(
        min_length=1,
        max_length=100,
        description="Your id for this decision: repeating it is harmless.",
    )
    challenge_id: str = Field(
        "",
        max_length=20,
        description="For a step that needs a one-time code (sign, confirm: otp): "
        "the id from POST /tasks/{id}/challenge.",
    )
    code: str = Field("", max_length=20, description="The code that was sent.")


class ReassignIn(In):
    to_user: int = Field(ge=1, le=MAX_ID, description="The new assignee's user id.")
