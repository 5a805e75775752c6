"""The approvals API: every operation's happy path and each class of refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from ninja.responses import NinjaJSONEncoder

from sogla.core.models import AuditEvent
from sogla.workflow import selectors, services
from sogla.workflow.models import Process, RouteTemplate, RouteVersion, Task, TaskState
from sogla.workflow.schemas.tasks import TaskOut, task_out
from tests.api.conftest import API, session_client, token_client
from tests.conftest import Tenant
from tests.workflow.api.conftest import Flow
from tests.workflow.conftest import approve, make_document, publish, route, stage

pytestmark = pytest.mark.django_db

OPERATIONS = {
    "document_routes_list",
    "process_start",
    "process_get",
    "document_history",
    "process_resubmit",
    "process_cancel",
    "tasks_list",
    "task_get",
    "task_decide",
    "task_reassign",
    "process_participants_change",
    "routes_list",
    "route_get",
    "route_create",
    "route_draft_save",
    "route_publish",
}


def decision(outcome: str = "approve", request_id: str = "r-1", **extra: Any) -> Any:
    return {"outcome": outcome, "request_id": request_id, **extra}


def codes(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


# --- routes of a document, start, process, history ------------------------------------


def test_routes_fit_with_a_preview_of_who_approves(flow: Flow) -> None:
    publish(
        flow.tenant,
        route(stage("only", approve("ceo", {"user": "alpha-lawyer"}))),
        key="big-only",
        suggest_when={"field": "amount", "op": "gt", "value": 1000000},
    )
    response = flow.initiator.get(f"/documents/{flow.document.pk}/routes")
    assert response.status_code == 200
    routes = response.json()
    assert [r["key"] for r in routes] == ["contract-route"]  # 1000.00 < 1,000,000
    option = routes[0]
    assert option["suggested"] is True
    assert option["version"] == 1
    stages = option["preview"]
    assert [s["key"] for s in stages] == ["manager", "legal"]
    head_step = stages[0]["steps"][0]
    assert head_step["runs"] is True
    assert head_step["participants"] == [
        {
            "kind": "user",
            "user": {"id": flow.head.pk, "name": flow.head.short_name},
            "email": "",
            "on_behalf_of": None,
        }
    ]
    assert stages[1]["steps"][0]["participants"][0]["user"]["id"] == flow.lawyer.pk


def test_start_then_read_the_route_map_and_history(flow: Flow) -> None:
    response = flow.initiator.post(
        f"/documents/{flow.document.pk}/process",
        {"route": "contract-route"},
        headers={"User-Agent": "api-test/1.0"},
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "running"
    assert body["round"] == 1
    assert body["document_id"] == flow.document.pk
    assert body["route"] == {"key": "contract-route", "name": "Маршрут", "version": 1}
    assert body["initiator"]["id"] == flow.tenant.initiator.pk
    manager, legal = body["stages"]
    assert (manager["key"], manager["colour"], manager["current"]) == (
        "manager",
        "waiting",
        True,
    )
    assert (legal["colour"], legal["current"]) == ("not_started", False)
    (task,) = manager["steps"][0]["tasks"]
    assert task["assignee"]["id"] == flow.head.pk
    assert task["state"] == "open"
    assert task["waiting_since"] is not None
    assert task["mine"] is False
    assert legal["steps"][0]["assignee"] == {"user": "alpha-lawyer"}
    assert [w["assignee"]["id"] for w in body["waiting"]] == [flow.head.pk]
    assert body["revision_task"] is None

    again = flow.initiator.get(f"/documents/{flow.document.pk}/process")
    assert again.status_code == 200
    assert again.json() == body

    history = flow.initiator.get(f"/documents/{flow.document.pk}/history")
    assert history.status_code == 200
    events = history.json()
    verbs = [e["verb"] for e in events]
    assert verbs[0] == "document.created"
    assert "process.started" in verbs
    started = next(e for e in events if e["verb"] == "process.started")
    assert started["actor"]["id"] == flow.tenant.initiator.pk
    assert started["payload"]["route"] == "contract-route"
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    # The audit event carries the request's meta.
    row = AuditEvent.objects.get(verb="process.started")
    assert (row.ip, row.user_agent) == ("198.51.100.4", "api-test/1.0")


def test_start_refusals(flow: Flow, tenant_b: Tenant) -> None:
    path = f"/documents/{flow.document.pk}/process"
    # No process yet.
    assert flow.initiator.get(path).status_code == 404
    # A route that does not exist or does not fit: 422 naming route.
    unknown = flow.initiator.post(path, {"route": "nope"})
    assert unknown.status_code == 422
    assert codes(unknown) == [("route", "invalid")]
    # Unknown keys and a missing route.
    extra = flow.initiator.post(path, {"route": "contract-route", "initiator": 1})
    assert extra.status_code == 422
    assert ("initiator", "unknown_field") in codes(extra)
    assert codes(flow.initiator.post(path, {})) == [("route", "required")]
    # A colleague who may see the document but did not start it.
    colleague = token_client(flow.tenant.colleague)
    refused = colleague.post(path, {"route": "contract-route"})
    assert refused.status_code == 403
    # Another organisation: 404, even for its administrator.
    other = token_client(tenant_b.admin)
    assert other.post(path, {"route": "contract-route"}).status_code == 404
    assert other.get(f"/documents/{flow.document.pk}/routes").status_code == 404
    assert other.get(path).status_code == 404
    assert other.get(f"/documents/{flow.document.pk}/history").status_code == 404
    assert not Process.objects.exists()
    # Started once; a second start is a conflict.
    flow.start()
    twice = flow.initiator.post(path, {"route": "contract-route"})
    assert twice.status_code == 409
    assert codes(twice) == [("", "already_running")]
    assert Process.objects.count() == 1


# --- tasks ------------------------------------------------------------------------------


def test_inbox_tabs_counts_and_cursor(flow: Flow) -> None:
    second = make_document(flow.tenant, subject="Second")
    flow.start()
    flow.initiator.post(f"/documents/{second.pk}/process", {"route": "contract-route"})
    mine = flow.head_api.get("/tasks")
    assert mine.status_code == 200
    body = mine.json()
    assert body["counts"] == {"mine": 2, "overdue": 0, "started": 0}
    assert len(body["items"]) == 2
    item = body["items"][0]
    assert item["assignee"]["id"] == flow.head.pk
    assert item["stage"] == "manager"
    assert item["document"]["doc_type"] == "contract"
    # Cursor pages of one.
    first = flow.head_api.get("/tasks?limit=1").json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    rest = flow.head_api.get(f"/tasks?limit=1&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == {
        i["id"] for i in body["items"]
    }
    # The initiator sees who holds their documents up.
    started = flow.initiator.get("/tasks?tab=started").json()
    assert started["counts"] == {"mine": 0, "overdue": 0, "started": 2}
    assert {i["assignee"]["id"] for i in started["items"]} == {flow.head.pk}
    # Done: after a decision.
    task_id = item["id"]
    flow.head_api.post(f"/tasks/{task_id}/decision", decision())
    done = flow.head_api.get("/tasks?tab=done").json()
    assert [i["id"] for i in done["items"]] == [task_id]
    assert done["items"][0]["outcome"] == "approve"
    assert flow.head_api.get("/tasks").json()["counts"]["mine"] == 1
    # Bad input.
    bad_cursor = flow.head_api.get("/tasks?cursor=garbage")
    assert bad_cursor.status_code == 422
    assert codes(bad_cursor) == [("cursor", "invalid")]
    assert codes(flow.head_api.get("/tasks?tab=all")) == [("tab", "invalid")]


def test_task_list_items_read_as_values_are_what_task_out_writes(flow: Flow) -> None:
    """The list reads plain values (no model instances); each item must be what
    ``task_out`` writes of the same task, in every tab, delegated tasks included."""
    second = make_document(flow.tenant, subject="Second")
    flow.start()
    flow.initiator.post(f"/documents/{second.pk}/process", {"route": "contract-route"})
    # one task held for someone away, who has no first name (the name falls back)
    flow.lawyer.first_name = ""
    flow.lawyer.save()
    held = Task.objects.filter(assignee=flow.head, state=TaskState.OPEN).first()
    assert held is not None
    Task.objects.filter(pk=held.pk).update(on_behalf_of=flow.lawyer)
    flow.head_api.post(f"/tasks/{held.pk}/decision", decision())
    clients = {"mine": flow.head_api, "started": flow.initiator, "done": flow.head_api}
    for tab, client in clients.items():
        body = client.get(f"/tasks?tab={tab}").json()
        user = flow.head if client is flow.head_api else flow.tenant.initiator
        page = selectors.task_list_for_user(user=user, tab=tab)
        expected = [
            # as the API writes it (Django's JSON encoder: dates to milliseconds)
            json.loads(
                json.dumps(
                    TaskOut.model_validate(task_out(t)).model_dump(),
                    cls=NinjaJSONEncoder,
                )
            )
            for t in page.items
        ]
        assert body["items"] == expected, tab
        assert expected
    done = flow.head_api.get("/tasks?tab=done").json()["items"]
    assert done[0]["on_behalf_of"] == {
        "id": flow.lawyer.pk,
        "username": flow.lawyer.username,
        "name": flow.lawyer.get_full_name() or flow.lawyer.username,
    }


def test_task_detail_only_for_its_assignee(flow: Flow, tenant_b: Tenant) -> None:
    flow.start()
    task = flow.open_task(flow.head)
    response = flow.head_api.get(f"/tasks/{task.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["outcomes"] == ["approve", "approve_with_remarks", "return", "reject"]
    assert body["comment_required"] == ["approve_with_remarks", "return", "reject"]
    assert body["fields"] == []
    assert body["required_fields"] == []
    assert body["document"]["id"] == flow.document.pk
    # Someone else's task, and another organisation's: 404.
    assert flow.initiator.get(f"/tasks/{task.pk}").status_code == 404
    assert flow.lawyer_api.get(f"/tasks/{task.pk}").status_code == 404
    assert token_client(tenant_b.admin).get(f"/tasks/{task.pk}").status_code == 404
    assert flow.head_api.get("/tasks/999999").status_code == 404


def test_decision_is_idempotent_and_recorded_with_channel_api(flow: Flow) -> None:
    flow.start()
    task = flow.open_task(flow.head)
    path = f"/tasks/{task.pk}/decision"
    first = flow.head_api.post(
        path,
        decision(comment="fine"),
        headers={"User-Agent": "client/2"},
        REMOTE_ADDR="192.0.2.9",
    )
    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["state"], body["outcome"], body["comment"]) == (
        "done",
        "approve",
        "fine",
    )
    repeat = flow.head_api.post(path, decision(comment="fine"))
    assert repeat.status_code == 200
    assert repeat.json() == body
    task.refresh_from_db()
    assert (task.channel, task.request_id, task.ip, task.user_agent) == (
        "api",
        "r-1",
        "192.0.2.9",
        "client/2",
    )
    assert AuditEvent.objects.filter(verb="task.decided").count() == 1
    # The next stage opened once.
    assert Task.objects.filter(assignee=flow.lawyer, state=TaskState.OPEN).count() == 1


def test_a_decision_answers_the_task_as_written_not_read_again(
    flow: Flow, django_assert_num_queries: Any
) -> None:
    flow.start()
    head_task = flow.open_task(flow.head)
    written = services.task_decide(
        actor=flow.head, task_id=head_task.pk, outcome="approve", request_id="r-1"
    )
    # The service's row gets only the document and the people: two queries.
    with django_assert_num_queries(2):
        answered = task_out(
            selectors.task_with_references(user=flow.head, task=written)
        )
    assert (answered["id"], answered["state"], answered["outcome"]) == (
        head_task.pk,
        "done",
        "approve",
    )
    assert answered["assignee"] == {"id": flow.head.pk, "name": flow.head.short_name}
    # The lawyer's approval finishes the route, and the document's status changes:
    # the answer is the task as a fresh read shows it.
    task = flow.open_task(flow.lawyer)
    answer = flow.lawyer_api.post(
        f"/tasks/{task.pk}/decision", decision(comment="ok", request_id="r-2")
    )
    assert answer.status_code == 200
    fresh = flow.lawyer_api.get(f"/tasks/{task.pk}").json()
    assert answer.json() == {key: fresh[key] for key in answer.json()}
    approved = flow.document.doc_type.statuses.get(meaning="success").key
    assert answer.json()["document"]["status"] == approved


def test_decision_on_a_closed_task_is_409_naming_who_decided(flow: Flow) -> None:
    flow.start()
    task = flow.open_task(flow.head)
    path = f"/tasks/{task.pk}/decision"
    assert flow.head_api.post(path, decision()).status_code == 200
    late = flow.head_api.post(path, decision("reject", "r-2", comment="no"))
    assert late.status_code == 409
    (error,) = late.json()["errors"]
    assert error["code"] == "task_closed"
    assert flow.head.short_name in error["message"]
    assert Task.objects.get(pk=task.pk).outcome == "approve"


def test_decision_refusals_change_nothing(flow: Flow, tenant_b: Tenant) -> None:
    flow.start()
    task = flow.open_task(flow.head)
    path = f"/tasks/{task.pk}/decision"
    cases = [
        ({"outcome": "approve"}, [("request_id", "required")]),
        (decision("reject"), [("comment", "required")]),
        (decision("acknowledge"), [("outcome", "not_allowed")]),
        (decision(fields={"amount": "5"}), [("amount", "unknown_field")]),
        ({**decision(), "channel": "web"}, [("channel", "unknown_field")]),
        (decision(request_id=""), [("request_id", "required")]),
    ]
    for body, expected in cases:
        response = flow.head_api.post(path, body)
        assert response.status_code == 422, body
        assert codes(response) == expected, body
    # Someone else's task and another organisation's: 404.
    assert flow.lawyer_api.post(path, decision()).status_code == 404
    assert token_client(tenant_b.initiator).post(path, decision()).status_code == 404
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    assert not AuditEvent.objects.filter(verb="task.decided").exists()


def test_reassign_by_an_administrator(flow: Flow, tenant_b: Tenant) -> None:
    flow.start()
    task = flow.open_task(flow.head)
    path = f"/tasks/{task.pk}/reassign"
    colleague = flow.tenant.colleague
    # Not the route owner nor an admin: 404; a person of another organisation: 422.
    assert flow.initiator.post(path, {"to_user": colleague.pk}).status_code == 404
    assert (
        token_client(tenant_b.admin).post(path, {"to_user": colleague.pk}).status_code
        == 404
    )
    stranger = flow.admin_api.post(path, {"to_user": tenant_b.initiator.pk})
    assert codes(stranger) == [("to_user", "invalid")]
    response = flow.admin_api.post(path, {"to_user": colleague.pk})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["assignee"]["id"] == colleague.pk
    assert body["state"] == "open"
    task.refresh_from_db()
    assert task.state != TaskState.OPEN
    # The old task is closed now: 409.
    again = flow.admin_api.post(path, {"to_user": flow.head.pk})
    assert again.status_code == 409
    assert codes(again) == [("", "task_closed")]


# --- resubmit and cancel ---------------------------------------------------------------


def test_return_then_resubmit_starts_round_two(flow: Flow) -> None:
    process = flow.start()
    path = f"/processes/{process.pk}/resubmit"
    # Running, not returned: 409.
    early = flow.initiator.post(path, {"comment": "x"})
    assert early.status_code == 409
    task = flow.open_task(flow.head)
    returned = flow.head_api.post(
        f"/tasks/{task.pk}/decision", decision("return", comment="Fix the amount")
    )
    assert returned.status_code == 200
    card = flow.initiator.get(f"/documents/{flow.document.pk}/process").json()
    assert card["status"] == "revision"
    assert card["revision_task"]["assignee"]["id"] == flow.tenant.initiator.pk
    # Only the initiator resubmits; unknown people in changes are named.
    assert flow.head_api.post(path, {}).status_code == 403
    bad = flow.initiator.post(path, {"changes": {"add": {"legal.lawyer": [999999]}}})
    assert codes(bad) == [("changes.add.legal.lawyer", "invalid")]
    response = flow.initiator.post(path, {"comment": "Fixed"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["round"]) == ("running", 2)
    assert [w["assignee"]["id"] for w in body["waiting"]] == [flow.head.pk]


def test_resubmit_refuses_ids_beyond_int64(flow: Flow) -> None:
    """Ids above 2**63-1 in changes were an OverflowError (HTTP 500)."""
    process = flow.start()
    task = flow.open_task(flow.head)
    flow.head_api.post(
        f"/tasks/{task.pk}/decision", decision("return", comment="Fix the amount")
    )
    path = f"/processes/{process.pk}/resubmit"
    for key in ("add", "remove"):
        response = flow.initiator.post(
            path, {"changes": {key: {"legal.lawyer": [2**64]}}}
        )
        assert response.status_code == 422, response.content
        assert codes(response) == [(f"changes.{key}.legal.lawyer[0]", "too_large")]


def test_cancel_needs_a_reason_and_the_initiator(flow: Flow, tenant_b: Tenant) -> None:
    process = flow.start()
    path = f"/processes/{process.pk}/cancel"
    assert codes(flow.initiator.post(path, {})) == [("reason", "required")]
    assert codes(flow.initiator.post(path, {"reason": "  "})) == [
        ("reason", "required")
    ]
    assert flow.head_api.post(path, {"reason": "mine"}).status_code == 403
    assert token_client(tenant_b.admin).post(path, {"reason": "x"}).status_code == 404
    assert (
        flow.initiator.post("/processes/999999/cancel", {"reason": "x"}).status_code
        == 404
    )
    response = flow.initiator.post(path, {"reason": "Not needed"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["waiting"] == []
    again = flow.initiator.post(path, {"reason": "again"})
    assert again.status_code == 409


def test_a_confidential_documents_process_is_hidden_from_a_colleague(
    flow: Flow,
) -> None:
    flow.tenant.contract.confidential = True
    flow.tenant.contract.save()
    process = flow.start()
    colleague = token_client(flow.tenant.colleague)
    assert colleague.get(f"/documents/{flow.document.pk}/process").status_code == 404
    for action in ("cancel", "resubmit"):
        response = colleague.post(f"/processes/{process.pk}/{action}", {"reason": "x"})
        assert response.status_code in (404, 422)
        if action == "cancel":
            assert response.status_code == 404


# --- route templates -------------------------------------------------------------------

GOOD = route(stage("manager", approve("head", {"department_head": "initiator"})))
BAD = route(
    stage("a", approve("x", {"role": "lawer"})),
    stage("b", approve("y", {"user": "nobody"})),
    stage("c", approve("z", {"department_head": "initiator"})),
)


def test_route_templates_create_draft_publish(flow: Flow) -> None:
    admin = flow.admin_api
    listed = admin.get("/routes")
    assert listed.status_code == 200
    assert [
        (r["key"], r["published"]["number"], r["draft"]) for r in listed.json()
    ] == [("contract-route", 1, None)]
    created = admin.post(
        "/routes",
        {
            "key": "short",
            "doc_type": "contract",
            "name_ru": "Короткий",
            "name_en": "Short",
            "owner": flow.head.pk,
            "definition": BAD,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner"]["id"] == flow.head.pk
    assert body["published"] is None
    assert body["draft"]["number"] == 1
    assert {p["path"] for p in body["draft"]["problems"]} == {
        "stages[0].steps[0].assignee.role",
        "stages[1].steps[0].assignee.user",
    }
    refused = admin.post("/routes/short/publish")
    assert refused.status_code == 422
    problems = {e["field"]: e for e in refused.json()["errors"]}
    assert set(problems) == {
        "stages[0].steps[0].assignee.role",
        "stages[1].steps[0].assignee.user",
    }
    assert "lawer" in problems["stages[0].steps[0].assignee.role"]["message"]
    assert RouteVersion.objects.get(template__key="short").status == "draft"

    saved = admin.call("put", "/routes/short/draft", {"definition": GOOD})
    assert saved.status_code == 200
    assert saved.json()["draft"]["problems"] == []
    published = admin.post("/routes/short/publish")
    assert published.status_code == 200, published.json()
    detail = published.json()
    assert detail["draft"] is None
    assert detail["published"]["number"] == 1
    assert detail["published"]["definition"] == GOOD
    assert admin.get("/routes/short").json() == detail
    # Nothing left to publish; a new draft gets the next number.
    assert codes(admin.post("/routes/short/publish")) == [("draft", "required")]
    again = admin.call("put", "/routes/short/draft", {"definition": GOOD}).json()
    assert again["draft"]["number"] == 2


def test_route_template_refusals(flow: Flow, tenant_b: Tenant) -> None:
    body = {"key": "x", "doc_type": "contract", "name_ru": "X", "definition": GOOD}
    # Not an administrator: 403 and nothing saved.
    assert flow.initiator.get("/routes").status_code == 403
    assert flow.initiator.post("/routes", body).status_code == 403
    assert flow.initiator.get("/routes/contract-route").status_code == 403
    assert flow.initiator.post("/routes/contract-route/publish").status_code == 403
    # Bad input names the field.
    cases = [
        ({**body, "doc_type": "nope"}, ("doc_type", "unknown_type")),
        ({**body, "key": "Bad Key"}, ("key", "invalid")),
        ({**body, "key": "contract-route"}, ("key", "duplicate")),
        ({**body, "owner": tenant_b.admin.pk}, ("owner", "invalid")),
        ({**body, "organisation": 1}, ("organisation", "unknown_field")),
    ]
    for data, expected in cases:
        response = flow.admin_api.post("/routes", data)
        assert response.status_code == 422, data
        assert expected in codes(response), data
    assert RouteTemplate.objects.filter(organisation=flow.tenant.org).count() == 1
    # Another organisation's route: 404 for its admin and its users.
    for client in (token_client(tenant_b.admin), token_client(tenant_b.initiator)):
        assert client.get("/routes/contract-route").status_code == 404
        assert client.post("/routes/contract-route/publish").status_code == 404
        put = client.call("put", "/routes/contract-route/draft", {"definition": GOOD})
        assert put.status_code == 404
    assert token_client(tenant_b.admin).get("/routes").json() == []


# --- the OpenAPI -----------------------------------------------------------------------


def test_openapi_lists_every_approval_operation(db: None) -> None:
    schema = Client().get(f"{API}/openapi.json").json()
    operations = {
        op["operationId"]: op
        for path in schema["paths"].values()
        for op in path.values()
    }
    assert set(operations) >= OPERATIONS
    for op_id in OPERATIONS:
        assert {"401", "403", "404", "422"} <= set(operations[op_id]["responses"])
    for op_id in (
        "task_decide",
        "task_reassign",
        "process_participants_change",
        "process_start",
        "process_resubmit",
        "process_cancel",
        "route_publish",
    ):
        conflict = operations[op_id]["responses"]["409"]
        assert conflict["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorsOut"
        }
    decide = schema["components"]["schemas"]["DecisionIn"]
    assert set(decide["required"]) == {"outcome", "request_id"}
    assert decide["additionalProperties"] is False


def test_session_callers_need_csrf_for_decisions(flow: Flow) -> None:
    flow.start()
    task = flow.open_task(flow.head)
    client = Client(enforce_csrf_checks=True)
    client.force_login(flow.head)
    response = client.post(
        f"{API}/tasks/{task.pk}/decision",
        json.dumps(decision()),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert codes(response) == [("", "csrf_failed")]
    assert session_client(flow.head).get("/tasks").status_code == 200
