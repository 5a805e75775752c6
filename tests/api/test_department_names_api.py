"""Departments' English names through the API (issue 12, item 7): create and update
accept ``name_en``, every answer returns it, and the OpenAPI schema says so."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.models import AuditEvent
from sogla.orgs.models import Department
from tests.api.conftest import token_client
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def problems(response: Any) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_create_and_update_take_and_return_the_english_name(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.admin)
    created = api.post(
        "/departments",
        {"code": "legal", "name": "Юридический отдел", "name_en": " Legal "},
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["name"], created.json()["name_en"]) == (
        "Юридический отдел",
        "Legal",
    )
    listed = {d["code"]: d for d in api.get("/departments").json()}
    assert listed["legal"]["name_en"] == "Legal"
    assert "name_en" in listed["sales"]
    renamed = api.patch("/departments/legal", {"name_en": "Legal department"})
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["name_en"] == "Legal department"
    assert renamed.json()["name"] == "Юридический отдел"  # untouched
    department = Department.objects.get(organisation=tenant_a.org, code="legal")
    assert department.name_en == "Legal department"
    changed = AuditEvent.objects.filter(verb="department.changed").latest("pk")
    assert changed.payload["changes"] == {
        "name_en": {"old": "Legal", "new": "Legal department"}
    }
    cleared = api.patch("/departments/legal", {"name_en": None})
    assert cleared.json()["name_en"] == ""
    kept = api.patch("/departments/legal", {"head": None})
    assert kept.json()["name_en"] == ""


def test_a_too_long_english_name_is_refused_naming_the_field(tenant_a: Tenant) -> None:
    api = token_client(tenant_a.admin)
    long = api.post("/departments", {"code": "x", "name": "X", "name_en": "E" * 201})
    assert long.status_code == 422
    assert "name_en" in str(long.json())
    assert not Department.objects.filter(code="x").exists()
    patch = api.patch("/departments/sales", {"name_en": "E" * 201})
    assert patch.status_code == 422
    assert "name_en" in str(patch.json())


def test_the_openapi_schema_describes_the_english_name(tenant_a: Tenant) -> None:
    schema = token_client(tenant_a.admin).get("/openapi.json").json()
    parts = schema["components"]["schemas"]
    for name in ("DepartmentOut", "DepartmentIn", "DepartmentPatchIn"):
        assert "name_en" in parts[name]["properties"], name
    assert "name_en" in parts["DepartmentOut"]["required"]
