"""API schemas of a document's approval: the routes that fit it with a preview, the
process with its route map, resubmission and cancellation, and its history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from ninja import Field, Schema

from sogla.api.schemas import NON_BLANK, Id, display_name
from sogla.core.masking import mask_email
from sogla.engine.run import PreviewStage
from sogla.engine.states import Participant
from sogla.orgs.models import User
from sogla.workflow.definitions import definition_for
from sogla.workflow.labels import Colour, name_in_language
from sogla.workflow.models import Process, RouteTemplate, RouteVersion
from sogla.workflow.schemas.common import (
    In,
    PersonRefOut,
    RefOut,
    StepKey,
    person_ref,
    user_ref,
)
from sogla.workflow.selectors import MapTask, ProcessPreview, RouteMap
from sogla.workflow.selectors.versions import GivenOn

# --- routes that fit a document, with a preview ------------------------------------------


class ParticipantOut(Schema):
    kind: str = Field(description="user or guest")
    user: RefOut | None
    email: str = Field(description="The guest's e-mail address ('' for a user).")
    on_behalf_of: PersonRefOut | None = Field(
        description="Whom a delegate stands in for."
    )


class PreviewStepOut(Schema):
    key: str
    name: str
    kind: str
    runs: bool
    reason: str = Field(
        description="Why the step would be skipped or nobody can be assigned, in "
        "the request's language (fields, departments and roles by their names)."
    )
    unresolved: bool
    quorum: str
    tentative: bool = Field(
        description="Its condition reads answers given later in the route."
    )
    participants: list[ParticipantOut]


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

    behalf = person.on_behalf_of
    seat = users.get(int(behalf.id)) if behalf and behalf.kind == "user" else None
    return {
        "kind": person.kind,
        "user": user(person),
        "email": person.id if person.kind == "guest" else "",
        "on_behalf_of": person_ref(seat),
    }


def preview_out(
    stages: list[PreviewStage], users: dict[int, User]
) -> list[dict[str, Any]]:
    return [
        {
            "key": stage.key,
            "name": name_in_language(stage.name) or stage.key,
            "runs": stage.runs,
            "reason": stage.reason,
            "tentative": stage.tentative,
            "steps": [
                {
                    "key": step.key,
                    "name": name_in_language(step.name) or step.key,
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


def route_option_out(
    preview: ProcessPreview,
    *,
    suggested: bool,
    stages: list[PreviewStage] | None = None,
) -> dict[str, Any]:
    """``stages``: the preview's stages with their reasons said in words (default:
    as the engine gives them)."""
    return {
        "key": preview.template.key,
        "name": preview.template.name,
        "version": preview.version.number,
        "suggested": suggested,
        "preview": preview_out(
            preview.stages if stages is None else stages, preview.users
        ),
    }


# --- the process and its route map -----------------------------------------------------


class ProcessStartIn(In):
    route: str = Field(
        min_length=1, max_length=60, description="The key of a route that fits."
    )


class VersionChangeOut(Schema):
    file_id: int
    name: str
    approved_version: int | None = Field(
        description="The version the approval was given on; null: the file was "
        "added since."
    )
    current_version: int | None = Field(
        description="The version now; null: the file was removed since."
    )


class GivenOnOut(Schema):
    note: str = Field(
        description='In the request\'s language, e.g. "approved v1; v2 differs".'
    )
    compare_url: str = Field(
        description="The comparison of the two versions of the first changed file "
        "(a page of the web app); empty when no file changed in place."
    )
    changes: list[VersionChangeOut]


class MapTaskOut(Schema):
    id: int
    kind: str
    state: str = Field(
        description="open, done, closed_by_quorum, cancelled or carried_over"
    )
    colour: Colour
    assignee: RefOut | None
    guest_email: str
    on_behalf_of: PersonRefOut | None = Field(
        description="Whom a delegate stands in for."
    )
    mine: bool
    due_at: datetime | None
    waiting_since: datetime | None = Field(description="Set while the task is open.")
    outcome: str
    comment: str
    decided_at: datetime | None
    decided_by: RefOut | None
    carried_over: bool
    files_sha256: str = Field(
        description="SHA-256 over the files the decision was made on (for a "
        "carried-over approval: the files of the round it was given in)."
    )
    given_on: GivenOnOut | None = Field(
        description="A carried-over approval given on files changed since: which "
        "versions it was given on and which differ now; null otherwise."
    )
    can_withdraw: bool = Field(
        description="The reader may withdraw this carried-over approval "
        "(`POST /tasks/{id}/withdraw`) while the round runs."
    )


class MapStepOut(Schema):
    key: str
    name: str
    kind: str
    colour: Colour
    reason: str = Field(
        description="Why the step is or will be skipped, or why nobody could be "
        "assigned, in the request's language (fields, departments and roles by "
        "their names); empty when there is nothing to say."
    )
    unresolved: bool = Field(description="Nobody could be assigned: the owner acts.")
    quorum: str
    assignee: dict[str, Any] = Field(description="The route's rule for the assignee.")
    tasks: list[MapTaskOut]


class MapStageOut(Schema):
    key: str
    name: str
    index: int
    colour: Colour
    reason: str = Field(
        description="Why the stage is or will be skipped, in the request's "
        "language; empty when there is nothing to say."
    )
    current: bool
    steps: list[MapStepOut]


class RoundTaskOut(MapTaskOut):
    stage: str = Field(description="The stage's key.")
    step: str = Field(description="The step's key.")
    step_name: str = Field(description='"Stage · Step" in words.')


class RoundOut(Schema):
    round: int
    tasks: list[RoundTaskOut] = Field(
        description="Its tasks in order: who decided what, with their comments "
        "(`outcome` empty for tasks the round closed undecided)."
    )


class RouteRefOut(Schema):
    key: str
    name: str
    version: int


class ProcessOut(Schema):
    id: int
    document_id: int
    status: str = Field(description="running, revision, approved, rejected, cancelled")
    round: int
    reask: str = Field(
        description="Whom this round asked again after a return: all, "
        "not_approved_even_if_changed or not_approved (the initiator's choice "
        "when resubmitting, else the route's `on_return.reask`)."
    )
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
    earlier_rounds: list[RoundOut] = Field(
        description="The rounds before the current one, oldest first, with their "
        "decisions; they no longer count unless carried over (`carried_over`)."
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
        "on_behalf_of": person_ref(item.on_behalf_of),
        "mine": item.mine,
        "due_at": task.due_at,
        "waiting_since": item.waiting_since,
        "outcome": task.outcome,
        "comment": task.comment,
        "decided_at": task.decided_at,
        "decided_by": user_ref(task.decided_by),
        "carried_over": item.carried_over,
        "files_sha256": task.files_sha256,
        "given_on": _given_on_out(item.given_on),
        "can_withdraw": item.can_withdraw,
    }


def _given_on_out(given: GivenOn | None) -> dict[str, Any] | None:
    if given is None:
        return None
    return {
        "note": given.note,
        "compare_url": given.compare_url,
        "changes": [
            {
                "file_id": c.file_id,
                "name": c.name,
                "approved_version": c.old.version if c.old else None,
                "current_version": c.new.version if c.new else None,
            }
            for c in given.changes
        ],
    }


def rounds_out(route_map: RouteMap) -> list[dict[str, Any]]:
    names = route_map.step_names()
    return [
        {
            "round": earlier.round,
            "tasks": [
                {
                    **map_task_out(item),
                    "stage": item.task.stage_key,
                    "step": item.task.step_key,
                    "step_name": names.get(
                        (item.task.stage_key, item.task.step_key), item.task.step_key
                    ),
                }
                for item in earlier.tasks
            ],
        }
        for earlier in route_map.earlier_rounds
    ]


def process_out(route_map: RouteMap) -> dict[str, Any]:
    process: Process = route_map.process
    version: RouteVersion = process.route_version
    template: RouteTemplate = version.template
    return {
        "id": process.pk,
        "document_id": process.document_id,
        "status": process.status,
        "round": route_map.round,
        "reask": process.reask or _route_reask(version),
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
        "earlier_rounds": rounds_out(route_map),
    }


class RoundChangesIn(In):
    add: dict[StepKey, list[Id]] = Field(
        default_factory=dict,
        description='People to add by "stage.step" (user ids), if the route allows.',
    )
    remove: dict[StepKey, list[Id]] = Field(
        default_factory=dict, description='People to remove by "stage.step".'
    )
    due: dict[StepKey, datetime] = Field(
        default_factory=dict, description='New due times by "stage.step".'
    )


class ResubmitIn(In):
    comment: str = Field("", max_length=5000)
    changes: RoundChangesIn | None = None
    reask: Literal["", "all", "not_approved_even_if_changed", "not_approved"] = Field(
        "",
        description="Whom the new round asks again: everyone (`all`), only those "
        "who had not approved, carrying earlier approvals over even if the files "
        "changed (`not_approved_even_if_changed`), or carrying them over only if "
        "the files are unchanged (`not_approved`). Empty: the route's choice; "
        "another needs the route's `on_return.initiator_may_choose_reask`.",
    )


class WithdrawIn(In):
    comment: str = Field(
        max_length=5000,
        description="Required: why the approval is withdrawn (the initiator reads "
        "it; if the stage has finished, the document goes back with it).",
        json_schema_extra=NON_BLANK,
    )


class ParticipantsChangeIn(In):
    """Change one step's people while the round runs (the route's owner, an
    administrator, or the initiator where the route says
    ``initiator_may_edit_running``). Give at least one of ``add``, ``remove``,
    ``due_at``. A step of a stage still to come keeps the change until it opens."""

    stage: str = Field(max_length=60, description="The stage key.")
    step: str = Field(max_length=60, description="The step key.")
    add: list[Id] = Field(
        default_factory=list, max_length=50, description="Users to ask (ids)."
    )
    remove: list[Id] = Field(
        default_factory=list,
        max_length=50,
        description="Users with a pending task to take off the step (ids).",
    )
    due_at: datetime | None = Field(
        None,
        description="A new deadline (with a time zone) for the pending tasks of "
        "``due_for``, or of the whole step when ``due_for`` is empty.",
    )
    due_for: list[Id] = Field(
        default_factory=list,
        max_length=50,
        description="Whose pending task gets ``due_at`` (ids); empty: everyone's.",
    )


class CancelIn(In):
    reason: str = Field(
        max_length=2000,
        description="Required: why it is cancelled.",
        json_schema_extra=NON_BLANK,
    )


# --- history -------------------------------------------------------------------------------


class HistoryEventOut(Schema):
    seq: int = Field(
        description="Position in the document's audit chain (in the organisation's "
        "for events written before documents had chains of their own)."
    )
    at: datetime
    verb: str = Field(description="e.g. process.started, task.decided")
    actor: RefOut | None
    actor_label: str = Field(
        description="Who acted, in words: the person's full name; a guest's masked "
        "e-mail address (m***@example.com); `system` for the route and the worker."
    )
    target_type: str
    target_id: str
    payload: dict[str, Any] = Field(
        description="The event's details; in `task.decided`, `on_behalf_of` is the "
        "person object `{id, username, name}` a delegate decided for, or null."
    )


class AuditedEvent(Protocol):
    """What the answer reads of an audit event (``documents.selectors.document_history``
    gives the rows)."""

    @property
    def seq(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def verb(self) -> str: ...
    @property
    def actor(self) -> User | None: ...
    @property
    def actor_label(self) -> str: ...
    @property
    def target_type(self) -> str: ...
    @property
    def target_id(self) -> str: ...
    @property
    def payload(self) -> Any: ...


def behalf_ids(events: Iterable[AuditedEvent]) -> set[int]:
    """The ids of the people that events' ``on_behalf_of`` name (stored as text)."""
    found = set()
    for event in events:
        value = (event.payload or {}).get("on_behalf_of")
        if isinstance(value, str | int) and str(value).isdigit():
            found.add(int(value))
    return found


