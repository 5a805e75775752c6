"""T23 (document part): every document event carries complete evidence.

Who (user id and label), what (verb, target, payload with the values that changed
or the file's SHA-256), when (server time, UTC), where (client IP from the trusted
source only, user agent) and the chain (previous hash, own hash). Decisions add
their own fields when the workflow records them.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.documents.models import FileVersion
from sogla.documents.services import CounterpartyData, counterparty_create
from tests.api.conftest import token_client
from tests.conftest import MINIMAL_PDF, Tenant

HEX64 = re.compile(r"[0-9a-f]{64}")
CLIENT_IP = "203.0.113.50"
SPOOFED_IP = "10.66.66.66"
USER_AGENT = "Mozilla/5.0 (T23)"

PAYLOAD_KEYS = {
    "document.created": {"number", "type", "title", "status", "fields"},
    "document.fields_changed": {"changes"},
    "document.archived": {"number"},
    "document.file_version_added": {
        "file",
        "field",
        "name",
        "version",
        "sha256",
        "size",
        "mime_type",
    },
    "counterparty.created": {"name", "tax_id", "category", "address", "note"},
    "counterparty.updated": {"changes"},
}


def _run_commands(tenant: Tenant) -> None:
    """Documents and counterparties made through the API, the web and services."""
    request: dict[str, Any] = {
        "REMOTE_ADDR": CLIENT_IP,
        "headers": {"User-Agent": USER_AGENT, "X-Forwarded-For": SPOOFED_IP},
    }
    api = token_client(tenant.initiator)
    for n in range(5):
        doc = api.post(
            "/documents",
            {"doc_type": "contract", "fields": {"subject": f"S{n}", "amount": n + 1}},
            **request,
        ).json()
        file = io.BytesIO(MINIMAL_PDF + f"%{n}\n".encode())
        file.name = f"contract-{n}.pdf"
        assert (
            api.client.post(
                f"/api/v1/documents/{doc['id']}/files",
                {"file": file, "field_key": "contract_file"},
                headers={**api.headers, **request["headers"]},
                REMOTE_ADDR=CLIENT_IP,
            ).status_code
            == 201
        )
        api.patch(f"/documents/{doc['id']}", {"fields": {"subject": "new"}}, **request)
        if n % 2:
            api.post(f"/documents/{doc['id']}/archive", **request)
    party = api.post("/counterparties", {"name": "Эпсилон"}, **request).json()
    api.patch(f"/counterparties/{party['id']}", {"name": "Эпсилон-2"}, **request)

    web = Client(REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=USER_AGENT)
    web.force_login(tenant.admin)
    web.post(
        reverse("documents:counterparty_create"),
        {"name": "Дзета", "category": "supplier"},
        HTTP_X_FORWARDED_FOR=SPOOFED_IP,
    )
    # A service call without a request (demo data, imports): no IP to record.
    counterparty_create(actor=tenant.admin, data=CounterpartyData(name="Эта"))


def _problems(event: AuditEvent, started: datetime, from_request: bool) -> list[str]:
    problems = []
    if event.actor_id is None or not event.actor_label:
        problems.append("actor")
    created = event.created_at
    if created.utcoffset() is None or not (started <= created <= timezone.now()):
        problems.append("server time")
    if created.astimezone(UTC).utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
        problems.append("utc")
    if event.verb not in PAYLOAD_KEYS:
        problems.append("verb")
    if not event.target_type or not event.target_id:
        problems.append("target")
    if event.verb.startswith("document.") and event.document_id is None:
        problems.append("document")
    missing = PAYLOAD_KEYS.get(event.verb, set()) - set(event.payload)
    if missing:
        problems.append(f"payload {sorted(missing)}")
    if event.verb == "document.file_version_added":
        version = FileVersion.objects.get(pk=event.target_id)
        if event.payload["sha256"] != version.sha256:
            problems.append("sha256")
    if from_request and (event.ip, event.user_agent) != (CLIENT_IP, USER_AGENT):
        problems.append("ip/user agent")
    if not HEX64.fullmatch(event.prev_hash) or not HEX64.fullmatch(event.hash):
        problems.append("hashes")
    return problems


def test_t23_document_events_have_complete_evidence(
    tenant_a: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    started = timezone.now()
    _run_commands(tenant_a)

    events = list(AuditEvent.objects.for_org(tenant_a.org).order_by("seq"))
    incomplete: dict[int, Any] = {}
    for event in events:
        from_request = event.payload.get("name") != "Эта"
        problems = _problems(event, started, from_request)
        if problems:
            incomplete[event.seq] = (event.verb, problems)
    spoofed = sum(1 for e in events if e.ip == SPOOFED_IP)
    with capsys.disabled():
        print(
            f"\nT23: events checked {len(events)}, complete "
            f"{len(events) - len(incomplete)}; spoofed X-Forwarded-For recorded "
            f"{spoofed} times"
        )
    assert incomplete == {}
    assert spoofed == 0
    assert {e.verb for e in events} == set(PAYLOAD_KEYS)
    assert len(events) == 5 * 3 + 2 + 2 + 1 + 1
