"""Writing the organisation's settings through the API: document types with their
fields and statuses, departments, roles, positions, the calendar. Administrators
only, the same checks as the screens, other organisations' records unreachable."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.documents.models import DocumentType, StatusDef
from sogla.orgs.models import CalendarDay, Department, Role
from tests.api.conftest import token_client
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

NEW_TYPE: dict[str, Any] = {
    "key": "memo",
    "name_ru": "Служебная записка",
    "name_en": "Memo",
    "prefix": "СЗ",
    "title_template": "{type} {number}: {subject}",
    "folder_rule": "Записки/{yyyy}",
    "fields": [
        {"key": "subject", "label_ru": "Тема", "label_en": "Subject", "kind": "string", "required": True},
        {"key": "kind", "label_ru": "Вид", "label_en": "Kind", "kind": "choice",
         "choices": [{"value": "a", "ru": "А", "en": "A"}]},
    ],
}  # fmt: skip


def problems(response: Any) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_a_new_type_gets_the_usual_statuses(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.admin)
    response = api.post("/document-types", NEW_TYPE)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [f["key"] for f in body["fields"]] == ["subject", "kind"]
    assert [s["key"] for s in body["statuses"]] == [
        "draft", "on_approval", "returned", "approved", "rejected", "cancelled",
    ]  # fmt: skip


def test_a_bad_type_is_refused_naming_every_field(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.admin)
    bad = {
        **NEW_TYPE,
        "key": "contract",  # taken
        "numbering_pattern": "{prefix}-{year}",
        "title_template": "{nope}",
        "fields": [
            {"key": "x", "label_ru": "X", "kind": "choice"},
            {"key": "x", "label_ru": "Y", "kind": "weird",
             "required_when": {"field": "ghost", "op": "eq", "value": 1}},
        ],
        "statuses": [
            {"key": "a", "name_ru": "А", "meaning": "draft", "token": "neutral"},
        ],
    }  # fmt: skip
    response = api.post("/document-types", bad)
    assert response.status_code == 422
    assert problems(response) == {
        "key": "taken",
        "numbering_pattern": "no_sequence",
        "title_template": "unknown_placeholder",
        "fields[0].choices": "required",
        "fields[1].key": "duplicate",
        "fields[1].kind": "invalid",
        "fields[1].required_when": "unknown_field",
        "statuses": "initial",
    }
    assert not DocumentType.objects.filter(key="memo").exists()


def test_fields_and_statuses_are_added_and_the_initial_status_stays(
    tenant_a: Tenant,
) -> None:
    api = token_client(tenant_a.admin)
    api.post("/document-types", NEW_TYPE)
    added = api.post(
        "/document-types/memo/fields",
        {"key": "due", "label_ru": "Срок", "label_en": "Due", "kind": "date"},
    )
    assert added.status_code == 201
    assert [f["key"] for f in added.json()["fields"]][-1] == "due"
    again = api.post(
        "/document-types/memo/fields",
        {"key": "due", "label_ru": "Срок", "kind": "date"},
    )
    assert (again.status_code, problems(again)) == (422, {"key": "duplicate"})

    status = api.post(
        "/document-types/memo/statuses",
        {"key": "signed", "name_ru": "Подписан", "name_en": "Signed",
         "meaning": "success", "token": "signed"},
    )  # fmt: skip
    assert status.status_code == 201
    second_initial = api.post(
        "/document-types/memo/statuses",
        {"key": "new", "name_ru": "Новый", "meaning": "draft", "token": "neutral",
         "initial": True},
    )  # fmt: skip
    assert second_initial.status_code == 422

    assert api.delete("/document-types/memo/statuses/signed").status_code == 204
    initial = api.delete("/document-types/memo/statuses/draft")
    assert (initial.status_code, problems(initial)) == (422, {"key": "initial"})
    assert StatusDef.objects.filter(doc_type__key="memo", is_initial=True).count() == 1

    patched = api.patch(
        "/document-types/memo",
        {"name_en": "Internal memo", "numbering_pattern": "{seq}"},
    )
    assert patched.status_code == 200
    assert patched.json()["name_en"] == "Internal memo"
    bad = api.patch("/document-types/memo", {"folder_rule": "{ghost}"})
    assert (bad.status_code, problems(bad)) == (
        422,
        {"folder_rule": "unknown_placeholder"},
    )


def test_only_administrators_write_and_other_organisations_are_unreachable(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    member = token_client(tenant_a.initiator)
    assert member.post("/document-types", NEW_TYPE).status_code == 403
    assert member.post("/departments", {"code": "x", "name": "X"}).status_code == 403
    assert member.post("/roles", {"key": "x", "name_ru": "X"}).status_code == 403
    other = token_client(tenant_b.admin)
    assert other.patch("/document-types/contract", {"name_en": "Mine"}).status_code in {
        200,  # tenant B's own contract type
    }
    assert (
        DocumentType.objects.get(organisation=tenant_a.org, key="contract").name_en
        != "Mine"
    )
    assert other.delete("/document-types/contract/statuses/x").status_code == 404
    named = other.post(
        "/roles",
        {"key": "lawyer", "name_ru": "Юрист", "members": [tenant_a.colleague.pk]},
    )
    assert (named.status_code, problems(named)) == (422, {"members": "invalid"})
    assert not Role.objects.filter(key="lawyer").exists()


def test_departments_form_a_tree_without_cycles(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.admin)
    created = api.post(
        "/departments",
        {"code": "north", "name": "North sales", "parent": "sales",
         "head": tenant_a.colleague.pk},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["parent"] == "sales"
    assert created.json()["head"]["id"] == tenant_a.colleague.pk
    duplicate = api.post("/departments", {"code": "north", "name": "Again"})
    assert problems(duplicate) == {"code": "taken"}
    cycle = api.patch("/departments/sales", {"parent": "north"})
    assert (cycle.status_code, problems(cycle)) == (422, {"parent": "cycle"})
    tree = api.get("/departments").json()
    assert [(d["code"], d["depth"]) for d in tree] == [("sales", 0), ("north", 1)]
    moved = api.patch("/departments/north", {"parent": None, "head": None})
    assert (moved.json()["parent"], moved.json()["head"]) == (None, None)
    assert Department.objects.get(code="north").parent is None


def test_roles_positions_and_the_calendar(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.admin)
    role = api.post(
        "/roles",
        {"key": "lawyer", "name_ru": "Юрист", "name_en": "Lawyer",
         "members": [tenant_a.colleague.pk]},
    )  # fmt: skip
    assert role.status_code == 201
    assert [m["id"] for m in role.json()["members"]] == [tenant_a.colleague.pk]
    changed = api.patch("/roles/lawyer", {"members": [tenant_a.initiator.pk]})
    assert [m["id"] for m in changed.json()["members"]] == [tenant_a.initiator.pk]

    assert api.post("/positions", {"name": "Юрист"}).status_code == 201
    assert problems(api.post("/positions", {"name": "Юрист"})) == {"name": "taken"}

    calendar = api.call(
        "put",
        "/calendar",
        {"working_weekdays": [0, 1, 2, 3], "day_starts": "08:00", "day_ends": "17:00"},
    )
    assert calendar.status_code == 200
    assert calendar.json()["working_weekdays"] == [0, 1, 2, 3]
    wrong = api.call(
        "put",
        "/calendar",
        {"working_weekdays": [], "day_starts": "18:00", "day_ends": "09:00"},
    )
    assert problems(wrong) == {"working_weekdays": "invalid", "day_ends": "invalid"}
    day = api.call(
        "put", "/calendar/days/2027-01-08", {"is_working": True, "name": "Перенос"}
    )
    assert day.json()["days"] == [
        {"date": "2027-01-08", "is_working": True, "name": "Перенос"}
    ]
    assert api.delete("/calendar/days/2027-01-08").status_code == 204
    assert not CalendarDay.objects.exists()
    assert api.delete("/calendar/days/2027-01-08").status_code == 404
