"""Approval endpoints: a document's routes, process and history; resubmission,
cancellation and reminders; the inbox, one task, decisions, result files and
reassignment. (Route templates are ``workflow.api.routes``.)"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from sogla.api.auth import api_user as _user
from sogla.api.errors import found, no_such_person, people_or_refused, stale_cursor
from sogla.api.schemas import Id
from sogla.api.schemas import responses as _ok
from sogla.core.errors import NotFound
from sogla.core.request_meta import request_meta
from sogla.documents import selectors as document_selectors
from sogla.documents.access import access_document
from sogla.documents.schemas import FileVersionOut, file_version_out
from sogla.documents.uploads import check_upload
from sogla.orgs.models import User
from sogla.workflow import selectors, services
from sogla.workflow.confirmations import by_code, code_verify
from sogla.workflow.models import Channel
from sogla.workflow.schemas.processes import (
    CancelIn,
    HistoryEventOut,
    ParticipantsChangeIn,
    ProcessOut,
    ProcessStartIn,
    RemindOut,
    ResubmitIn,
    RoundChangesIn,
    RouteOptionOut,
    WithdrawIn,
    behalf_ids,
    history_event_out,
    process_out,
    route_option_out,
)
from sogla.workflow.schemas.tasks import (
    DecisionIn,
    ReassignIn,
    TaskDetailOut,
    TaskListIn,
    TaskListOut,
    TaskOut,
    task_counts_out,
    task_detail_out,
    task_out,
    task_out_values,
)
from sogla.workflow.screens.route_map import reasons_said
from sogla.workflow.screens.start import preview_reasons_said

router = Router()  # tagged by the parent router in workflow.api


def _process_out(user: User, document_id: int) -> dict[str, Any]:
    document = access_document(user, document_id)
    route_map = selectors.route_map(user=user, document=document)
    if route_map is None:
        raise NotFound()
    reasons_said(route_map)  # in the request's language, as the card says them
    return process_out(route_map)


# --- a document's routes, process and history -------------------------------------------


@router.get(
    "/documents/{document_id}/routes",
    response=_ok(list[RouteOptionOut]),
    operation_id="document_routes_list",
    url_name="document_routes_list",
    summary="Routes that fit the document, with who would approve in which order",
)
def document_routes_list(request: HttpRequest, document_id: Id) -> list[dict[str, Any]]:
    user = _user(request)
    document = access_document(user, document_id)
    templates = selectors.routes_for_document(user=user, document=document)
    return [
        route_option_out(
            preview,
            suggested=index == 0,
            stages=preview_reasons_said(preview),  # as the card's start section
        )
        for index, preview in enumerate(
            selectors.process_preview(user=user, document=document, template=t)
            for t in templates
        )
    ]


@router.post(
    "/documents/{document_id}/process",
    response=_ok(ProcessOut, 201, conflict=True),
    operation_id="process_start",
    url_name="process_start",
    summary="Send the document for approval along a route that fits",
)
def process_start(
    request: HttpRequest, document_id: Id, payload: ProcessStartIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    document = access_document(user, document_id)
    fitting = selectors.routes_for_document(user=user, document=document)
    template = found(
        next((t for t in fitting if t.key == payload.route), None),
        "route",
        _("This route is not available for the document."),
    )
    services.process_start(
        actor=user, document=document, template=template, meta=request_meta(request)
    )
    return Status(201, _process_out(user, document_id))


@router.get(
    "/documents/{document_id}/process",
    response=_ok(ProcessOut),
    operation_id="process_get",
    url_name="process_get",
    summary="The document's approval: status, round and the route map",
    description="The active process, else the latest one; 404 before the first "
    "start. Stages in order, each step with its assignees, states (colours), "
    "since when each open task waits, and who holds the document up.",
)
def process_get(request: HttpRequest, document_id: Id) -> dict[str, Any]:
    return _process_out(_user(request), document_id)


@router.get(
    "/documents/{document_id}/history",
    response=_ok(list[HistoryEventOut]),
    operation_id="document_history",
    url_name="document_history",
    summary="The document's audit events, oldest first",
)
def document_history(request: HttpRequest, document_id: Id) -> list[dict[str, Any]]:
    user = _user(request)
    document = access_document(user, document_id)
    events = document_selectors.document_history(user=user, document=document)
    people = document_selectors.users_by_id(user, behalf_ids(events))
    return [history_event_out(e, people) for e in events]


# --- processes ---------------------------------------------------------------------------


def _round_edits(
    user: User, changes: RoundChangesIn | None
) -> services.RoundEdits | None:
    if changes is None:
        return None
    ids = [
        i for group in (changes.add, changes.remove) for v in group.values() for i in v
    ]
    people = selectors.colleagues_by_id(user=user, ids=ids)
    people_or_refused(
        people,
        {
            f"changes.{part}.{key}": values
            for part, group in (("add", changes.add), ("remove", changes.remove))
            for key, values in group.items()
        },
    )
    return services.RoundEdits(
        add={k: [people[i] for i in v] for k, v in changes.add.items()},
        remove={k: [people[i] for i in v] for k, v in changes.remove.items()},
        due=dict(changes.due),
    )


@router.post(
    "/processes/{process_id}/resubmit",
    response=_ok(ProcessOut, conflict=True),
    operation_id="process_resubmit",
    url_name="process_resubmit",
    summary="Send a returned document again (the initiator): a new round starts",
)
def process_resubmit(
    request: HttpRequest, process_id: Id, payload: ResubmitIn
) -> dict[str, Any]:
    user = _user(request)
    process = selectors.process_get(user=user, process_id=process_id)
    services.process_resubmit(
        actor=user,
        process=process.pk,
        comment=payload.comment,
        changes=_round_edits(user, payload.changes),
        reask=payload.reask,
        meta=request_meta(request),
    )
    return _process_out(user, process.document_id)


@router.post(
    "/processes/{process_id}/cancel",
    response=_ok(ProcessOut, conflict=True),
    operation_id="process_cancel",
    url_name="process_cancel",
    summary="Stop the approval (the initiator or an administrator); a reason is required",
)
def process_cancel(
    request: HttpRequest, process_id: Id, payload: CancelIn
) -> dict[str, Any]:
    user = _user(request)
    process = selectors.process_get(user=user, process_id=process_id)
    services.process_cancel(
        actor=user,
        process=process.pk,
        reason=payload.reason,
        meta=request_meta(request),
    )
    return _process_out(user, process.document_id)


@router.post(
    "/processes/{process_id}/participants",
    response=_ok(ProcessOut, conflict=True),
    operation_id="process_participants_change",
    url_name="process_participants_change",
    summary="Add, remove or reschedule the people of a step while the round runs",
    description=(
        "The route's owner or an administrator (the initiator too where the route "
        "sets `initiator_may_edit_running`). Added people get a task and a notice; "
        "removed ones have their pending task closed and are told; a removal that "
        "would leave the step's quorum out of reach is refused (409, "
        "`quorum_unreachable`). On a stage still to come the change is applied "
        "when it opens. Answers the process."
    ),
)
def process_participants_change(
    request: HttpRequest, process_id: Id, payload: ParticipantsChangeIn
) -> dict[str, Any]:
    user = _user(request)
    process = selectors.process_get(user=user, process_id=process_id)
    ids = [*payload.add, *payload.remove, *payload.due_for]
    people = selectors.colleagues_by_id(user=user, ids=ids)
    people_or_refused(
        people,
        {"add": payload.add, "remove": payload.remove, "due_for": payload.due_for},
    )
    services.step_edit(
        actor=user,
        process=process.pk,
        stage=payload.stage,
        step=payload.step,
        add=[people[i] for i in payload.add],
        remove=[people[i] for i in payload.remove],
        due_at=payload.due_at,
        due_for=[people[i] for i in payload.due_for],
        meta=request_meta(request),
    )
    return _process_out(user, process.document_id)


@router.post(
    "/processes/{process_id}/remind",
    response=_ok(RemindOut, conflict=True),
    operation_id="process_remind",
    url_name="process_remind",
    summary="Remind the people the approval waits on (the initiator; once a day each)",
)
def process_remind(request: HttpRequest, process_id: Id) -> dict[str, Any]:
    user = _user(request)
    process = selectors.process_get(user=user, process_id=process_id)
    sent = services.process_remind(
        actor=user, process=process.pk, meta=request_meta(request)
    )
    return {"reminded": sent}


# --- tasks -------------------------------------------------------------------------------


@router.get(
    "/tasks",
    response=_ok(TaskListOut),
    operation_id="tasks_list",
    url_name="tasks_list",
    summary="My inbox: open tasks, tasks in approvals I started, or done (cursor pages)",
)
def tasks_list(request: HttpRequest, filters: Query[TaskListIn]) -> dict[str, Any]:
    user = _user(request)
    with stale_cursor():
        page = selectors.task_values_for_user(
            user=user,
            tab=filters.tab,
            cursor=filters.cursor,
            limit=filters.limit,
        )
    return {
        "items": [task_out_values(t) for t in page.items],
        "next_cursor": page.next_cursor,
        "counts": task_counts_out(selectors.task_counts_for_user(user=user)),
    }


@router.get(
    "/tasks/{task_id}",
    response=_ok(TaskDetailOut),
    operation_id="task_get",
    url_name="task_get",
    summary="One of my tasks with the decisions and fields its step allows",
)
def task_get(request: HttpRequest, task_id: Id) -> dict[str, Any]:
    panel = selectors.task_get_for_decision(user=_user(request), task_id=task_id)
    return task_detail_out(panel)


@router.post(
    "/tasks/{task_id}/decision",
    response=_ok(TaskOut, conflict=True),
    operation_id="task_decide",
    url_name="task_decide",
    summary="Decide my task; repeating the same request_id returns the same result",
    description="A decision on a task that is no longer open answers 409 with the "
    "code `task_closed` and a message naming who decided.",
)
def task_decide(
    request: HttpRequest, task_id: Id, payload: DecisionIn
) -> dict[str, Any]:
    user = _user(request)
    confirmation = None
    if payload.challenge_id:
        # the code is checked (and counted) before the decision's transaction
        panel = selectors.task_get_for_decision(user=user, task_id=task_id)
        code_verify(panel.task, f"user:{user.pk}", payload.challenge_id, payload.code)
        confirmation = by_code(payload.challenge_id)
    task = services.task_decide(
        actor=user,
        task_id=task_id,
        outcome=payload.outcome,
        comment=payload.comment,
        request_id=payload.request_id,
        fields=payload.fields,
        channel=Channel.API,
        confirmation=confirmation,
        meta=request_meta(request),
        to_stage=payload.to_stage,
    )
    # The row as the service wrote it: only the names the answer shows are read.
    return task_out(selectors.task_with_references(user=user, task=task))


@router.post(
    "/tasks/{task_id}/files",
    response=_ok(FileVersionOut, 201, conflict=True),
    operation_id="task_file_upload",
    url_name="task_file_upload",
    summary="Attach a result file to my open task (multipart/form-data)",
    description="For task and request_info steps while the approval runs (S3's "
    "act): `field_key` is one of the step's fields, or empty for a general file. "
    "Files of a document on approval cannot be changed otherwise.",
)
def task_file_upload(
    request: HttpRequest,
    task_id: Id,
    file: File[UploadedFile],
    field_key: Form[str] = "",
) -> Status[dict[str, Any]]:
    checked = check_upload("file", file.name or "", file, file.size or 0)
    version = services.task_file_add(
        actor=_user(request),
        task_id=task_id,
        upload=checked,
        field_key=field_key.strip(),
        meta=request_meta(request),
    )
    return Status(201, file_version_out(version))


@router.post(
    "/tasks/{task_id}/withdraw",
    response=_ok(ProcessOut, conflict=True),
    operation_id="task_withdraw",
    url_name="task_withdraw",
    summary="Withdraw my approval carried over to the running round",
    description="Only for a task with `can_withdraw` (a carried-over approval of "
    "the reader's, while the round runs). If its stage still runs, the person gets "
    "an open task again; if the stage has finished, the document goes back to the "
    "initiator with the comment. Answers the process.",
)
def task_withdraw(
    request: HttpRequest, task_id: Id, payload: WithdrawIn
) -> dict[str, Any]:
    user = _user(request)
    process = services.task_withdraw(
        actor=user,
        task_id=task_id,
        comment=payload.comment,
        meta=request_meta(request),
    )
    return _process_out(user, process.document_id)


@router.post(
    "/tasks/{task_id}/reassign",
    response=_ok(TaskOut, conflict=True),
    operation_id="task_reassign",
    url_name="task_reassign",
    summary="Give an open task to someone else (the route owner or an administrator)",
    description="Answers the new task, which belongs to the new assignee.",
)
def task_reassign(
    request: HttpRequest, task_id: Id, payload: ReassignIn
) -> dict[str, Any]:
    user = _user(request)
    selectors.task_for_manager(user=user, task_id=task_id)  # else 404 first
    people = selectors.colleagues_by_id(user=user, ids=[payload.to_user])
    to_user = found(people.get(payload.to_user), "to_user", no_such_person())
    task = services.task_reassign(
        actor=user, task_id=task_id, to_user=to_user, meta=request_meta(request)
    )
    return task_out(selectors.task_for_manager(user=user, task_id=task.pk))
