"""Re-approval through the API: the initiator's choice on resubmit, the carried-over
approval with the versions it was given on, and withdrawing it."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.documents.models import DocumentFile
from sogla.documents.services import NewFile, file_add
from sogla.documents.uploads import bytes_upload
from sogla.workflow.models import Task, TaskState
from tests.conftest import MINIMAL_PDF
from tests.workflow.api.conftest import Flow
from tests.workflow.conftest import approve, publish, route, stage

pytestmark = pytest.mark.django_db

CHOOSING = route(
    stage("manager", approve("head", {"department_head": "initiator"})),
    stage("legal", approve("lawyer", {"user": "alpha-lawyer"})),
    key="choosing",
    on_return={"reask": "all", "initiator_may_choose_reask": True},
)


def returned(flow: Flow) -> int:
    """v1 approved by the head, returned by the lawyer, v2 uploaded: the process."""
    template = publish(flow.tenant, CHOOSING, key="choosing")
    initiator = flow.tenant.initiator
    file_add(
        actor=initiator,
        document=flow.document,
        new=NewFile(bytes_upload("files", "c.pdf", MINIMAL_PDF)),
    )
    started = flow.initiator.post(
        f"/documents/{flow.document.pk}/process", {"route": template.key}
    )
    assert started.status_code == 201, started.json()
    head_task = flow.open_task(flow.head)
    assert (
        flow.head_api.post(
            f"/tasks/{head_task.pk}/decision", {"outcome": "approve", "request_id": "a"}
        ).status_code
        == 200
    )
    lawyer_task = flow.open_task(flow.lawyer)
    answer = flow.lawyer_api.post(
        f"/tasks/{lawyer_task.pk}/decision",
        {"outcome": "return", "comment": "4.2", "request_id": "b"},
    )
    assert answer.status_code == 200, answer.json()
    file_add(
        actor=initiator,
        document=flow.document,
        new=NewFile(bytes_upload("files", "c.pdf", MINIMAL_PDF + b"%v2")),
        file=DocumentFile.objects.get(document=flow.document),
    )
    return int(started.json()["id"])


def carried(body: dict[str, Any]) -> dict[str, Any]:
    return next(
        t for s in body["stages"] for st in s["steps"] for t in st["tasks"]
        if t["carried_over"]
    )  # fmt: skip


def test_resubmit_with_a_chosen_mode_shows_what_the_approval_was_given_on(
    flow: Flow,
) -> None:
    process_id = returned(flow)
    path = f"/processes/{process_id}/resubmit"
    bad = flow.initiator.post(path, {"reask": "everyone"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "reask"
    answer = flow.initiator.post(
        path, {"comment": "v2", "reask": "not_approved_even_if_changed"}
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["round"], body["reask"]) == (2, "not_approved_even_if_changed")
    head = carried(body)
    original = Task.objects.get(process_id=process_id, round=1, assignee=flow.head)
    assert head["files_sha256"] == original.files_sha256
    assert head["given_on"]["changes"] == [
        {
            "file_id": DocumentFile.objects.get(document=flow.document).pk,
            "name": "c.pdf",
            "approved_version": 1,
            "current_version": 2,
        }
    ]
    # In the language of the request (the organisation's, Russian, here).
    assert head["given_on"]["note"] == "одобрено на версии 1; версия 2 отличается"
    assert head["can_withdraw"] is False  # the initiator reads it
    as_head = flow.head_api.get(f"/documents/{flow.document.pk}/process").json()
    assert carried(as_head)["can_withdraw"] is True


def test_withdraw_through_the_api(flow: Flow) -> None:
    process_id = returned(flow)
    flow.initiator.post(
        f"/processes/{process_id}/resubmit", {"reask": "not_approved_even_if_changed"}
    )
    task = Task.objects.get(
        process_id=process_id, round=2, state=TaskState.CARRIED_OVER
    )
    path = f"/tasks/{task.pk}/withdraw"
    blank = flow.head_api.post(path, {"comment": " "})
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "comment"
    assert flow.lawyer_api.post(path, {"comment": "not mine"}).status_code == 403
    answer = flow.head_api.post(path, {"comment": "v2 changes 4.2"})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "revision"  # the manager stage had finished
    again = flow.head_api.post(path, {"comment": "again"})
    assert again.status_code == 409
