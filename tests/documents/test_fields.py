"""clean_values: one parser for forms and API, every kind, required and required-when."""

from __future__ import annotations

import pytest

from sogla.core.errors import ValidationFailed
from sogla.documents.fields import clean_values
from sogla.documents.models import FieldKind
from tests.conftest import Tenant
from tests.factories import DocumentTypeFactory, add_field


@pytest.fixture
def absence(tenant_a: Tenant):
    doc_type = DocumentTypeFactory(organisation=tenant_a.org, key="absence")
    choices = [
        {"value": "vacation", "ru": "Отпуск", "en": "Vacation"},
        {"value": "remote", "ru": "Удалённая работа", "en": "Remote work"},
    ]
    add_field(doc_type, "reason", FieldKind.CHOICE, required=True, choices=choices)
    add_field(
        doc_type,
        "justification",
        FieldKind.TEXT,
        label_en="Justification",
        required_when={"field": "reason", "op": "eq", "value": "remote"},
    )
    add_field(doc_type, "from", FieldKind.DATE)
    add_field(doc_type, "paid", FieldKind.BOOL)
    add_field(doc_type, "notify", FieldKind.USERS)
    add_field(doc_type, "link", FieldKind.URL)
    add_field(doc_type, "days", FieldKind.NUMBER)
    return doc_type


def _clean(tenant: Tenant, doc_type, raw):
    return clean_values(
        organisation_id=tenant.org.pk, fields=list(doc_type.fields.all()), raw=raw
    )


def test_required_when_names_the_reason(tenant_a: Tenant, absence) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _clean(tenant_a, absence, {"reason": "remote"})
    assert caught.value.by_field() == {
        "justification": ["Required when “Reason” is “Remote work”."]
    }
    assert _clean(tenant_a, absence, {"reason": "vacation"}) == {"reason": "vacation"}


def test_parses_every_kind(tenant_a: Tenant, absence) -> None:
    values = _clean(
        tenant_a,
        absence,
        {
            "reason": "vacation",
            "from": "01.06.2026",
            "paid": "on",
            "notify": [tenant_a.colleague.pk, str(tenant_a.initiator.pk)],
            "link": "https://example.com/a",
            "days": "1 000,5",
        },
    )
    assert values == {
        "reason": "vacation",
        "from": "2026-06-01",
        "paid": True,
        "notify": sorted([tenant_a.colleague.pk, tenant_a.initiator.pk]),
        "link": "https://example.com/a",
        "days": "1000.5",
    }


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("reason", "holiday", "invalid"),
        ("from", "2026-02-30", "invalid"),
        ("paid", "maybe", "invalid"),
        ("link", "javascript:alert(1)", "invalid"),
        ("days", "NaN", "invalid"),
        ("days", "1e20", "invalid"),
        ("notify", "999999", "unknown_user"),
    ],
)
def test_bad_values_are_named(
    tenant_a: Tenant, absence, key: str, value: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _clean(tenant_a, absence, {"reason": "vacation", key: value})
    assert [(p.field, p.code) for p in caught.value.problems] == [(key, code)]


def test_users_of_another_organisation_are_unknown(
    tenant_a: Tenant,
    tenant_b: Tenant,
    absence,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _clean(
            tenant_a, absence, {"reason": "vacation", "notify": [tenant_b.initiator.pk]}
        )
    assert caught.value.problems[0].code == "unknown_user"
