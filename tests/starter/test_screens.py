"""The template library screen: administrators only, one click with the people
named, a clash offers another key or skipping and overwrites nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from sogla.documents.models import DocumentType, FieldDef
from sogla.orgs.models import Role
from sogla.workflow.models import RouteTemplate
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_the_library_lists_every_template_for_an_administrator(
    tenant_a: Tenant,
) -> None:
    response = client_for(tenant_a.admin).get("/settings/templates/")
    assert response.status_code == 200
    text = response.content.decode()
    for key in ("approval", "contract", "payment", "hiring", "outgoing_letter"):
        assert f'data-template="{key}"' in text
    assert "/settings/templates/approval/" in text


def test_people_who_are_not_administrators_are_refused(tenant_a: Tenant) -> None:
    client = client_for(tenant_a.initiator)
    assert client.get("/settings/templates/").status_code == 403
    response = client.post("/settings/templates/approval/", {})
    assert response.status_code == 403
    assert not DocumentType.objects.filter(key="approval").exists()


def test_one_click_installs_with_the_people_named(tenant_a: Tenant) -> None:
    client = client_for(tenant_a.admin)
    form = client.get("/settings/templates/approval/")
    assert form.status_code == 200
    assert "role_first_approver" in form.content.decode()
    response = client.post(
        "/settings/templates/approval/",
        {
            "role_first_approver": str(tenant_a.colleague.pk),
            "role_second_approver": str(tenant_a.admin.pk),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/documents/new/approval/"
    assert list(
        Role.objects.get(organisation=tenant_a.org, key="first_approver").members.all()
    ) == [tenant_a.colleague]
    assert RouteTemplate.objects.filter(
        organisation=tenant_a.org, key="approval"
    ).exists()
    listing = client.get("/settings/templates/").content.decode()
    assert "/documents/new/approval/" in listing


def test_a_person_of_another_organisation_cannot_be_named(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = client_for(tenant_a.admin).post(
        "/settings/templates/approval/",
        {"role_first_approver": str(tenant_b.colleague.pk)},
    )
    assert response.status_code == 400
    assert not DocumentType.objects.filter(
        organisation=tenant_a.org, key="approval"
    ).exists()


def test_a_clash_offers_another_key_or_skipping(tenant_a: Tenant) -> None:
    client = client_for(tenant_a.admin)
    page = client.get("/settings/templates/contract/").content.decode()
    assert 'name="on_clash"' in page
    assert 'value="rename"' in page
    assert 'value="skip"' in page
    fields_before = FieldDef.objects.filter(doc_type=tenant_a.contract).count()

    skipped = client.post("/settings/templates/contract/", {"on_clash": "skip"})
    assert skipped.status_code == 302
    assert not RouteTemplate.objects.exists()

    taken = client.post(
        "/settings/templates/contract/", {"on_clash": "rename", "new_key": "contract"}
    )
    assert taken.status_code == 400
    assert "new_key_error" in taken.content.decode()

    renamed = client.post(
        "/settings/templates/contract/",
        {"on_clash": "rename", "new_key": "contract_std"},
    )
    assert renamed.status_code == 302
    assert renamed["Location"] == "/documents/new/contract_std/"
    assert FieldDef.objects.filter(doc_type=tenant_a.contract).count() == fields_before


def test_an_unknown_template_is_not_found(tenant_a: Tenant) -> None:
    assert (
        client_for(tenant_a.admin).get("/settings/templates/nope/").status_code == 404
    )
