"""The file-version suite on both storages: the local file system and S3 over HTTP
(moto's server on loopback, through django-storages and boto3, as production
with ``SOGLA_STORAGE=s3``). Uploads, versions, content addressing, the download's
redirect to a short-lived link and the bytes behind it, and the stamped copy made
from a stored PDF."""

from __future__ import annotations

import hashlib
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sogla.documents.downloads import uses_s3
from sogla.documents.models import Document, FileVersion
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.evidence.services import evidence_make
from tests.conftest import MINIMAL_PDF, Tenant
from tests.evidence.conftest import run_approval
from tests.s3_servers import S3Server, moto_s3, use_s3  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

SECOND_PDF = MINIMAL_PDF.replace(b"595 842", b"842 595")


@pytest.fixture(params=["filesystem", "s3"])
def storage(request: pytest.FixtureRequest, settings: Any) -> str:
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("moto_s3")
        use_s3(settings, server)
        assert uses_s3()
    else:
        assert not uses_s3()
    return str(request.param)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fetch(client: Client, url: str) -> tuple[bytes, dict[str, str]]:
    """The bytes and headers behind a download link: through Django for a local
    link, over HTTP for a presigned S3 URL."""
    if url.startswith("http"):
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
            return answer.read(), {k.lower(): v for k, v in answer.headers.items()}
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return body, {k.lower(): v for k, v in response.items()}


def _document(tenant: Tenant, data: bytes = MINIMAL_PDF) -> Document:
    return document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Supply", "amount": "10"},
        files=[
            NewFile(
                bytes_upload("contract_file", "Договор №1.pdf", data), "contract_file"
            )
        ],
    )


def test_upload_versions_and_content_addressing(storage: str, tenant_a: Tenant) -> None:
    document = _document(tenant_a)
    file = document.files.get()
    client = _client(tenant_a.initiator)
    response = client.post(
        reverse("documents:file_upload", args=[document.pk]),
        {"file": SimpleUploadedFile("v2.pdf", SECOND_PDF), "file_id": file.pk},
    )
    assert response.status_code == 302
    versions = list(FileVersion.objects.filter(file=file).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert [v.sha256 for v in versions] == [
        hashlib.sha256(MINIMAL_PDF).hexdigest(),
        hashlib.sha256(SECOND_PDF).hexdigest(),
    ]
    for version, data in zip(versions, (MINIMAL_PDF, SECOND_PDF), strict=True):
        assert default_storage.exists(version.storage_key)
        with default_storage.open(version.storage_key, "rb") as stream:
            assert stream.read() == data
    # The same bytes in another document are stored once (same key).
    other = _document(tenant_a)
    again = FileVersion.objects.get(file__document=other)
    assert again.storage_key == versions[0].storage_key


def test_download_redirects_to_a_short_lived_link(
    storage: str, tenant_a: Tenant
) -> None:
    document = _document(tenant_a)
    version = FileVersion.objects.get(file__document=document)
    client = _client(tenant_a.initiator)
    for url in (
        reverse("documents:download", args=[version.pk]),
        f"/api/v1/files/{version.pk}/download",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        link = response["Location"]
        if storage == "s3":
            query = parse_qs(urlsplit(link).query)
            assert query["X-Amz-Expires"] == ["120"]
            assert "X-Amz-Signature" in query
        body, headers = _fetch(client, link)
        assert body == MINIMAL_PDF
        assert headers["content-disposition"].startswith("attachment")
        assert (
            "%D0%94%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80"
            in headers["content-disposition"]
        )


def test_stamped_copy_and_sheet_on_the_storage(storage: str, tenant_a: Tenant) -> None:
    approval = run_approval(tenant_a)
    evidence = evidence_make(approval.process)
    assert evidence.stamped_version is not None
    assert evidence.sheet_version is not None
    for version in (evidence.stamped_version, evidence.sheet_version):
        with default_storage.open(version.storage_key, "rb") as stream:
            data = stream.read()
        assert hashlib.sha256(data).hexdigest() == version.sha256
        assert data.startswith(b"%PDF-")
