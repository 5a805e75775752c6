"""Issue 13, item 17: the API's rough edges (file ids of uploads, one shape for
``on_behalf_of``, names in the history, people by username, the people directory,
earlier rounds of the route map, one name per OpenAPI schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from sogla.documents.models import DocumentFile
from sogla.orgs.delegations import delegation_set
from sogla.orgs.models import User
from sogla.workflow.schemas.processes import history_event_out
from tests.api.conftest import token_client
from tests.api.test_documents_api import upload
from tests.conftest import MINIMAL_PDF, Tenant
from tests.workflow.api.conftest import Flow
from tests.workflow.conftest import make_document, person


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": user.get_full_name()}


# --- uploads answer the file's id beside the version's -------------------------------


def test_upload_answers_the_file_id_for_the_next_version(tenant_a: Tenant) -> None:
    api_a = token_client(tenant_a.initiator)
    document = make_document(tenant_a)
    first = upload(api_a, document.pk, "offer.pdf", MINIMAL_PDF)
    assert first.status_code == 201, first.content
    file_id = first.json()["file_id"]
    assert file_id == DocumentFile.objects.get(document=document).pk
    second = upload(api_a, document.pk, "v2.pdf", MINIMAL_PDF + b"%2", file_id=file_id)
    assert second.status_code == 201, second.content
    assert (second.json()["file_id"], second.json()["version"]) == (file_id, 2)
    assert second.json()["id"] != first.json()["id"]


def test_every_upload_operation_declares_both_ids(tenant_a: Tenant) -> None:
    api_a = token_client(tenant_a.initiator)
    schema = api_a.get("/openapi.json").json()
    uploads = [
        op
        for path in schema["paths"].values()
        for method, op in path.items()
        if method == "post"
        and "multipart/form-data" in op.get("requestBody", {}).get("content", {})
    ]
    assert {op["operationId"] for op in uploads} == {
        "document_file_upload",
        "task_file_upload",
    }
    for op in uploads:
        ref = op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
        answer = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"id", "file_id"} <= set(answer["required"])


# --- one schema per name in the OpenAPI ----------------------------------------------


def test_schema_names_are_unique() -> None:
    """Two schema classes of one name share one OpenAPI component, so one of them is
    described wrongly (GET /departments answered a guest participant's shape)."""
    from ninja import Schema

    import sogla.site.api_urls  # noqa: F401  (every router imported)

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    names: dict[str, set[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("sogla."):
            names.setdefault(cls.__name__, set()).add(cls.__module__)
    assert {n: m for n, m in names.items() if len(m) > 1} == {}


def test_calendar_times_match_their_schema(tenant_a: Tenant) -> None:
    admin = token_client(tenant_a.admin)
    schema = admin.get("/openapi.json").json()["components"]["schemas"]
    declared = schema["CalendarOut"]["properties"]["day_starts"]
    assert "format" not in declared  # RFC 3339 times need an offset
    import re

    answer = admin.get("/calendar").json()
    assert re.match(declared["pattern"], answer["day_starts"])
    assert re.match(declared["pattern"], answer["day_ends"])


# --- on_behalf_of: one object everywhere; the history names people -------------------


@dataclass
class Delegated:
    flow: Flow
    deputy: User
    history: list[dict[str, Any]]
    process: dict[str, Any]


@pytest.fixture
def delegated(flow: Flow) -> Delegated:
    """The lawyer is away: their deputy decides the legal step for them."""
    deputy = person(flow.tenant, "deputy", first_name="Dina", last_name="Zamena")
    today = timezone.localdate()
    delegation_set(
        actor=flow.tenant.admin,
        person_id=flow.lawyer.pk,
        deputy_id=deputy.pk,
        starts_on=today,
        ends_on=today + timedelta(days=5),
    )
    flow.start()
    head_task = flow.open_task(flow.head)
    decided = flow.head_api.post(
        f"/tasks/{head_task.pk}/decision", {"outcome": "approve", "request_id": "h1"}
    )
    assert decided.status_code == 200, decided.content
    task = flow.open_task(deputy)
    assert task.on_behalf_of_id == flow.lawyer.pk
    process = flow.initiator.get(f"/documents/{flow.document.pk}/process").json()
    deputy_api = token_client(deputy)
    decided = deputy_api.post(
        f"/tasks/{task.pk}/decision", {"outcome": "approve", "request_id": "d1"}
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["on_behalf_of"] == _person(flow.lawyer)
    history = flow.initiator.get(f"/documents/{flow.document.pk}/history").json()
    return Delegated(flow, deputy, history, process)


def test_on_behalf_of_is_one_object_in_the_history(delegated: Delegated) -> None:
    decisions = [e for e in delegated.history if e["verb"] == "task.decided"]
    assert [e["payload"]["on_behalf_of"] for e in decisions] == [
        None,
        _person(delegated.flow.lawyer),
    ]


def test_on_behalf_of_is_one_object_on_the_route_map(delegated: Delegated) -> None:
    [waiting] = delegated.process["waiting"]
    assert waiting["on_behalf_of"] == _person(delegated.flow.lawyer)


def test_history_names_the_actor_by_full_name(delegated: Delegated) -> None:
    flow = delegated.flow
    labels = {(e["verb"], e["actor_label"]) for e in delegated.history}
    assert ("process.started", flow.tenant.initiator.get_full_name()) in labels
    assert ("task.decided", "Dina Zamena") in labels
    assert not any(
        e["actor_label"] == delegated.deputy.username for e in delegated.history
    )


@dataclass
class _Event:
    actor_label: str
    actor: User | None = None
    seq: int = 1
    created_at: datetime = datetime(2026, 12, 3, tzinfo=UTC)
    verb: str = "task.decided"
    target_type: str = "task"
    target_id: str = "1"
    payload: Any = None


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("maria@example.com", "m***@example.com"),
        ("guest:maria@example.com", "m***@example.com"),
        ("system", "system"),
    ],
)
def test_history_masks_a_guests_address(label: str, shown: str) -> None:
    assert history_event_out(_Event(label))["actor_label"] == shown