def actor_words(event: AuditedEvent) -> str:
    """The actor's full name; a guest's masked address; else the stored label."""
    if event.actor is not None:
        return display_name(event.actor)
    label = event.actor_label
    address = label.removeprefix("guest:")
    if "@" in address:
        return mask_email(address)
    return label


def history_event_out(
    event: AuditedEvent, people: Mapping[int, User] | None = None
) -> dict[str, Any]:
    """One event; ``people`` by id (``behalf_ids``) name ``on_behalf_of``."""
    payload = dict(event.payload or {})
    if "on_behalf_of" in payload:
        value = payload["on_behalf_of"]
        seat = (people or {}).get(int(value)) if str(value).isdigit() else None
        payload["on_behalf_of"] = person_ref(seat)
    return {
        "seq": event.seq,
        "at": event.created_at,
        "verb": event.verb,
        "actor": user_ref(event.actor),
        "actor_label": actor_words(event),
        "target_type": event.target_type,
        "target_id": event.target_id,
        "payload": payload,
    }


class RemindOut(Schema):
    reminded: int = Field(description="people reminded now (each at most once a day)")


def _route_reask(version: RouteVersion) -> str:
    try:
        return definition_for(version).on_return.reask
    except (ValueError, KeyError, TypeError):  # a stored version that no longer reads
        return "all"
