"""Counterparties over the REST API: search, create with contacts, duplicates, update."""

from __future__ import annotations

from sogla.documents.models import Contact, Counterparty
from tests.api.conftest import ApiClient, errors_by_field
from tests.conftest import Tenant
from tests.factories import CounterpartyFactory

ROMASHKA = {
    "name": "ООО «Ромашка»",
    "tax_id": "7701234578",
    "category": "supplier",
    "contacts": [
        {"name": "Иван Петров", "email": "ivan@romashka.test", "phone": "+7 900"}
    ],
}


def test_create_get_search_update(tenant_a: Tenant, api_a: ApiClient) -> None:
    created = api_a.post("/counterparties", ROMASHKA)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "ООО «Ромашка»"
    assert body["category"] == "supplier"
    assert [c["email"] for c in body["contacts"]] == ["ivan@romashka.test"]
    party = Counterparty.objects.get(pk=body["id"])
    assert party.organisation_id == tenant_a.org.pk

    got = api_a.get(f"/counterparties/{party.pk}")
    assert got.status_code == 200
    assert got.json()["tax_id"] == "7701234578"

    found = api_a.get("/counterparties", data={"q": "ромашк"})
    assert [p["id"] for p in found.json()] == [party.pk]
    assert api_a.get("/counterparties", data={"q": "7701"}).json()[0]["id"] == party.pk
    assert api_a.get("/counterparties", data={"q": "лютик"}).json() == []

    patched = api_a.patch(f"/counterparties/{party.pk}", {"address": "Москва"})
    assert patched.status_code == 200
    assert patched.json()["address"] == "Москва"
    assert patched.json()["name"] == "ООО «Ромашка»"


def test_duplicates_name_the_field(tenant_a: Tenant, api_a: ApiClient) -> None:
    assert api_a.post("/counterparties", ROMASHKA).status_code == 201
    same_tax = api_a.post("/counterparties", {**ROMASHKA, "name": "Другое"})
    assert same_tax.status_code == 422
    assert errors_by_field(same_tax) == {"tax_id": "duplicate"}
    same_name = api_a.post("/counterparties", {"name": "Ромашка, ООО"})
    assert same_name.status_code == 201  # a tax id on the first one: names may repeat
    again = api_a.post("/counterparties", {"name": "ромашка ооо"})
    assert again.status_code == 422
    assert errors_by_field(again) == {"name": "duplicate"}
    assert Counterparty.objects.count() == 2


def test_invalid_input_names_fields_and_saves_nothing(api_a: ApiClient) -> None:
    response = api_a.post(
        "/counterparties",
        {"name": "", "tax_id": "12", "contacts": [{"name": "", "email": "nope"}]},
    )
    assert response.status_code == 422
    assert errors_by_field(response) == {
        "name": "required",
        "tax_id": "invalid",
        "contacts[0].name": "required",
        "contacts[0].email": "invalid",
    }
    wrong_kind = api_a.post("/counterparties", {"name": "X", "category": "alien"})
    assert errors_by_field(wrong_kind) == {"category": "invalid"}
    missing = api_a.post("/counterparties", {"contacts": [{}]})
    assert errors_by_field(missing) == {
        "name": "required",
        "contacts[0].name": "required",
    }
    assert not Counterparty.objects.exists()
    assert not Contact.objects.exists()


def test_mass_assignment_refused(
    tenant_a: Tenant, tenant_b: Tenant, api_a: ApiClient
) -> None:
    response = api_a.post(
        "/counterparties", {**ROMASHKA, "organisation": tenant_b.org.pk}
    )
    assert response.status_code == 422
    assert errors_by_field(response) == {"organisation": "unknown_field"}
    party = CounterpartyFactory(organisation=tenant_a.org)
    before = Counterparty.objects.values().get(pk=party.pk)
    for key, value in {
        "organisation": tenant_b.org.pk,
        "id": 5,
        "created_at": "2000-01-01",
    }.items():
        response = api_a.patch(
            f"/counterparties/{party.pk}", {"name": "New", key: value}
        )
        assert response.status_code == 422
        assert errors_by_field(response) == {key: "unknown_field"}
    assert Counterparty.objects.values().get(pk=party.pk) == before


def test_update_duplicate_refused(tenant_a: Tenant, api_a: ApiClient) -> None:
    first = CounterpartyFactory(organisation=tenant_a.org, tax_id="7700000016")
    second = CounterpartyFactory(organisation=tenant_a.org, tax_id="7700000023")
    response = api_a.patch(f"/counterparties/{second.pk}", {"tax_id": first.tax_id})
    assert response.status_code == 422
    assert errors_by_field(response) == {"tax_id": "duplicate"}
    second.refresh_from_db()
    assert second.tax_id == "7700000023"


def test_other_tenant_counterparty_is_404(tenant_b: Tenant, api_a: ApiClient) -> None:
    foreign = CounterpartyFactory(organisation=tenant_b.org, name="Ромашка")
    assert api_a.get(f"/counterparties/{foreign.pk}").status_code == 404
    response = api_a.patch(f"/counterparties/{foreign.pk}", {"name": "Mine"})
    assert response.status_code == 404
    assert api_a.get("/counterparties", data={"q": "Ромашка"}).json() == []
    foreign.refresh_from_db()
    assert foreign.name == "Ромашка"
