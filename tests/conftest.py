"""Shared fixtures: two organisations (A and B) with people and a contract type.

Tenant B exists in every test that needs it so that isolation is always checked
against a real neighbour, not an empty database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
from hypothesis import settings as hypothesis_settings

from sogla.documents.models import DocumentType, FieldKind
from sogla.orgs.models import Department, Organisation, User
from sogla.workflow.tenant import cache_clear as tenant_cache_clear
from tests.factories import (
    DepartmentFactory,
    DocumentTypeFactory,
    OrganisationFactory,
    UserFactory,
    add_field,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis: the full count under CI, fewer examples on a laptop (the property tests
# leave max_examples to the profile). HYPOTHESIS_PROFILE=ci runs the full count here.
hypothesis_settings.register_profile("ci", max_examples=200)
hypothesis_settings.register_profile("dev", max_examples=50)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev")
)

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without the tool; under CI a missing tool is a failure."""
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


class _PhoneCards(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.rows: list[list[str | None]] = []
        self._inside = False
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._inside = (
                "table-phone-cards" in (attributes.get("class") or "").split()
            )
        elif self._inside and tag == "th":
            self._heading = []
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag == "td":
            self.rows[-1].append(attributes.get("data-label"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._inside = False
        elif tag == "th" and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def phone_card_labels(page: str) -> tuple[list[str], list[list[str | None]]]:
    """A page's table-phone-cards: its column headings, and each body row's cells'
    data-label (None for a cell without one), the labels a phone shows in place of
    the hidden headings."""
    parser = _PhoneCards()
    parser.feed(page)
    return parser.headings, [row for row in parser.rows if row]


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class Tenant:
    org: Organisation
    department: Department
    admin: User
    initiator: User
    colleague: User
    contract: DocumentType


def make_tenant(name: str) -> Tenant:
    org = OrganisationFactory(name=name, slug=name.lower().replace(" ", "-"))
    department = DepartmentFactory(organisation=org, name="Sales", code="sales")
    admin = UserFactory(organisation=org, is_staff=True, username=f"{org.slug}-admin")
    head = UserFactory(
        organisation=org, department=department, username=f"{org.slug}-head"
    )
    department.head = head
    department.save()
    initiator = UserFactory(
        organisation=org, department=department, username=f"{org.slug}-initiator"
    )
    colleague = UserFactory(
        organisation=org, department=department, username=f"{org.slug}-colleague"
    )
    contract = DocumentTypeFactory(organisation=org, key="contract", prefix="D")
    add_field(contract, "subject", FieldKind.STRING, required=True)
    add_field(contract, "amount", FieldKind.MONEY, required=True)
    add_field(contract, "end_date", FieldKind.DATE)
    add_field(contract, "counterparty", FieldKind.COUNTERPARTY)
    add_field(contract, "contract_file", FieldKind.FILE)
    return Tenant(org, department, admin, initiator, colleague, contract)


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("Beta")


@pytest.fixture(autouse=True)
def _fresh_tenant_cache() -> Iterator[None]:
    """A rolled-back test leaves rows' ids free for the next one (SQLite reuses
    them), so the per-process tenant cache must not carry one test's types,
    statuses or calendars into another."""
    tenant_cache_clear()
    cache.clear()
    yield
    tenant_cache_clear()


@pytest.fixture(autouse=True)
def _reset_language_and_time_zone() -> Iterator[None]:
    """Requests activate the user's language and zone per thread; do not leak them."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
