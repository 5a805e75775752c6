"""API schemas of approvals: routes, processes and their route maps, tasks, history.

Input schemas forbid unknown keys (422 ``unknown_field``). Output is built by the
``*_out`` functions below, so only the listed attributes leave the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import get_language
from ninja import Field, Schema

from sogla.api.schemas import MAX_ID, InSchema
from sogla.core.models import AuditEvent
from sogla.documents.schemas import FieldDefOut, field_def_out
from sogla.engine.definition import Problem
from sogla.engine.run import PreviewStage
from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow.models import Process, RouteTemplate, RouteVersion, Task
from sogla.workflow.selectors import (
    DecisionPanel,
    MapTask,
    ProcessPreview,
    RouteMap,
    RouteTemplateDetail,
    TaskCounts,
)

In = InSchema
StepKey = str  # "stage.step"


class RefOut(Schema):
    id: int
    name: str


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.short_name}


def _text(text: Any) -> str:
    return str(text.get("en" if get_language() == "en" else "ru"))


# --- routes that fit a document, with a preview ------------------------------------------


class PersonOut(Schema):
    kind: str = Field(description="user or guest")
    user: RefOut | None
    email: str = Field(description="The guest's e-mail address ('' for a user).")
    on_behalf_of: RefOut | None = Field(description="Set when a delegate stands in.")


class PreviewStepOut(Schema):
    key: str
    name: str
    kind: str
    runs: bool
    reason: str = Field(
        description="Why the step is skipped or nobody can be assigned."
    )
    unresolved: bool
    quorum: str
    tentative: bool = Field(
        description="Its condition reads answers given later in the route."
    )
    participants: list[PersonOut]


class PreviewStageOut(Schema):
    key: str
    name: str
    runs: bool
    reason: str
    tentative: bool
    steps: list[PreviewStepOut]


class RouteOptionOut(Schema):
    key: str
    name: str
    version: int
    suggested: bool = Field(description="The first route that fits is suggested.")
    preview: list[PreviewStageOut] = Field(
        description="Who would approve in which order for the current values."
    )


def _person_out(person: Participant, users: dict[int, User]) -> dict[str, Any]:
    def user(who: Participant | None) -> dict[str, Any] | None:
        if who is None or who.kind != "user":
            return None
        found = users.get(int(who.id))
        return user_ref(found) if found else {"id": int(who.id), "name": ""}

    return {
        "kind": person.kind,
        "user": user(person),
        "email": person.id if person.kind == "guest" else "",
        "on_behalf_of": user(person.on_behalf_of),
    }


def preview_out(
    stages: list[PreviewStage], users: dict[int, User]
) -> list[dict[str, Any]]:
    return [
        {
            "key": stage.key,
            "name": _text(stage.name) or stage.key,
            "runs": stage.runs,
            "reason": stage.reason,
            "tentative": stage.tentative,
            "steps": [
                {
                    "key": step.key,
                    "name": _text(step.name) or step.key,
                    "kind": step.kind,
                    "runs": step.runs,
                    "reason": step.reason,
                    "unresolved": step.unresolved,
                    "quorum": str(step.quorum),
                    "tentative": step.tentative,
                    "participants": [_person_out(p, users) for p in step.participants],
                }
                for step in stage.steps
            ],
        }
        for stage in stages
    ]


def route_option_out(preview: ProcessPreview, *, suggested: bool) -> dict[str, Any]:
    return {
        "key": preview.template.key,
        "name": preview.template.name,
        "version": preview.version.number,
        "suggested": suggested,
        "preview": preview_out(preview.stages, preview.users),
    }


# --- the process and its route map -----------------------------------------------------

Colour = Literal[
    "not_started",
    "waiting",
    "overdue",
    "returned",
    "rejected",
    "done",
    "skipped",
    "carried_over",
]


class ProcessStartIn(In):
    route: str = Field(
        min_length=1, max_length=60, description="The key of a route that fits."
    )


class MapTaskOut(Schema):
    id: int
    kind: str
    state: str = Field(
        description="open, done, closed_by_quorum, cancelled or carried_over"
    )
    colour: Colour
    assignee: RefOut | None
    guest_email: str
    on_behalf_of: RefOut | None
    mine: bool
    due_at: datetime | None
    waiting_since: datetime | None = Field(description="Set while the task is open.")
    outcome: str
    comment: str
    decided_at: datetime | None
    decided_by: RefOut | None
    carried_over: bool


class MapStepOut(Schema):
    key: str
    name: str
    kind: str
    colour: Colour
    reason: str
    unresolved: bool = Field(description="Nobody could be assigned: the owner acts.")
    quorum: str
    assignee: dict[str, Any] = Field(description="The route's rule for the assignee.")
    tasks: list[MapTaskOut]


class MapStageOut(Schema):
    key: str
    name: str
    index: int
    colour: Colour
    reason: str
    current: bool
    steps: list[MapStepOut]


class RouteRefOut(Schema):
    key: str
    name: str
    version: int


class ProcessOut(Schema):
    id: int
    document_id: int
    status: str = Field(description="running, revision, approved, rejected, cancelled")
    round: int
    route: RouteRefOut
    initiator: RefOut
    started_at: datetime
    finished_at: datetime | None
    stages: list[MapStageOut]
    waiting: list[MapTaskOut] = Field(
        description="Open tasks: who holds the document up, and since when."
    )
    revision_task: MapTaskOut | None = Field(
        description="The initiator's task while the document is returned."
    )


def map_task_out(item: MapTask) -> dict[str, Any]:
    task = item.task
    return {
        "id": task.pk,
        "kind": task.kind,
        "state": task.state,
        "colour": item.colour,
        "assignee": user_ref(item.person),
        "guest_email": item.guest_email,
        "on_behalf_of": user_ref(item.on_behalf_of),
        "mine": item.mine,
        "due_at": task.due_at,
        "waiting_since": item.waiting_since,
        "outcome": task.outcome,
        "comment": task.comment,
        "decided_at": task.decided_at,
        "decided_by": user_ref(task.decided_by),
        "carried_over": item.carried_over,
    }


def process_out(route_map: RouteMap) -> dict[str, Any]:
    process: Process = route_map.process
    version: RouteVersion = process.route_version
    template: RouteTemplate = version.template
    return {
        "id": process.pk,
        "document_id": process.document_id,
        "status": process.status,
        "round": route_map.round,
        "route": {
            "key": template.key,
            "name": template.name,
            "version": version.number,
        },
        "initiator": user_ref(process.initiator),
        "started_at": process.started_at,
        "finished_at": process.finished_at,
        "stages": [
            {
                "key": stage.key,
                "name": stage.name,
                "index": stage.index,
                "colour": stage.colour,
                "reason": stage.reason,
                "current": stage.current,
                "steps": [
                    {
                        "key": step.key,
                        "name": step.name,
                        "kind": step.kind,
                        "colour": step.colour,
                        "reason": step.reason,
                        "unresolved": step.unresolved,
                        "quorum": step.quorum,
                        "assignee": step.assignee,
                        "tasks": [map_task_out(t) for t in step.tasks],
                    }
                    for step in stage.steps
                ],
            }
            for stage in route_map.stages
        ],
        "waiting": [map_task_out(t) for t in route_map.waiting],
        "revision_task": map_task_out(route_map.revision_task)
        if route_map.revision_task
        else None,
    }


class RoundChangesIn(In):
    add: dict[StepKey, list[int]] = Field(
        default_factory=dict,
        description='People to add by "stage.step" (user ids), if the route allows.',
    )
    remove: dict[StepKey, list[int]] = Field(
        default_factory=dict, description='People to remove by "stage.step".'
    )
    due: dict[StepKey, datetime] = Field(
        default_factory=dict, description='New due times by "stage.step".'
    )


class ResubmitIn(In):
    comment: str = Field("", max_length=5000)
    changes: RoundChangesIn | None = None


class CancelIn(In):
    reason: str = Field(max_length=2000, description="Required: why it is cancelled.")


# --- history -------------------------------------------------------------------------------


class HistoryEventOut(Schema):
    seq: int = Field(
        description="Position in the document's audit chain (in the organisation's "
        "for events written before documents had chains of their own)."
    )
    at: datetime
    verb: str = Field(description="e.g. process.started, task.decided")
    actor: RefOut | None
    actor_label: str
    target_type: str
    target_id: str
    payload: dict[str, Any]


def history_event_out(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.created_at,
        "verb": event.verb,
        "actor": user_ref(event.actor),
        "actor_label": event.actor_label,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "payload": event.payload,
    }


# --- tasks -----------------------------------------------------------------------------------


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
    on_behalf_of: RefOut | None
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


class TaskDetailOut(TaskOut):
    outcomes: list[str] = Field(description="Decisions possible now ([] when closed).")
    comment_required: list[str] = Field(description="Outcomes that need a comment.")
    fields: list[FieldDefOut] = Field(description="What this step fills in.")
    required_fields: list[str]


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
        "on_behalf_of": user_ref(task.on_behalf_of),
        "created_at": task.created_at,
        "due_at": task.due_at,
        "overdue": task.overdue,
        "outcome": task.outcome,
        "comment": task.comment,
        "decided_at": task.decided_at,
    }


def task_detail_out(panel: DecisionPanel) -> dict[str, Any]:
    return {
        **task_out(panel.task),
        "outcomes": panel.outcomes,
        "comment_required": panel.comment_required,
        "fields": [field_def_out(f) for f in panel.fields],
        "required_fields": panel.required_fields,
    }


def task_counts_out(counts: TaskCounts) -> dict[str, int]:
    return {"mine": counts.mine, "overdue": counts.overdue, "started": counts.started}


class DecisionIn(In):
    outcome: str = Field(
        min_length=1,
        max_length=30,
        description="approve, approve_with_remarks, return, reject, acknowledge, "
        "done, opinion: one the step allows.",
    )
    comment: str = Field("", max_length=5000)
    fields: dict[str, Any] = Field(
        default_factory=dict, description="Values the step fills in, by field key."
    )
    request_id: str = Field(
        min_length=1,
        max_length=100,
        description="Your id for this decision: repeating it is harmless.",
    )


class ReassignIn(In):
    to_user: int = Field(ge=1, le=MAX_ID, description="The new assignee's user id.")


# --- route templates (administrators) ---------------------------------------------------


class ProblemOut(Schema):
    path: str
    message: str


class VersionOut(Schema):
    number: int
    status: str
    created_at: datetime
    published_at: datetime | None


class RouteTemplateOut(Schema):
    key: str
    name: str
    name_ru: str
    name_en: str
    doc_type: str
    owner: RefOut | None
    suggest_when: dict[str, Any] | None
    order: int
    is_active: bool
    draft: VersionOut | None
    published: VersionOut | None = Field(description="The latest published version.")


class RouteDraftOut(VersionOut):
    definition: dict[str, Any]
    problems: list[ProblemOut] = Field(
        description="What stops publishing this draft, each with its path."
    )


class RoutePublishedOut(VersionOut):
    definition: dict[str, Any]


class RouteTemplateDetailOut(RouteTemplateOut):
    draft: RouteDraftOut | None
    published: RoutePublishedOut | None


class RouteTemplateIn(In):
    key: str = Field(min_length=1, max_length=60)
    doc_type: str = Field(min_length=1, max_length=60, description="A type key.")
    name_ru: str = Field("", max_length=200)
    name_en: str = Field("", max_length=200)
    owner: int | None = Field(None, ge=1, le=MAX_ID, description="A user id.")
    suggest_when: dict[str, Any] | None = Field(
        None, description="A condition on the document's values; null means always."
    )
    order: int = Field(0, ge=0, le=100000)
    definition: dict[str, Any] = Field(description="The first draft's definition.")


class RouteDraftIn(In):
    definition: dict[str, Any]


def _version_out(version: RouteVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "number": version.number,
        "status": version.status,
        "created_at": version.created_at,
        "published_at": version.published_at,
    }


def route_template_out(detail: RouteTemplateDetail) -> dict[str, Any]:
    template = detail.template
    return {
        "key": template.key,
        "name": template.name,
        "name_ru": template.name_ru,
        "name_en": template.name_en,
        "doc_type": template.doc_type.key,
        "owner": user_ref(template.owner),
        "suggest_when": template.suggest_when,
        "order": template.order,
        "is_active": template.is_active,
        "draft": _version_out(detail.draft),
        "published": _version_out(detail.published),
    }


def route_template_detail_out(
    detail: RouteTemplateDetail, problems: list[Problem]
) -> dict[str, Any]:
    data = route_template_out(detail)
    if detail.draft is not None:
        data["draft"] = {
            **(data["draft"] or {}),
            "definition": detail.draft.definition,
            "problems": [{"path": p.path, "message": p.message} for p in problems],
        }
    if detail.published is not None:
        data["published"] = {
            **(data["published"] or {}),
            "definition": detail.published.definition,
        }
    return data


class RemindOut(Schema):
    reminded: int = Field(description="people reminded now (each at most once a day)")
