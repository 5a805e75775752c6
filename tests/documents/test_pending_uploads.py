"""Files chosen in the new-document form survive a refusal for another field: the
server keeps them (signed tokens), the next submit uses them; nobody else can."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sogla.documents import pending_uploads
from sogla.documents.models import Document, DocumentFile
from sogla.documents.uploads import bytes_upload
from tests.conftest import MINIMAL_PDF, Tenant

pytestmark = pytest.mark.django_db

URL = "/documents/new/contract/"


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _tokens(html: str) -> list[str]:
    return re.findall(r'name="pending_files" value="([^"]+)"', html)


def _pdf(name: str = "contract.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def test_files_survive_a_refusal_and_are_used_on_the_next_submit(
    tenant_a: Tenant,
) -> None:
    client = _client(tenant_a.initiator)
    refused = client.post(
        URL,
        {
            "f-subject": "Supply",
            "f-amount": "not a number",
            "f-contract_file": _pdf(),
            "files": _pdf("annex.pdf"),
        },
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    tokens = _tokens(html)
    assert len(tokens) == 2
    assert "contract.pdf" in html
    assert "annex.pdf" in html
    assert not Document.objects.exists()
    created = client.post(
        URL, {"f-subject": "Supply", "f-amount": "100", "pending_files": tokens}
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    document = Document.objects.get()
    files = {
        f.field_key: f.name for f in DocumentFile.objects.filter(document=document)
    }
    assert files == {"contract_file": "contract.pdf", "": "annex.pdf"}
    # the kept copies are gone once used
    _dirs, names = default_storage.listdir(
        f"pending/{tenant_a.org.pk}/{tenant_a.initiator.pk}/"
    )
    assert names == []


def test_a_kept_file_can_be_removed_or_replaced(tenant_a: Tenant) -> None:
    client = _client(tenant_a.initiator)
    refused = client.post(
        URL,
        {
            "f-subject": "Supply",
            "f-amount": "x",
            "f-contract_file": _pdf("old.pdf"),
            "files": _pdf("annex.pdf"),
        },
    )
    old, annex = _tokens(refused.content.decode())
    created = client.post(
        URL,
        {
            "f-subject": "Supply",
            "f-amount": "1",
            "pending_files": [old, annex],
            "pending_drop": [annex],
            "f-contract_file": _pdf("new.pdf"),
        },
    )
    assert created.status_code == 302
    names = sorted(DocumentFile.objects.values_list("name", flat=True))
    assert names == ["new.pdf"]


def test_a_token_is_useless_to_anyone_else(tenant_a: Tenant, tenant_b: Tenant) -> None:
    kept = pending_uploads.hold(
        tenant_a.initiator,
        "contract_file",
        bytes_upload("f", "secret.pdf", MINIMAL_PDF),
    )
    assert pending_uploads.take(tenant_a.colleague, [kept.token]) == []
    assert pending_uploads.take(tenant_b.initiator, [kept.token]) == []
    assert pending_uploads.take(tenant_a.initiator, [kept.token + "x"]) == []
    taken = pending_uploads.take(tenant_a.initiator, [kept.token])
    assert [p.name for p, _checked in taken] == ["secret.pdf"]
    # another organisation's submit with A's token creates a document without it
    client = _client(tenant_b.initiator)
    response = client.post(
        URL, {"f-subject": "B", "f-amount": "1", "pending_files": [kept.token]}
    )
    assert response.status_code == 302
    assert not DocumentFile.objects.filter(organisation=tenant_b.org).exists()


def test_a_kept_file_changed_in_storage_is_not_used(tenant_a: Tenant) -> None:
    kept = pending_uploads.hold(
        tenant_a.initiator, "", bytes_upload("files", "a.pdf", MINIMAL_PDF)
    )
    data = pending_uploads._read(tenant_a.initiator, kept.token)
    assert data is not None
    key = str(data["k"])
    default_storage.delete(key)
    from django.core.files.base import ContentFile

    default_storage.save(key, ContentFile(MINIMAL_PDF + b"%changed\n"))
    assert pending_uploads.take(tenant_a.initiator, [kept.token]) == []
