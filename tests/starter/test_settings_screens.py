"""The settings screens: administrators only, the same checks as the API (the
problems come back on the fields), and what they save is what the API reads."""

from __future__ import annotations

import pytest
from django.test import Client

from sogla.documents.models import DocumentType, FieldDef, StatusDef
from sogla.orgs.models import CalendarDay, Department, Position, Role, WorkingCalendar
from tests.conftest import Tenant, phone_card_labels

pytestmark = pytest.mark.django_db


def admin_client(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(tenant.admin)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/settings/types/",
        "/settings/types/contract/",
        "/settings/organisation/",
        "/settings/departments/",
        "/settings/departments/sales/",
        "/settings/roles/",
        "/settings/positions/",
        "/settings/calendar/",
    ],
)
def test_every_settings_page_opens_for_an_administrator_only(
    tenant_a: Tenant, url: str
) -> None:
    assert admin_client(tenant_a).get(url).status_code == 200
    member = Client()
    member.force_login(tenant_a.initiator)
    assert member.get(url).status_code == 403
    assert member.post(url, {"name": "x", "key": "x", "code": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("url", "labels"),
    [
        ("/settings/departments/", [None, "Код", "Руководитель", None]),
        ("/settings/roles/", [None, "Ключ", "Кто исполняет", None]),
        ("/settings/types/", [None, "Ключ", "Нумерация", None]),
    ],
)
def test_on_a_phone_a_settings_list_labels_the_values_with_their_headings(
    tenant_a: Tenant, url: str, labels: list[str | None]
) -> None:
    """Below 768 px the rows are cards without the heading row: a code, a key or a
    person stands under its column's heading (data-label, in the organisation's
    language); the name and the buttons say what they are."""
    Role.objects.create(organisation=tenant_a.org, key="lawyer", name_ru="Юрист")
    headings, rows = phone_card_labels(admin_client(tenant_a).get(url).content.decode())
    assert rows
    assert all(row == labels for row in rows), rows
    assert {label for label in labels if label} <= set(headings)


def test_another_organisations_records_are_not_found(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client = admin_client(tenant_a)
    Department.objects.create(organisation=tenant_b.org, code="secret", name="S")
    assert client.get("/settings/departments/secret/").status_code == 404
    Role.objects.create(organisation=tenant_b.org, key="spy", name_ru="S", name_en="S")
    assert client.get("/settings/roles/spy/").status_code == 404


def test_a_type_is_created_with_the_usual_statuses_then_gets_fields(
    tenant_a: Tenant,
) -> None:
    client = admin_client(tenant_a)
    bad = client.post(
        "/settings/types/",
        {"key": "Memo!", "name_ru": "", "numbering_pattern": "{x}",
         "title_template": "{type}"},
    )  # fmt: skip
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "id_key_error" in page
    assert "id_numbering_pattern_error" in page
    created = client.post(
        "/settings/types/",
        {"key": "memo", "name_ru": "Записка", "name_en": "Memo", "prefix": "СЗ",
         "numbering_pattern": "{prefix}-{seq}", "title_template": "{type} {number}",
         "has_files": "on"},
    )  # fmt: skip
    assert created.status_code == 302
    memo = DocumentType.objects.get(organisation=tenant_a.org, key="memo")
    assert StatusDef.objects.filter(doc_type=memo).count() == 6
    field = client.post(
        "/settings/types/memo/",
        {"form": "field", "key": "kind", "label_ru": "Вид", "kind": "choice",
         "choices": "Первый\nВторой\n"},
    )  # fmt: skip
    assert field.status_code == 302
    assert FieldDef.objects.get(doc_type=memo, key="kind").choices == [
        {"value": "Первый", "ru": "Первый", "en": "Первый"},
        {"value": "Второй", "ru": "Второй", "en": "Второй"},
    ]
    empty_choice = client.post(
        "/settings/types/memo/",
        {"form": "field", "key": "other", "label_ru": "Д", "kind": "choice"},
    )
    assert empty_choice.status_code == 400
    client.post("/settings/types/memo/statuses/draft/remove/")
    assert StatusDef.objects.filter(doc_type=memo, key="draft").exists()
    client.post("/settings/types/memo/statuses/cancelled/remove/")
    assert not StatusDef.objects.filter(doc_type=memo, key="cancelled").exists()


def test_departments_roles_positions_and_the_calendar(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a)
    added = client.post(
        "/settings/departments/",
        {"name": "Юристы", "code": "legal", "parent": "sales",
         "head": str(tenant_a.colleague.pk)},
    )  # fmt: skip
    assert added.status_code == 302
    legal = Department.objects.get(organisation=tenant_a.org, code="legal")
    assert (legal.parent, legal.head) == (tenant_a.department, tenant_a.colleague)
    cycle = client.post(
        "/settings/departments/sales/", {"name": "Sales", "parent": "legal"}
    )
    assert cycle.status_code == 400

    role = client.post(
        "/settings/roles/",
        {"key": "lawyer", "name_ru": "Юрист", "members": [str(tenant_a.colleague.pk)]},
    )
    assert role.status_code == 302
    client.post(
        "/settings/roles/lawyer/",
        {"name_ru": "Юрист", "members": [str(tenant_a.initiator.pk)]},
    )
    assert list(Role.objects.get(key="lawyer").members.all()) == [tenant_a.initiator]

    assert client.post("/settings/positions/", {"name": "Юрист"}).status_code == 302
    assert client.post("/settings/positions/", {"name": "Юрист"}).status_code == 400
    assert Position.objects.filter(organisation=tenant_a.org).count() == 1

    saved = client.post(
        "/settings/calendar/",
        {"form": "calendar", "working_weekdays": ["0", "1", "2", "3"],
         "day_starts": "08:00", "day_ends": "17:00"},
    )  # fmt: skip
    assert saved.status_code == 302
    calendar = WorkingCalendar.objects.get(organisation=tenant_a.org)
    assert (calendar.working_weekdays, calendar.use_public_holidays) == (
        "0,1,2,3",
        False,
    )
    wrong = client.post(
        "/settings/calendar/",
        {"form": "calendar", "day_starts": "18:00", "day_ends": "09:00"},
    )
    assert wrong.status_code == 400
    client.post(
        "/settings/calendar/",
        {"form": "day", "day": "2027-01-08", "is_working": "on", "name": "Перенос"},
    )
    assert CalendarDay.objects.get(organisation=tenant_a.org).is_working
    client.post("/settings/calendar/2027-01-08/remove/")
    assert not CalendarDay.objects.exists()
