"""Import of people and departments: preview with per-row problems, nothing
half-imported, idempotent, cp1251 and UTF-8, XLSX, formulas, duplicates, size."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from openpyxl import Workbook

from sogla.core.models import AuditEvent
from sogla.orgs.imports import ImportRefused, import_apply, import_preview
from sogla.orgs.models import Department, User
from tests.conftest import Tenant

DEPARTMENTS = "code;name;parent\nlegal;Юридический отдел;\ncontracts;Договорной;legal\n"
PEOPLE = (
    "Эл. почта,Фамилия,Имя,Подразделение,Должность,Руководитель,Администратор\n"
    "ivanova@alpha.test,Иванова,Мария,legal,Юрист,,нет\n"
    "petrov@alpha.test,Петров,Пётр,Договорной,Юрист,ivanova@alpha.test,да\n"
)


def admin_client(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(tenant.admin)
    return client


def upload(client: Client, name: str, data: bytes) -> Any:
    return client.post(
        "/accounts/people/import/", {"file": SimpleUploadedFile(name, data)}
    )


def confirm(client: Client, response: Any) -> Any:
    token = response.context["token"]
    return client.post("/accounts/people/import/", {"token": token})


def test_departments_then_people_in_cp1251_preview_then_import_then_again(
    tenant_a: Tenant,
) -> None:
    client = admin_client(tenant_a)
    preview = upload(client, "deps.csv", DEPARTMENTS.encode("cp1251"))
    assert preview.status_code == 200
    assert not Department.objects.filter(code="legal").exists()  # nothing saved yet
    assert confirm(client, preview).status_code == 302
    legal = Department.objects.get(organisation=tenant_a.org, code="legal")
    assert legal.name == "Юридический отдел"
    assert Department.objects.get(code="contracts").parent == legal

    preview = upload(client, "people.csv", ("\ufeff" + PEOPLE).encode("utf-8"))
    assert preview.status_code == 200
    assert preview.context["preview"].to_create == 2
    assert confirm(client, preview).status_code == 302
    ivanova = User.objects.get(email="ivanova@alpha.test")
    petrov = User.objects.get(email="petrov@alpha.test")
    assert ivanova.organisation == tenant_a.org
    assert ivanova.department == legal
    assert not ivanova.has_usable_password()
    assert petrov.manager == ivanova
    assert petrov.is_staff
    assert petrov.position is not None
    assert petrov.position.name == "Юрист"
    assert AuditEvent.objects.filter(verb="people.imported").count() == 1

    # the same file again: nothing changes
    again = upload(client, "people.csv", PEOPLE.encode("cp1251"))
    counted = again.context["preview"]
    assert (counted.to_create, counted.to_update, counted.unchanged) == (0, 0, 2)
    assert confirm(client, again).status_code == 302
    assert (
        User.objects.filter(
            email__endswith="@alpha.test", username__contains="@"
        ).count()
        == 2
    )


def test_bad_rows_are_reported_and_nothing_is_saved(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    data = (
        "email;last_name;department;manager;admin\n"
        "ok@alpha.test;Good;;;\n"
        "not-an-email;Bad;;;\n"
        "ok@alpha.test;Twice;;;\n"
        f"{tenant_b.colleague.email};Other;;;\n"
        "dep@alpha.test;Dep;nowhere;;\n"
        'f@alpha.test;=HYPERLINK("http://x");;;\n'
        "m@alpha.test;M;;ghost@alpha.test;maybe\n"
    ).encode()
    client = admin_client(tenant_a)
    response = upload(client, "bad.csv", data)
    assert response.status_code == 400
    preview = response.context["preview"]
    found = {(p.row, p.column) for p in preview.problems}
    assert found == {
        (3, "email"), (4, "email"), (5, "email"), (6, "department"),
        (7, "last_name"), (8, "manager"), (8, "admin"),
    }  # fmt: skip
    assert "token" not in response.context
    assert not User.objects.filter(email="ok@alpha.test").exists()
    with pytest.raises(ImportRefused):
        import_apply(actor=tenant_a.admin, name="bad.csv", data=data)
    assert not User.objects.filter(email="ok@alpha.test").exists()


def test_wrong_columns_empty_and_unreadable_files(tenant_a: Tenant) -> None:
    for name, data, words in [
        ("x.csv", b"foo,bar\n1,2\n", "Columns not recognised"),
        ("x.csv", b"", "empty"),
        ("x.csv", b"email\n", "no rows"),
        ("x.xlsx", b"PK\x03\x04garbage", "not a readable XLSX"),
    ]:
        preview = import_preview(actor=tenant_a.admin, name=name, data=data)
        assert not preview.ok
        assert words in " ".join(str(e) for e in preview.file_errors)


def test_xlsx_with_a_formula_cell(tenant_a: Tenant) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "last_name", "first_name"])
    sheet.append(["x1@alpha.test", "Xlsx", "One"])
    sheet.append(["x2@alpha.test", '=A2&"!"', "Two"])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = import_preview(
        actor=tenant_a.admin, name="p.xlsx", data=buffer.getvalue()
    )
    assert [(p.row, p.column) for p in preview.problems] == [(3, "last_name")]
    sheet.delete_rows(3)
    buffer = io.BytesIO()
    book.save(buffer)
    done = import_apply(actor=tenant_a.admin, name="p.xlsx", data=buffer.getvalue())
    assert done.to_create == 1
    assert User.objects.get(email="x1@alpha.test").last_name == "Xlsx"


def test_a_hundred_thousand_rows_are_refused_whole_and_fast(tenant_a: Tenant) -> None:
    lines = ["email,last_name"] + [f"p{n}@alpha.test,P{n}" for n in range(100_000)]
    data = "\n".join(lines).encode()
    started = time.monotonic()
    with override_settings(SOGLA_IMPORT_MAX_ROWS=50_000):
        preview = import_preview(actor=tenant_a.admin, name="big.csv", data=data)
    assert time.monotonic() - started < 10
    assert "more than 50000 rows" in " ".join(str(e) for e in preview.file_errors)
    assert not User.objects.filter(email="p1@alpha.test").exists()


def test_import_is_for_administrators_of_their_own_organisation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    member = Client()
    member.force_login(tenant_a.colleague)
    assert upload(member, "p.csv", PEOPLE.encode()).status_code == 404
    client_a = admin_client(tenant_a)
    preview = upload(client_a, "p.csv", b"code,name\nlegal,Legal\n")
    token = preview.context["token"]
    client_b = admin_client(tenant_b)
    # B cannot use A's uploaded file
    response = client_b.post("/accounts/people/import/", {"token": token})
    assert response.status_code == 302
    assert not Department.objects.filter(code="legal").exists()
    assert confirm(client_a, preview).status_code == 302
    assert Department.objects.get(code="legal").organisation == tenant_a.org
