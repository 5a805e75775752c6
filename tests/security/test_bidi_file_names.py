"""Bidirectional-text controls never reach a stored file name or a download's
Content-Disposition, so "invoice‮fdp.exe" cannot be shown as "invoiceexe.pdf"."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sogla.core.text import BIDI_CONTROLS, strip_bidi
from sogla.documents.models import Document, FileVersion
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload, safe_name
from tests.conftest import MINIMAL_PDF, Tenant
from tests.web.conftest import signed_in

CONTROLS = sorted(BIDI_CONTROLS)


@pytest.fixture
def client_a(tenant_a: Tenant) -> Client:
    return signed_in(tenant_a.initiator)


@pytest.fixture
def document(tenant_a: Tenant) -> Document:
    upload = bytes_upload("contract_file", "contract.pdf", MINIMAL_PDF)
    return document_create(
        actor=tenant_a.initiator,
        doc_type=tenant_a.contract,
        values={"subject": "Bidi", "amount": "1"},
        files=[NewFile(upload, "contract_file")],
    )


def test_every_listed_control_is_covered() -> None:
    listed = {chr(c) for c in range(0x202A, 0x202F)} | {
        chr(c) for c in range(0x2066, 0x206A)
    }
    listed |= {"\u200e", "\u200f", "\u061c"}
    assert set(BIDI_CONTROLS) == listed
    assert strip_bidi("a\u202eb\u2066c\u061cd") == "abcd"


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_safe_name_strips(control: str) -> None:
    assert safe_name(f"invoice{control}fdp.exe.pdf") == "invoicefdp.exe.pdf"


@pytest.mark.django_db
def test_upload_stores_a_clean_name(client_a: Client, document: Document) -> None:
    hostile = "invoice\u202efdp.exe\u2069\u200f.pdf"
    response = client_a.post(
        reverse("documents:file_upload", args=[document.pk]),
        {"file": SimpleUploadedFile(hostile, MINIMAL_PDF)},
    )
    assert response.status_code == 302
    names = set(
        FileVersion.objects.filter(file__document=document).values_list(
            "original_name", flat=True
        )
    )
    assert "invoicefdp.exe.pdf" in names
    assert not any(set(name) & BIDI_CONTROLS for name in names)


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["web", "api"])
def test_download_header_has_no_controls_even_for_an_old_row(
    via: str, client_a: Client, document: Document
) -> None:
    """A name stored before names were cleaned (or written by another path)."""
    version = FileVersion.objects.get(file__document=document)
    FileVersion.objects.filter(pk=version.pk).update(
        original_name="счёт\u202efdp.exe\u2066.pdf"
    )
    url = (
        reverse("documents:download", args=[version.pk])
        if via == "web"
        else f"/api/v1/files/{version.pk}/download"
    )
    response = client_a.get(url, follow=True)
    assert response.status_code == 200
    header = unquote(response["Content-Disposition"])
    assert not set(header) & BIDI_CONTROLS
    assert "счётfdp.exe.pdf" in header
