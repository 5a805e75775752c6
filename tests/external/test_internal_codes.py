"""Internal approvers confirm sign/otp decisions with a code too: web and API;
the initiator re-sends and revokes a guest's link from the card."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.test import Client

from sogla.external.models import GuestLink
from sogla.workflow.models import Channel, ConfirmationMethod, Task, TaskState
from tests.api.conftest import token_client
from tests.external.conftest import (
    GUEST,
    deliver,
    found,
    links_in,
    open_link,
    to_guest_stage,
)
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = pytest.mark.django_db


def _signing(tenant, staff) -> Task:
    step = approve("ceo", {"user": staff["ceo"].username})
    step["kind"] = "sign"
    template = publish(tenant, route(stage("sign", step)))
    process = start(tenant, template, make_document(tenant))
    return Task.objects.get(
        process=process, assignee=staff["ceo"], state=TaskState.OPEN
    )


def _code() -> str:
    return found(r"\b(\d{6})\b", mail.outbox[-1].body)


def test_a_sign_step_refuses_a_decision_without_a_code(tenant_a, staff) -> None:
    task = _signing(tenant_a, staff)
    client = token_client(staff["ceo"])
    answer = client.post(
        f"/tasks/{task.pk}/decision",
        {"outcome": "approve", "request_id": uuid.uuid4().hex},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "code_required"
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN


def test_api_challenge_then_decide_with_the_code(tenant_a, staff) -> None:
    task = _signing(tenant_a, staff)
    client = token_client(staff["ceo"])
    sent = client.post(f"/tasks/{task.pk}/challenge", {"outcome": "approve"})
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert body["channel"] == "email"
    assert "***@" in body["sent_to"]
    done = client.post(
        f"/tasks/{task.pk}/decision",
        {
            "outcome": "approve",
            "request_id": uuid.uuid4().hex,
            "challenge_id": body["challenge_id"],
            "code": _code(),
        },
    )
    assert done.status_code == 200, done.content
    task.refresh_from_db()
    assert task.channel == Channel.API
    assert task.confirmation == ConfirmationMethod.EMAIL_CODE
    assert task.confirmation_ref == body["challenge_id"]


def test_web_sign_sends_a_code_then_records(tenant_a, staff) -> None:
    task = _signing(tenant_a, staff)
    client = Client()
    client.force_login(staff["ceo"])
    card = client.get(f"/documents/{task.process.document_id}/").content.decode()
    assert f"/tasks/{task.pk}/sign/" in card
    rid = uuid.uuid4().hex
    first = client.post(
        f"/tasks/{task.pk}/sign/", {"outcome": "approve", "request_id": rid}
    )
    assert first.status_code == 200
    challenge = found(r'name="challenge" value="(\d+)"', first.content.decode())
    done = client.post(
        f"/tasks/{task.pk}/sign/",
        {
            "outcome": "approve",
            "request_id": rid,
            "challenge": challenge,
            "code": _code(),
        },
    )
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    assert task.channel == Channel.WEB
    assert task.confirmation == ConfirmationMethod.EMAIL_CODE


def test_initiator_resends_and_revokes_from_the_card(tenant_a, staff) -> None:
    process, task, token = to_guest_stage(tenant_a, staff)
    client = Client()
    client.force_login(tenant_a.initiator)
    card = client.get(f"/documents/{process.document_id}/").content.decode()
    assert f"/tasks/{task.pk}/guest-link/" in card
    assert token not in card
    assert client.post(f"/tasks/{task.pk}/guest-link/").status_code == 302
    fresh = links_in([m for m in deliver() if GUEST in m.to])
    assert len(fresh) == 1
    assert open_link(Client(), token).status_code == 410
    assert client.post(f"/tasks/{task.pk}/guest-link/revoke/").status_code == 302
    assert open_link(Client(), fresh[0]).status_code == 410
    assert GuestLink.objects.filter(task=task, revoked_at=None).count() == 0
    # a colleague who does not manage the process cannot
    other = Client()
    other.force_login(tenant_a.colleague)
    assert other.post(f"/tasks/{task.pk}/guest-link/").status_code == 404


def test_api_links_for_the_initiator_only(tenant_a, staff, tenant_b) -> None:
    _process, task, token = to_guest_stage(tenant_a, staff)
    mine = token_client(tenant_a.initiator)
    listed = mine.get(f"/tasks/{task.pk}/guest-links")
    assert listed.status_code == 200
    assert token not in listed.content.decode()
    assert listed.json()[0]["state"] == "active"
    assert mine.post(f"/tasks/{task.pk}/guest-links").status_code == 202
    assert (
        token_client(tenant_b.initiator)
        .get(f"/tasks/{task.pk}/guest-links")
        .status_code
        == 404
    )
    revoked = mine.post(f"/tasks/{task.pk}/guest-links/revoke")
    assert revoked.status_code == 200


def test_html_in_a_guest_comment_is_inert(tenant_a, staff) -> None:
    process, _task, token = to_guest_stage(tenant_a, staff)
    client = Client()
    open_link(client, token)
    rid = found(
        r'name="request_id" value="([0-9a-f]+)"', client.get("/g/").content.decode()
    )
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    client.post(
        "/g/decide/",
        {"outcome": "approve_with_remarks", "comment": evil, "request_id": rid},
    )
    page = client.get("/g/").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page
    internal = Client()
    internal.force_login(tenant_a.initiator)
    card = internal.get(f"/documents/{process.document_id}/").content.decode()
    assert "<script>alert(1)" not in card
    too_long = client.post(
        "/g/decide/", {"outcome": "approve", "comment": "x" * 5000, "request_id": "z"}
    )
    assert too_long.status_code in (404, 422)
