"""Counterparties: deduplicated by tax id and normalised name, per organisation."""

from __future__ import annotations

import pytest

from sogla.core.errors import ValidationFailed
from sogla.documents.models import Contact, Counterparty
from sogla.documents.services import (
    ContactData,
    CounterpartyData,
    counterparty_create,
    counterparty_update,
    normalize_name,
)
from tests.conftest import Tenant


@pytest.mark.parametrize(
    "name", ["ООО «Ромашка»", "Ромашка, ООО", 'ооо "РОМАШКА"', "  Ромашка  "]
)
def test_normalised_names_match(name: str) -> None:
    assert normalize_name(name) == "ромашка"


def test_creates_with_contacts(tenant_a: Tenant) -> None:
    party = counterparty_create(
        actor=tenant_a.initiator,
        data=CounterpartyData(
            name="ООО «Ромашка»",
            tax_id="7701234578",
            category="supplier",
            contacts=[ContactData(name="Иван", email="ivan@romashka.test")],
        ),
    )
    assert (party.organisation_id, party.normalized_name) == (
        tenant_a.org.pk,
        "ромашка",
    )
    assert Contact.objects.get(counterparty=party).email == "ivan@romashka.test"


def test_duplicate_tax_id_is_refused_naming_the_field(tenant_a: Tenant) -> None:
    counterparty_create(
        actor=tenant_a.initiator, data=CounterpartyData(name="A", tax_id="7701234578")
    )
    with pytest.raises(ValidationFailed) as caught:
        counterparty_create(
            actor=tenant_a.initiator,
            data=CounterpartyData(name="B", tax_id="7701234578"),
        )
    assert caught.value.problems[0].field == "tax_id"
    assert caught.value.problems[0].code == "duplicate"
    assert Counterparty.objects.count() == 1


def test_duplicate_name_without_tax_id_is_refused(tenant_a: Tenant) -> None:
    counterparty_create(
        actor=tenant_a.initiator, data=CounterpartyData(name="ИП Петров")
    )
    with pytest.raises(ValidationFailed) as caught:
        counterparty_create(
            actor=tenant_a.initiator, data=CounterpartyData(name="Петров ИП")
        )
    assert (caught.value.problems[0].field, caught.value.problems[0].code) == (
        "name",
        "duplicate",
    )


def test_same_tax_id_in_another_organisation_is_allowed(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    data = CounterpartyData(name="Ромашка", tax_id="7701234578")
    counterparty_create(actor=tenant_a.initiator, data=data)
    counterparty_create(actor=tenant_b.initiator, data=data)
    assert Counterparty.objects.count() == 2


def test_bad_input_lists_every_problem_and_saves_nothing(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationFailed) as caught:
        counterparty_create(
            actor=tenant_a.initiator,
            data=CounterpartyData(
                name=" ",
                tax_id="12ab",
                category="alien",
                contacts=[ContactData(name="", email="not-an-email")],
            ),
        )
    assert set(caught.value.by_field()) == {
        "name", "tax_id", "category", "contacts[0].name", "contacts[0].email"
    }  # fmt: skip
    assert not Counterparty.objects.exists()


def test_update_rechecks_duplicates(tenant_a: Tenant) -> None:
    counterparty_create(
        actor=tenant_a.initiator, data=CounterpartyData(name="A", tax_id="7701234578")
    )
    other = counterparty_create(
        actor=tenant_a.initiator, data=CounterpartyData(name="B", tax_id="7701234585")
    )
    with pytest.raises(ValidationFailed):
        counterparty_update(
            actor=tenant_a.initiator,
            counterparty=other,
            data=CounterpartyData(name="B", tax_id="7701234578"),
        )
    other.refresh_from_db()
    assert other.tax_id == "7701234585"
