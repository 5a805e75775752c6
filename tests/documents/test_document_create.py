"""document_create: numbering, title, validation, files, tenant scoping."""

from __future__ import annotations

import pytest

from sogla.core.errors import ValidationFailed
from sogla.documents.models import Document, FileVersion
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import CounterpartyFactory


def test_creates_numbered_draft_with_title_and_file(tenant_a: Tenant) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, name="ООО «Ромашка»")
    upload = bytes_upload("contract_file", "договор.pdf", MINIMAL_PDF)

    doc = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={
            "subject": "Поставка",
            "amount": "1 250 000,50",
            "counterparty": party.pk,
        },
        files=[NewFile(upload, "contract_file")],
    )

    assert doc.number.startswith("D-")
    assert doc.number.endswith("-00001")
    assert doc.title == f"Договор {doc.number} Поставка"
    assert doc.fields == {
        "subject": "Поставка",
        "amount": "1250000.50",
        "counterparty": party.pk,
    }
    assert doc.counterparty_id == party.pk
    assert doc.status.key == "draft"
    version = FileVersion.objects.get(file__document=doc)
    assert (version.version, version.mime_type, version.original_name) == (
        1,
        "application/pdf",
        "договор.pdf",
    )


def test_second_document_gets_next_number(tenant_a: Tenant) -> None:
    values = {"subject": "x", "amount": "1"}
    first = document_create(
        actor=tenant_a.initiator, doc_type=tenant_a.contract, values=values
    )
    second = document_create(
        actor=tenant_a.initiator, doc_type=tenant_a.contract, values=values
    )
    assert int(second.number[-5:]) == int(first.number[-5:]) + 1


def test_reports_every_bad_field_and_saves_nothing(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    foreign = CounterpartyFactory(organisation=tenant_b.org)
    with pytest.raises(ValidationFailed) as caught:
        document_create(
            actor=tenant_a.initiator,
            doc_type=tenant_a.contract,
            values={
                "amount": "12abc",
                "end_date": "31.02.2025",
                "counterparty": foreign.pk,
                "bogus": "1",
            },
        )
    assert caught.value.by_field().keys() == {
        "subject",
        "amount",
        "end_date",
        "counterparty",
        "bogus",
    }
    assert not Document.objects.exists()


def test_search_ignores_case_of_cyrillic_letters(tenant_a: Tenant) -> None:
    """SQLite's LIKE folds ASCII only; the registry search must not depend on it."""
    from sogla.documents.selectors import DocumentFilter, document_list

    party = CounterpartyFactory(organisation=tenant_a.org, name="ООО «Ёлка»")
    doc = document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={
            "subject": "Поставка Оборудования",
            "amount": "1",
            "counterparty": party.pk,
        },
    )
    for text in ["поставка оборудования", "ЕЛКА", doc.number.lower()]:
        page = document_list(user=tenant_a.initiator, filters=DocumentFilter(q=text))
        assert [d.pk for d in page.items] == [doc.pk], text
