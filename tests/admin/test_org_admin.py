"""The organisation-scoped admin: own rows only, by list, URL and choice."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sogla.documents.models import (
    Counterparty,
    DocumentType,
    FieldDef,
    Folder,
    StatusDef,
)
from sogla.orgs.models import Department, Role, User
from tests.admin.conftest import admin_client, management
from tests.conftest import Tenant
from tests.factories import CounterpartyFactory, RoleFactory, UserFactory

ADMIN = "/admin"


def changelist_names(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize(
    "model",
    [
        "orgs/department",
        "orgs/position",
        "orgs/user",
        "orgs/role",
        "orgs/delegation",
        "orgs/workingcalendar",
        "orgs/organisation",
        "documents/documenttype",
        "documents/folder",
        "documents/counterparty",
    ],
)
def test_org_admin_reaches_every_configuration_changelist(
    tenant_a: Tenant, model: str
) -> None:
    client = admin_client(tenant_a.admin)
    assert client.get(f"{ADMIN}/{model}/").status_code == 200
    assert client.get(f"{ADMIN}/{model}/add/").status_code in (200, 403)


def test_changelists_show_only_own_rows(tenant_a: Tenant, tenant_b: Tenant) -> None:
    CounterpartyFactory(organisation=tenant_a.org, name="Alpha Supplies")
    CounterpartyFactory(organisation=tenant_b.org, name="Beta Secret Supplies")
    RoleFactory(organisation=tenant_b.org, key="beta-role", name_en="Beta Role")
    client = admin_client(tenant_a.admin)
    html = changelist_names(client, f"{ADMIN}/documents/counterparty/")
    assert "Alpha Supplies" in html
    assert "Beta Secret" not in html
    users = changelist_names(client, f"{ADMIN}/orgs/user/")
    assert "alpha-initiator" in users
    assert "beta-" not in users
    assert "beta-role" not in changelist_names(client, f"{ADMIN}/orgs/role/")
    assert "Beta" not in changelist_names(client, f"{ADMIN}/orgs/organisation/")


def _foreign_urls(tenant_b: Tenant) -> list[str]:
    party = CounterpartyFactory(organisation=tenant_b.org, name="Beta Secret Supplies")
    return [
        f"{ADMIN}/documents/counterparty/{party.pk}/change/",
        f"{ADMIN}/documents/counterparty/{party.pk}/delete/",
        f"{ADMIN}/documents/counterparty/{party.pk}/history/",
        f"{ADMIN}/orgs/user/{tenant_b.initiator.pk}/change/",
        f"{ADMIN}/orgs/user/{tenant_b.initiator.pk}/password/",
        f"{ADMIN}/orgs/department/{tenant_b.department.pk}/change/",
        f"{ADMIN}/documents/documenttype/{tenant_b.contract.pk}/change/",
        f"{ADMIN}/orgs/organisation/{tenant_b.org.pk}/change/",
    ]


def test_foreign_ids_by_url_show_nothing(tenant_a: Tenant, tenant_b: Tenant) -> None:
    client = admin_client(tenant_a.admin)
    for url in _foreign_urls(tenant_b):
        response = client.get(url, follow=True)
        html = response.content.decode()
        assert response.status_code in (200, 404), url
        if response.status_code == 200:
            assert response.redirect_chain, url  # redirected away, to the index
        assert "Beta Secret" not in html, url
        assert "beta-initiator" not in html, url
        assert "Beta" not in html.replace("Beta Secret", ""), url


def test_foreign_ids_cannot_be_changed_or_deleted(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client = admin_client(tenant_a.admin)
    party = CounterpartyFactory(organisation=tenant_b.org, name="Beta Secret Supplies")
    data = {"name": "Taken over", "category": "customer", **management("contacts")}
    client.post(f"{ADMIN}/documents/counterparty/{party.pk}/change/", data)
    client.post(f"{ADMIN}/documents/counterparty/{party.pk}/delete/", {"post": "yes"})
    client.post(
        f"{ADMIN}/orgs/user/{tenant_b.initiator.pk}/password/",
        {
            "password1": "Pwned-pass-123",
            "password2": "Pwned-pass-123",
            "usable_password": "true",
        },
    )
    party.refresh_from_db()
    assert party.name == "Beta Secret Supplies"
    tenant_b.initiator.refresh_from_db()
    assert tenant_b.initiator.check_password("secret-pass-123")


def test_foreign_key_choices_are_own_organisation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client = admin_client(tenant_a.admin)
    html = client.get(f"{ADMIN}/orgs/department/add/").content.decode()
    assert f'value="{tenant_a.initiator.pk}"' in html
    assert f'value="{tenant_b.initiator.pk}"' not in html
    assert "Beta" not in html

    response = client.post(
        f"{ADMIN}/orgs/department/add/",
        {"name": "Legal", "code": "legal", "head": tenant_b.initiator.pk},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in response.content.decode()
    assert not Department.objects.filter(code="legal").exists()

    created = client.post(
        f"{ADMIN}/orgs/department/add/",
        {"name": "Legal", "code": "legal", "head": tenant_a.initiator.pk},
    )
    assert created.status_code == 302
    department = Department.objects.get(code="legal")
    assert department.organisation_id == tenant_a.org.pk


def test_many_to_many_choices_and_roles(tenant_a: Tenant, tenant_b: Tenant) -> None:
    client = admin_client(tenant_a.admin)
    response = client.post(
        f"{ADMIN}/orgs/role/add/",
        {
            "key": "lawyer",
            "name_ru": "Юрист",
            "name_en": "Lawyer",
            "members": [tenant_a.colleague.pk, tenant_b.colleague.pk],
        },
    )
    assert response.status_code == 200
    assert not Role.objects.filter(key="lawyer").exists()
    client.post(
        f"{ADMIN}/orgs/role/add/",
        {
            "key": "lawyer",
            "name_ru": "Юрист",
            "name_en": "Lawyer",
            "members": [tenant_a.colleague.pk],
        },
    )
    role = Role.objects.get(key="lawyer")
    assert role.organisation_id == tenant_a.org.pk
    assert list(role.members.all()) == [tenant_a.colleague]
    duplicate = client.post(
        f"{ADMIN}/orgs/role/add/", {"key": "lawyer", "name_ru": "Ю", "name_en": "L"}
    )
    assert duplicate.status_code == 200  # the unique key per organisation is checked
    assert Role.objects.filter(key="lawyer").count() == 1


def test_user_admin_creates_scoped_user_with_password_and_roles(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    role = RoleFactory(organisation=tenant_a.org, key="cfo")
    client = admin_client(tenant_a.admin)
    response = client.post(
        f"{ADMIN}/orgs/user/add/",
        {
            "username": "new-person",
            "usable_password": "true",
            "password1": "Very-secret-42",
            "password2": "Very-secret-42",
            "first_name": "New",
            "last_name": "Person",
            "department": tenant_a.department.pk,
            "manager": tenant_a.initiator.pk,
            "roles": [role.pk],
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new-person")
    assert user.organisation_id == tenant_a.org.pk
    assert user.check_password("Very-secret-42")
    assert user.is_superuser is False
    assert user.manager_id == tenant_a.initiator.pk
    assert list(user.roles.all()) == [role]

    refused = client.post(
        f"{ADMIN}/orgs/user/add/",
        {
            "username": "other",
            "usable_password": "true",
            "password1": "Very-secret-42",
            "password2": "Very-secret-42",
            "manager": tenant_b.admin.pk,
        },
    )
    assert refused.status_code == 200
    assert not User.objects.filter(username="other").exists()

    change = client.get(f"{ADMIN}/orgs/user/{user.pk}/change/").content.decode()
    assert "is_superuser" not in change
    assert f'value="{tenant_b.initiator.pk}"' not in change


def _type_data(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": "memo",
        "name_ru": "Служебка",
        "name_en": "Memo",
        "prefix": "M",
        "numbering_pattern": "{prefix}-{yyyy}-{seq:05}",
        "title_template": "{type} {number} {topic}",
        "folder_rule": "",
        "has_files": "on",
        "is_active": "on",
        "order": "0",
        **management("fields", 1),
        "fields-0-key": "topic",
        "fields-0-kind": "string",
        "fields-0-order": "0",
        "fields-0-label_ru": "Тема",
        "fields-0-label_en": "Topic",
        "fields-0-required_when": "null",
        "fields-0-choices": "[]",
        **management("statuses", 1),
        "statuses-0-key": "draft",
        "statuses-0-name_ru": "Черновик",
        "statuses-0-name_en": "Draft",
        "statuses-0-meaning": "draft",
        "statuses-0-token": "neutral",
        "statuses-0-is_initial": "on",
        "statuses-0-order": "0",
    }
    data.update(extra)
    return data


def test_document_type_with_inlines(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a.admin)
    response = client.post(f"{ADMIN}/documents/documenttype/add/", _type_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    memo = DocumentType.objects.get(key="memo")
    assert memo.organisation_id == tenant_a.org.pk
    field = FieldDef.objects.get(doc_type=memo)
    assert (field.key, field.organisation_id) == ("topic", tenant_a.org.pk)
    assert StatusDef.objects.get(doc_type=memo).organisation_id == tenant_a.org.pk


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"numbering_pattern": "{prefix}-{bogus}-{seq}"},
            "Unknown placeholders: {bogus}",
        ),
        ({"numbering_pattern": "{prefix}-{yyyy}"}, "must contain {seq}"),
        ({"title_template": "{type} {nope}"}, "Unknown placeholders: {nope}"),
        (
            {"fields-0-required_when": '{"field": "topic", "op": "between"}'},
            "condition is not valid",
        ),
        (
            {"fields-0-required_when": '{"field": "ghost", "op": "eq", "value": 1}'},
            "unknown fields: ghost",
        ),
        (
            {"fields-0-kind": "choice", "fields-0-choices": '[{"label": "x"}]'},
            "Enter a list such as",
        ),
        ({"fields-0-kind": "choice", "fields-0-choices": "[]"}, "at least one choice"),
        (
            {
                **management("statuses", 2),
                "statuses-1-key": "second",
                "statuses-1-name_ru": "Второй",
                "statuses-1-name_en": "Second",
                "statuses-1-meaning": "active",
                "statuses-1-token": "active",
                "statuses-1-is_initial": "on",
                "statuses-1-order": "1",
            },
            "Only one status can be the initial one",
        ),
    ],
)
def test_document_type_validation(
    tenant_a: Tenant, extra: dict[str, Any], message: str
) -> None:
    client = admin_client(tenant_a.admin)
    response = client.post(f"{ADMIN}/documents/documenttype/add/", _type_data(**extra))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not DocumentType.objects.filter(key="memo").exists()


def test_counterparty_admin_checks_duplicates_and_sets_org(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    CounterpartyFactory(organisation=tenant_a.org, name="Romashka", tax_id="7700000016")
    CounterpartyFactory(organisation=tenant_b.org, name="Lyutik", tax_id="7700000023")
    client = admin_client(tenant_a.admin)
    base = {
        "category": "customer",
        **management("contacts", 1),
        "contacts-0-name": "Ivan",
    }
    dup = client.post(
        f"{ADMIN}/documents/counterparty/add/",
        {**base, "name": "Other", "tax_id": "7700000016"},
    )
    assert dup.status_code == 200
    assert "already exists: Romashka" in dup.content.decode()
    # Another organisation's tax id is no duplicate here, and nothing about it shows.
    ok = client.post(
        f"{ADMIN}/documents/counterparty/add/",
        {**base, "name": "ООО «Лютик»", "tax_id": "7700000023"},
    )
    assert ok.status_code == 302, ok.content.decode()[:2000]
    party = Counterparty.objects.get(organisation=tenant_a.org, tax_id="7700000023")
    assert party.normalized_name == "лютик"
    assert [(c.name, c.organisation_id) for c in party.contacts.all()] == [
        ("Ivan", tenant_a.org.pk)
    ]


def test_folder_paths(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a.admin)
    client.post(f"{ADMIN}/documents/folder/add/", {"name": "Contracts"})
    top = Folder.objects.get(path="Contracts")
    client.post(f"{ADMIN}/documents/folder/add/", {"name": "2025", "parent": top.pk})
    assert Folder.objects.get(path="Contracts/2025").organisation_id == tenant_a.org.pk
    client.post(f"{ADMIN}/documents/folder/{top.pk}/change/", {"name": "Agreements"})
    assert set(Folder.objects.values_list("path", flat=True)) == {
        "Agreements",
        "Agreements/2025",
    }


def test_platform_superuser_sees_everything(tenant_a: Tenant, tenant_b: Tenant) -> None:
    root = UserFactory(
        organisation=None, username="root", is_staff=True, is_superuser=True
    )
    CounterpartyFactory(organisation=tenant_b.org, name="Beta Secret Supplies")
    client = admin_client(root)
    assert "Beta Secret Supplies" in changelist_names(
        client, f"{ADMIN}/documents/counterparty/"
    )
    users = changelist_names(client, f"{ADMIN}/orgs/user/")
    assert "alpha-initiator" in users
    assert "beta-initiator" in users


def test_plain_users_have_no_admin(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a.initiator)
    response = client.get(f"{ADMIN}/documents/counterparty/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_org_admin_edits_own_organisation_and_calendar(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client = admin_client(tenant_a.admin)
    own = client.get(f"{ADMIN}/orgs/organisation/{tenant_a.org.pk}/change/")
    assert own.status_code == 200
    assert client.get(f"{ADMIN}/orgs/organisation/add/").status_code == 403
    response = client.post(
        f"{ADMIN}/orgs/workingcalendar/add/",
        {
            "working_weekdays": "0,1,2,3,4",
            "day_starts": "09:00",
            "day_ends": "18:00",
            "use_public_holidays": "on",
            **management("days", 1),
            "days-0-date": "2025-03-08",
            "days-0-name": "Holiday",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from sogla.orgs.models import CalendarDay, WorkingCalendar

    calendar = WorkingCalendar.objects.get()
    assert calendar.organisation_id == tenant_a.org.pk
    assert CalendarDay.objects.get().organisation_id == tenant_a.org.pk
    # One calendar per organisation: no second "add".
    assert client.get(f"{ADMIN}/orgs/workingcalendar/add/").status_code == 403
