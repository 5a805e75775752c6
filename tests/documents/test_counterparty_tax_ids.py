"""Counterparties (issue 13, item 12): INN, KPP and OGRN checked with their check
digits and clear messages; the quick-create lets the person choose the category,
offering the document type's; the registry finds a document by its counterparty's
tax id."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sogla.core.errors import ValidationFailed
from sogla.documents import tax_ids
from sogla.documents.models import Counterparty
from sogla.documents.services import (
    CounterpartyData,
    counterparty_create,
    counterparty_update,
)
from tests.conftest import Tenant
from tests.factories import CounterpartyFactory
from tests.web.conftest import signed_in
from tests.workflow.conftest import make_document

# Real, published numbers (a bank's INN, KPP and OGRN; a sole trader's OGRNIP).
INN10, INN12, KPP, OGRN, OGRNIP = (
    "7707083893",
    "500100732259",
    "773601001",
    "1027700132195",
    "304500116000157",
)


def test_check_digits() -> None:
    assert [tax_ids.inn_problem(v) for v in (INN10, INN12)] == ["", ""]
    assert tax_ids.inn_problem("7707083894") == "checksum"
    assert tax_ids.inn_problem("500100732258") == "checksum"
    assert tax_ids.inn_problem("77070838") == "length"
    assert [tax_ids.ogrn_problem(v) for v in (OGRN, OGRNIP)] == ["", ""]
    assert tax_ids.ogrn_problem("1027700132196") == "checksum"
    assert tax_ids.ogrn_problem("10277001321") == "length"
    assert tax_ids.kpp_problem(KPP) == ""
    assert tax_ids.kpp_problem("7736AB001") == ""
    assert tax_ids.kpp_problem("77360100") == "length"


def _refused(
    tenant: Tenant, tax_id: str = "", kpp: str = "", ogrn: str = ""
) -> dict[str, tuple[str, str]]:
    data = CounterpartyData(name="Vector", tax_id=tax_id, kpp=kpp, ogrn=ogrn)
    with pytest.raises(ValidationFailed) as caught:
        counterparty_create(actor=tenant.initiator, data=data)
    return {p.field: (p.code, str(p.message)) for p in caught.value.problems}


def test_wrong_check_digits_are_refused_with_a_clear_message(tenant_a: Tenant) -> None:
    problems = _refused(tenant_a, tax_id="7707083894", ogrn="1027700132196")
    assert problems["tax_id"][0] == "checksum"
    assert "check digit" in problems["tax_id"][1]
    assert "mistyped" in problems["tax_id"][1]
    assert problems["ogrn"][0] == "checksum"
    assert _refused(tenant_a, kpp="12345")["kpp"][0] == "invalid"
    assert (
        "only to organisations" in _refused(tenant_a, tax_id=INN12, kpp=KPP)["kpp"][1]
    )
    assert _refused(tenant_a, tax_id="123")["tax_id"][0] == "invalid"
    party = counterparty_create(
        actor=tenant_a.initiator,
        data=CounterpartyData(name="Sber", tax_id=INN10, kpp=KPP, ogrn=OGRN),
    )
    assert (party.tax_id, party.kpp, party.ogrn) == (INN10, KPP, OGRN)


def test_a_stored_number_may_stay_but_a_new_one_must_be_right(
    tenant_a: Tenant,
) -> None:
    old = CounterpartyFactory(organisation=tenant_a.org, tax_id="7700000001")
    counterparty_update(
        actor=tenant_a.admin,
        counterparty=old,
        data=CounterpartyData(name="Renamed", tax_id="7700000001"),
    )
    with pytest.raises(ValidationFailed):
        counterparty_update(
            actor=tenant_a.admin,
            counterparty=old,
            data=CounterpartyData(name="Renamed", tax_id="7700000002"),
        )


def test_quick_create_takes_the_chosen_category(tenant_a: Tenant) -> None:
    client = signed_in(tenant_a.initiator)
    url = reverse("documents:counterparty_quick_create")
    response = client.post(
        url,
        {"cp_name": "Vector", "cp_tax_id": INN10, "cp_category": "supplier"},
    )
    assert response.status_code == 200
    party = Counterparty.objects.get(organisation=tenant_a.org, name="Vector")
    assert party.category == "supplier"
    refused = client.post(
        url, {"cp_name": "Other", "cp_tax_id": "7707083894", "cp_category": "tenant"}
    ).content.decode()
    assert "check digit" in refused
    # The person's choice survives the refusal.
    assert '<option value="tenant" selected>' in refused


def test_the_form_offers_the_document_types_category(tenant_a: Tenant) -> None:
    tenant_a.contract.counterparty_category = "supplier"
    tenant_a.contract.save()
    html = (
        signed_in(tenant_a.initiator)
        .get(reverse("documents:create", args=[tenant_a.contract.key]))
        .content.decode()
    )
    assert 'name="cp_category"' in html
    assert '<option value="supplier" selected>' in html
    assert '<option value="customer" selected>' not in html


def test_registry_search_finds_a_document_by_its_counterpartys_tax_id(
    tenant_a: Tenant,
) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, tax_id=INN10, ogrn=OGRN)
    document = make_document(tenant_a, counterparty=str(party.pk))
    other = make_document(tenant_a)
    client = signed_in(tenant_a.initiator)
    for q in (INN10, "77070 83893", OGRN):
        html = client.get(reverse("documents:registry"), {"q": q}).content.decode()
        assert document.number in html, q
        assert other.number not in html, q
