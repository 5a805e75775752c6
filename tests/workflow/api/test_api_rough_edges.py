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
        found: list[type] = []
        sub: type
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


# --- a route's owner by username; the people directory -------------------------------

ROUTE = {
    "key": "r",
    "stages": [
        {
            "key": "s",
            "steps": [
                {"key": "a", "kind": "approve", "assignee": {"user": "alpha-head"}}
            ],
        }
    ],
}


def _route_body(key: str, owner: Any) -> dict[str, Any]:
    return {
        "key": key,
        "doc_type": "contract",
        "name_ru": "Р",
        "owner": owner,
        "definition": ROUTE,
    }


def test_route_owner_by_username_or_id(flow: Flow, tenant_b: Tenant) -> None:
    admin = flow.admin_api
    by_name = admin.post("/routes", _route_body("by-name", flow.head.username))
    assert by_name.status_code == 201, by_name.content
    assert by_name.json()["owner"]["id"] == flow.head.pk
    by_id = admin.post("/routes", _route_body("by-id", flow.head.pk))
    assert by_id.status_code == 201, by_id.content
    assert by_id.json()["owner"]["id"] == flow.head.pk
    for owner in (tenant_b.admin.username, "nobody-here", tenant_b.admin.pk):
        refused = admin.post("/routes", _route_body("x", owner))
        assert refused.status_code == 422, owner
        assert refused.json()["errors"][0]["field"] == "owner"


@pytest.fixture
def staff(tenant_a: Tenant) -> dict[str, User]:
    """Named people of tenant A: a lawyer with a role, and one who left."""
    from sogla.orgs.models import Role

    lawyer = person(
        tenant_a,
        "lawyer",
        first_name="Лев",
        last_name="Юристов",
        department=tenant_a.department,
        email="lev@alpha.test",
    )
    role = Role.objects.create(
        organisation=tenant_a.org, key="lawyer", name_ru="Юрист", name_en="Lawyer"
    )
    role.members.add(lawyer)
    gone = person(
        tenant_a, "gone", first_name="Лев", last_name="Ушедший", is_active=False
    )
    return {"lawyer": lawyer, "gone": gone}


def test_people_directory_finds_by_name_and_username(
    tenant_a: Tenant, staff: dict[str, User]
) -> None:
    api = token_client(tenant_a.initiator)
    found = api.get("/people", data={"q": "юрист"})  # any case, Cyrillic
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["total"] == 1
    assert body["next_offset"] is None
    [lawyer] = body["items"]
    assert lawyer == {
        "id": staff["lawyer"].pk,
        "username": "alpha-lawyer",
        "name": "Лев Юристов",
        "first_name": "Лев",
        "middle_name": "",
        "last_name": "Юристов",
        "department": {"code": "sales", "name": "Sales"},
        "roles": [{"key": "lawyer", "name": "Юрист"}],
        "email": None,  # another person's address: administrators only
    }
    by_username = api.get("/people", data={"q": "ALPHA-LAW"}).json()
    assert [p["id"] for p in by_username["items"]] == [staff["lawyer"].pk]
    assert api.get("/people", data={"q": "Лев"}).json()["total"] == 1  # not "gone"
    admin = token_client(tenant_a.admin).get("/people", data={"q": "lawyer"})
    assert admin.json()["items"][0]["email"] == "lev@alpha.test"
    me = api.get("/people", data={"q": "initiator"}).json()["items"]
    assert me[0]["email"] == tenant_a.initiator.email


def test_people_directory_pages_and_tenant(
    tenant_a: Tenant,
    tenant_b: Tenant,
    staff: dict[str, User],
    django_assert_max_num_queries: Any,
) -> None:
    api = token_client(tenant_a.initiator)
    everyone = api.get("/people").json()
    active = User.objects.filter(organisation=tenant_a.org, is_active=True).count()
    assert everyone["total"] == active == len(everyone["items"])
    first = api.get("/people", data={"limit": "2"}).json()
    assert (len(first["items"]), first["next_offset"]) == (2, 2)
    rest = api.get("/people", data={"limit": "2", "offset": "2"}).json()
    assert {p["id"] for p in first["items"]}.isdisjoint(p["id"] for p in rest["items"])
    ids = {p["id"] for p in everyone["items"]}
    assert ids == set(
        User.objects.filter(organisation=tenant_a.org, is_active=True).values_list(
            "pk", flat=True
        )
    )
    other = token_client(tenant_b.initiator).get("/people").json()
    assert ids.isdisjoint(p["id"] for p in other["items"])
    assert api.get("/people", data={"limit": "0"}).status_code == 422
    assert api.get("/people", data={"offset": "-1"}).status_code == 422
    with django_assert_max_num_queries(8):
        api.get("/people")


# --- the route map shows earlier rounds ------------------------------------------------


def _returned_and_resubmitted(flow: Flow) -> dict[str, Any]:
    process = flow.start()
    task = flow.open_task(flow.head)
    returned = flow.head_api.post(
        f"/tasks/{task.pk}/decision",
        {"outcome": "return", "comment": "Clarify the penalty", "request_id": "r1"},
    )
    assert returned.status_code == 200, returned.content
    again = flow.initiator.post(f"/processes/{process.pk}/resubmit", {"comment": "ok"})
    assert again.status_code == 200, again.content
    body: dict[str, Any] = again.json()
    return body


def test_process_answers_earlier_rounds_with_their_decisions(flow: Flow) -> None:
    first = flow.initiator.get(f"/documents/{flow.document.pk}/process")
    assert first.status_code == 404  # not started yet
    body = _returned_and_resubmitted(flow)
    assert body["round"] == 2
    [earlier] = body["earlier_rounds"]
    assert earlier["round"] == 1
    [decision] = earlier["tasks"]
    assert (decision["stage"], decision["step"], decision["outcome"]) == (
        "manager",
        "head",
        "return",
    )
    assert decision["comment"] == "Clarify the penalty"
    assert decision["assignee"]["id"] == flow.head.pk
    assert decision["step_name"]
    # The current round is the map itself; it holds no round-1 task.
    round_two = {
        t["id"] for s in body["stages"] for st in s["steps"] for t in st["tasks"]
    }
    assert decision["id"] not in round_two


def test_card_shows_earlier_rounds_collapsed(flow: Flow) -> None:
    from django.test import Client

    _returned_and_resubmitted(flow)
    client = Client()
    client.force_login(flow.tenant.initiator)
    page = client.get(f"/documents/{flow.document.pk}/").content.decode()
    start = page.index('<details class="earlier-round')
    details = page[start : page.index("</details>", start)]
    assert " open" not in details.split(">", 1)[0]  # collapsed
    assert "Круг 1" in details  # the organisation speaks Russian
    assert "Clarify the penalty" in details
    assert flow.head.short_name in details
