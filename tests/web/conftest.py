"""Fixtures for the web screens: signed-in clients in each language, sample documents."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from sogla.documents.models import Document
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import User
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import CounterpartyFactory


def signed_in(user: User, language: str = "en") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_a(tenant_a: Tenant) -> Client:
    return signed_in(tenant_a.initiator)


@pytest.fixture
def make_document(tenant_a: Tenant) -> Callable[..., Document]:
    def make(subject: str = "Equipment supply", *, with_file: bool = True) -> Document:
        party = CounterpartyFactory(organisation=tenant_a.org)
        files = (
            [
                NewFile(
                    bytes_upload("contract_file", "contract.pdf", MINIMAL_PDF),
                    "contract_file",
                )
            ]
            if with_file
            else []
        )
        return document_create(
            actor=tenant_a.initiator,
            doc_type=tenant_a.contract,
            values={
                "subject": subject,
                "amount": "1250000.50",
                "counterparty": party.pk,
            },
            files=files,
        )

    return make
