"""The route builder's pages and endpoints through the test client: the list, the
builder, checks by path, a stale save answered 409, publish, simulate, export,
import refused whole, the read-only outline, the admin's read-only JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sogla.orgs.models import Role
from sogla.workflow.models import RouteTemplate, RouteVersion
from tests.conftest import Tenant
from tests.workflow.conftest import approve, route, stage

pytestmark = pytest.mark.django_db


def _admin(tenant: Tenant, language: str = "en") -> Client:
    tenant.admin.language = language
    tenant.admin.save(update_fields=["language"])
    client = Client()
    client.force_login(tenant.admin)
    return client


def _post(client: Client, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_builder_round_trip(tenant_a: Tenant) -> None:
    client = _admin(tenant_a)
    created = client.post(
        "/settings/routes/",
        {
            "doc_type": tenant_a.contract.pk,
            "key": "web",
            "name_ru": "Веб",
            "name_en": "Web",
        },
    )
    template = RouteTemplate.objects.get(key="web")
    assert created.status_code == 302
    assert created["Location"] == f"/settings/routes/{template.pk}/"
    page = client.get(f"/settings/routes/{template.pk}/")
    assert page.status_code == 200
    assert b"rb-state" in page.content
    assert b"builder.js" in page.content
    base = f"/settings/routes/{template.pk}/"
    definition = route(stage("one", approve("a", {"role": "ghost"})))
    status, checked = _post(client, base + "check/", {"definition": definition})
    assert status == 200
    assert checked["problems"] == [
        {
            "path": "stages[0].steps[0].assignee.role",
            "message": "There is no role «ghost» in this organisation.",
        }
    ]
    status, saved = _post(
        client, base + "save/", {"definition": definition, "token": "p0"}
    )
    assert status == 200
    assert saved["token"] == "d1.1"
    status, stale = _post(
        client, base + "save/", {"definition": definition, "token": "p0"}
    )
    assert status == 409
    assert "changed the draft" in str(stale["message"])
    status, refused = _post(
        client, base + "publish/", {"definition": definition, "token": "d1.1"}
    )
    assert status == 422
    assert refused["problems"]
    good = route(stage("one", approve("a", {"user": tenant_a.colleague.username})))
    status, sim = _post(
        client,
        base + "simulate/",
        {"definition": good, "initiator": str(tenant_a.initiator.pk), "values": {}},
    )
    assert status == 200
    assert sim["stages"][0]["steps"][0]["people"] == [tenant_a.colleague.short_name]
    status, published = _post(
        client, base + "publish/", {"definition": good, "token": "d1.1"}
    )
    assert status == 200
    assert published["publishedNumber"] == 1
    exported = client.get(base + "export/")
    assert json.loads(exported.content)["stages"][0]["key"] == "one"
    assert "attachment" in exported["Content-Disposition"]
    from io import BytesIO

    bad = BytesIO(b"not json at all")
    bad.name = "route.json"
    answer = client.post(base + "import/", {"file": bad, "token": "p1"})
    assert answer.status_code == 422
    assert "not JSON" in answer.json()["message"]
    assert RouteVersion.objects.filter(template=template).count() == 1
    outline = client.get(base)
    assert b"rb-outline" in outline.content
    listing = client.get("/settings/routes/")
    assert b"Web" in listing.content
    assert b"v1" in listing.content


def test_admin_lists_routes_read_only_with_a_builder_link(tenant_a: Tenant) -> None:
    from sogla.workflow.services import route_builder as commands
    from sogla.workflow.services import route_template_create

    template = route_template_create(
        actor=tenant_a.admin, doc_type=tenant_a.contract, key="adm", name_ru="Адм"
    )
    commands.route_builder_save(
        actor=tenant_a.admin,
        template=template,
        definition=route(stage("s", approve("a", {"initiator": True}))),
        base="p0",
    )
    client = _admin(tenant_a)
    assert client.get("/admin/workflow/routetemplate/").status_code == 200
    page = client.get(f"/admin/workflow/routetemplate/{template.pk}/change/")
    assert page.status_code == 200
    assert f"/settings/routes/{template.pk}/".encode() in page.content
    assert b"&quot;initiator&quot;: true" in page.content


def test_plain_user_cannot_open_the_builder(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.initiator)
    assert client.get("/settings/routes/").status_code == 403


def test_builder_page_and_list_take_constant_queries(
    tenant_a: Tenant, django_assert_max_num_queries: Any
) -> None:
    from sogla.workflow.services import route_template_create

    template = route_template_create(
        actor=tenant_a.admin, doc_type=tenant_a.contract, key="q", name_ru="Q"
    )
    Role.objects.create(
        organisation=tenant_a.org, key="lawyer", name_ru="Юрист", name_en="Lawyer"
    )
    client = _admin(tenant_a)
    client.post(
        f"/settings/routes/{template.pk}/save/",
        json.dumps(
            {
                "definition": route(
                    stage("s", approve("a", {"initiator": True})),
                    stage("t", approve("b", {"role": "ghost"})),
                ),
                "token": "p0",
            }
        ),
        content_type="application/json",
    )
    # UI.md screen 9: at most ten queries, whatever the route holds.
    with django_assert_max_num_queries(10):
        page = client.get(f"/settings/routes/{template.pk}/")
    assert page.status_code == 200
    state = page.context["state"]
    assert state["draftNumber"] == 1
    assert state["facts"]["roles"] == [{"key": "lawyer", "label": "Lawyer"}]
    assert [d["key"] for d in state["facts"]["departments"]] == [
        tenant_a.department.code
    ]
    assert {s["key"] for s in state["facts"]["statuses"]} >= {"draft", "approved"}
    # Published, with a new draft over it: the same.
    from sogla.workflow.services import route_builder as commands

    commands.route_builder_publish(
        actor=tenant_a.admin,
        template=template,
        definition=route(stage("s", approve("a", {"initiator": True}))),
        base=commands.route_token(template),
    )
    commands.route_builder_save(
        actor=tenant_a.admin,
        template=template,
        definition=route(stage("s", approve("a", {"role": "lawyer"}))),
        base="p1",
    )
    with django_assert_max_num_queries(10):
        page = client.get(f"/settings/routes/{template.pk}/")
    state = page.context["state"]
    assert (state["draftNumber"], state["publishedNumber"]) == (2, 1)
    with django_assert_max_num_queries(10):
        assert client.get("/settings/routes/").status_code == 200


def test_simulation_says_why_in_the_readers_language(tenant_a: Tenant) -> None:
    """A department by its name, never its code; nobody to ask, said in Russian."""
    from sogla.workflow.services import route_template_create

    template = route_template_create(
        actor=tenant_a.admin, doc_type=tenant_a.contract, key="why", name_ru="Почему"
    )
    client = _admin(tenant_a, "ru")
    orphan = tenant_a.admin  # no department, no manager
    assert orphan.department_id is None
    assert orphan.manager_id is None
    definition = route(
        stage(
            "one",
            approve("boss", {"manager_of": "initiator"}),
            {
                **approve("sales", {"initiator": True}),
                "when": {"field": "initiator.department", "op": "eq", "value": "sales"},
            },
        )
    )
    status, sim = _post(
        client,
        f"/settings/routes/{template.pk}/simulate/",
        {"definition": definition, "initiator": str(orphan.pk), "values": {}},
    )
    assert status == 200
    [boss, sales] = sim["stages"][0]["steps"]
    assert boss["unresolved"]
    assert "нет руководителя" in boss["reason"]
    assert not sales["runs"]
    assert tenant_a.department.name in sales["reason"]
    assert "sales" not in sales["reason"]
