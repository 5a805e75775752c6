"""T23 (decision part): every decision's evidence record is complete, and the
approval sheet states the channel and the confirmation actually used; the API
and the card hand out the sheet and the stamped copy, to the organisation only."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from pypdf import PdfReader

from sogla.evidence.services import evidence_make
from sogla.workflow import services
from sogla.workflow.models import Task, TaskState
from tests.api.conftest import token_client
from tests.conftest import Tenant
from tests.evidence.conftest import Approval, _document, contract_pdf
from tests.workflow.conftest import approve, person, publish, route, stage

pytestmark = pytest.mark.django_db

HEX64 = re.compile(r"[0-9a-f]{64}")
CLIENT_IP = "203.0.113.50"
SPOOFED = "10.66.66.66"
REQUIRED = (
    "organisation_id",
    "process_id",
    "engine_id",
    "stage_key",
    "step_key",
    "round",
    "outcome",
    "decided_at",
    "files_sha256",
    "channel",
    "ip",
    "user_agent",
    "request_id",
)


def _text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in pages))


def _web_and_api_approval(tenant: Tenant) -> tuple[Any, dict[str, str]]:
    """The lawyer decides on the web, the CEO through the API (with a spoofed
    X-Forwarded-For); returns the process and who used which channel."""
    lawyer = person(tenant, "lawyer", first_name="Анна", last_name="Юрьева")
    ceo = person(tenant, "ceo", first_name="Иван", last_name="Главный")
    template = publish(
        tenant,
        route(
            stage("legal", approve("l", {"user": lawyer.username})),
            stage("ceo", approve("c", {"user": ceo.username})),
        ),
    )
    document = _document(tenant, contract_pdf())
    process = services.process_start(
        actor=tenant.initiator, document=document, template=template
    )
    web = Client(REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT="T23 browser")
    web.force_login(lawyer)
    task = Task.objects.get(process=process, assignee=lawyer, state=TaskState.OPEN)
    answer = web.post(
        f"/tasks/{task.pk}/decide/",
        {"outcome": "approve", "comment": "ok", "request_id": uuid.uuid4().hex},
        HTTP_X_FORWARDED_FOR=SPOOFED,
    )
    assert answer.status_code in (200, 302)
    task = Task.objects.get(process=process, assignee=ceo, state=TaskState.OPEN)
    api = token_client(ceo)
    answer = api.post(
        f"/tasks/{task.pk}/decision",
        {"outcome": "approve", "request_id": uuid.uuid4().hex},
        headers={"X-Forwarded-For": SPOOFED, "User-Agent": "T23 script"},
        REMOTE_ADDR=CLIENT_IP,
    )
    assert answer.status_code == 200, answer.content
    process.refresh_from_db()
    return process, {lawyer.username: "web", ceo.username: "api"}


def test_t23_every_decision_has_complete_evidence_and_the_sheet_says_how(
    tenant_a: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    process, used = _web_and_api_approval(tenant_a)
    assert process.status == "approved"
    tasks = list(Task.objects.filter(process=process, state=TaskState.DONE))
    complete = mismatches = spoofed = 0
    for task in tasks:
        record = {name: getattr(task, name) for name in REQUIRED}
        ok = all(value not in (None, "") for value in record.values())
        ok = ok and bool(HEX64.fullmatch(task.files_sha256))
        ok = (
            ok
            and task.decided_at is not None
            and task.decided_at.utcoffset() is not None
        )
        ok = ok and bool(task.decided_by_id or task.guest_email)
        complete += bool(ok)
        assert task.decided_by is not None
        if task.channel != used[task.decided_by.username]:
            mismatches += 1
        spoofed += task.ip == SPOOFED
        assert task.ip == CLIENT_IP
    evidence = evidence_make(process)
    assert evidence.sheet_version is not None
    with default_storage.open(evidence.sheet_version.storage_key, "rb") as stream:
        sheet = _text(stream.read())
    assert "веб" in sheet
    assert "сеанс с паролем" in sheet
    assert "API" in sheet
    assert "API-токен или сеанс" in sheet
    with capsys.disabled():
        print(
            f"\nT23 decisions: {complete}/{len(tasks)} complete, channel mismatches "
            f"{mismatches}, spoofed X-Forwarded-For believed {spoofed}"
        )
    assert complete == len(tasks)
    assert mismatches == 0
    assert spoofed == 0
    assert all(t.decided_at.astimezone(UTC) for t in tasks if t.decided_at)


def test_api_sheet_and_stamped_copy(approval: Approval, tenant_b: Tenant) -> None:
    api = token_client(approval.tenant.initiator)
    sheet = api.get(f"/documents/{approval.document.pk}/approval-sheet?lang=en")
    assert sheet.status_code == 200
    assert sheet["Content-Type"] == "application/pdf"
    assert sheet["Content-Disposition"].startswith("attachment")
    assert "Approval sheet" in _text(sheet.content)
    stamped = api.get(f"/documents/{approval.document.pk}/stamped-copy")
    assert stamped.status_code == 302
    file = api.get(f"/documents/{approval.document.pk}/stamped-copy", follow=True)
    assert file.status_code == 200
    body = b"".join(file.streaming_content)
    assert "СОГЛАСОВАНО" in _text(body)
    outsider = token_client(tenant_b.admin)
    for path in ("approval-sheet", "stamped-copy"):
        assert (
            outsider.get(f"/documents/{approval.document.pk}/{path}").status_code == 404
        )
    colleague = token_client(approval.tenant.colleague)
    assert (
        colleague.get(f"/documents/{approval.document.pk}/approval-sheet").status_code
        in (200, 404)  # the contract type is not confidential: colleagues may read
    )


def test_card_links_and_downloads(approval: Approval, tenant_b: Tenant) -> None:
    client = Client()
    client.force_login(approval.tenant.initiator)
    card = client.get(f"/documents/{approval.document.pk}/").content.decode()
    assert f"/documents/{approval.document.pk}/approval-sheet/" in card
    assert f"/documents/{approval.document.pk}/stamped/" in card
    sheet = client.get(f"/documents/{approval.document.pk}/approval-sheet/?lang=ru")
    assert sheet.status_code == 200
    assert "Лист согласования" in _text(sheet.content)
    stamped = client.get(f"/documents/{approval.document.pk}/stamped/", follow=True)
    assert stamped.status_code == 200
    assert stamped["Content-Disposition"].startswith("attachment")
    outsider = Client()
    outsider.force_login(tenant_b.admin)
    assert (
        outsider.get(f"/documents/{approval.document.pk}/approval-sheet/").status_code
        == 404
    )
    assert (
        outsider.get(f"/documents/{approval.document.pk}/stamped/").status_code == 404
    )


def test_no_stamped_copy_while_running(tenant_a: Tenant) -> None:
    lawyer = person(tenant_a, "lawyer")
    template = publish(
        tenant_a, route(stage("s", approve("a", {"user": lawyer.username})))
    )
    document = _document(tenant_a, contract_pdf())
    services.process_start(
        actor=tenant_a.initiator, document=document, template=template
    )
    client = Client()
    client.force_login(tenant_a.initiator)
    assert client.get(f"/documents/{document.pk}/stamped/").status_code == 404
    # the sheet exists at any time: a running approval without decisions yet
    assert client.get(f"/documents/{document.pk}/approval-sheet/").status_code == 200
