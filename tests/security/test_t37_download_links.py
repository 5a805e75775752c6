"""T37 — time-limited download links (RELIABILITY.md; design rule I8).

Links are minted only after an object-level permission check, live at most 300 s,
are refused at TTL+1 s and when anything in them is changed, and are never stored
or mailed. The S3 part runs against s3rver on loopback, which really refuses an
expired presigned URL (moto does not check expiry).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.documents.downloads import LINK_SALT, MAX_LINK_SECONDS, link_seconds
from sogla.documents.models import Document, FileVersion
from sogla.documents.services import NewFile, document_create, file_add
from sogla.documents.uploads import bytes_upload
from sogla.notifications.models import Notification
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import DocumentTypeFactory, add_field
from tests.s3_servers import S3Server, s3rver_s3, use_s3  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _version(tenant: Tenant) -> FileVersion:
    document = document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Supply", "amount": "10"},
        files=[
            NewFile(
                bytes_upload("contract_file", "c.pdf", MINIMAL_PDF), "contract_file"
            )
        ],
    )
    return FileVersion.objects.get(file__document=document)


def _link(client: Client, version: FileVersion) -> str:
    response = client.get(reverse("documents:download", args=[version.pk]))
    assert response.status_code == 302
    return str(response["Location"])


def test_t37_local_links_expire_and_refuse_tampering(
    tenant_a: Tenant, tenant_b: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    assert link_seconds() <= MAX_LINK_SECONDS
    version = _version(tenant_a)
    other = _version(tenant_b)
    client = _client(tenant_a.initiator)
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        link = _link(client, version)
        assert Client().get(link).status_code == 200  # no session needed
        clock.move_to(start + timedelta(seconds=link_seconds()))
        assert Client().get(link).status_code == 200  # still alive at the TTL
        clock.move_to(start + timedelta(seconds=link_seconds() + 1))
        expired = Client().get(link).status_code
    assert expired == 404

    token = link.rstrip("/").rsplit("/", 1)[1]
    payload, stamp, signature = token.split(":")

    def encoded(v: int, o: int) -> str:
        return signing.b64_encode(
            signing.JSONSerializer().dumps({"v": v, "o": o, "u": 1})
        ).decode()

    later = signing.b62_encode(signing.b62_decode(stamp) + 3600)
    tampered = {
        "signature": f"{payload}:{stamp}:{signature[:-2]}xx",
        "expiry": f"{payload}:{later}:{signature}",
        "key (version)": f"{encoded(other.pk, version.organisation_id)}:{stamp}:{signature}",
        "tenant": f"{encoded(version.pk, other.organisation_id)}:{stamp}:{signature}",
        "another secret": signing.TimestampSigner(
            key="x" * 50, salt=LINK_SALT
        ).sign_object({"v": version.pk, "o": version.organisation_id, "u": 1}),
        "another purpose": signing.TimestampSigner(salt="other").sign_object(
            {"v": version.pk, "o": version.organisation_id, "u": 1}
        ),
    }
    refused = 0
    for token_ in tampered.values():
        if Client().get(f"/files/s/{token_}/").status_code == 404:
            refused += 1
    # A foreign user asking for a link: refused before anything is minted.
    minted_for_other_tenant = 0
    outsider = _client(tenant_b.admin)
    for url in (
        reverse("documents:download", args=[version.pk]),
        f"/api/v1/files/{version.pk}/download",
    ):
        if outsider.get(url).status_code != 404:
            minted_for_other_tenant += 1
    with capsys.disabled():
        print(
            f"\nT37 local links: TTL {link_seconds()} s (max {MAX_LINK_SECONDS}), "
            f"refused at TTL+1 s: {expired == 404}, tampered {refused}/{len(tampered)} "
            f"refused, links minted for another tenant {minted_for_other_tenant}"
        )
    assert refused == len(tampered)
    assert minted_for_other_tenant == 0


def test_t37_no_link_for_a_document_one_may_not_see(tenant_a: Tenant) -> None:
    secret = DocumentTypeFactory(
        organisation=tenant_a.org, key="salary", confidential=True
    )
    add_field(secret, "subject")
    document: Document = document_create(
        actor=tenant_a.initiator, doc_type=secret, values={"subject": "Raise"}
    )
    version = file_add(
        actor=tenant_a.initiator,
        document=document,
        new=NewFile(bytes_upload("files", "raise.pdf", MINIMAL_PDF)),
    )
    colleague = _client(tenant_a.colleague)
    assert (
        colleague.get(reverse("documents:download", args=[version.pk])).status_code
        == 404
    )
    assert colleague.get(f"/api/v1/files/{version.pk}/download").status_code == 404


def test_t37_links_are_never_stored(tenant_a: Tenant) -> None:
    version = _version(tenant_a)
    client = _client(tenant_a.initiator)
    links = [_link(client, version) for _ in range(3)]
    assert len(set(links)) >= 1
    tokens = [link.rstrip("/").rsplit("/", 1)[1] for link in links]
    stored = 0
    for row in AuditEvent.objects.values_list("payload", flat=True):
        stored += sum(token in str(row) for token in tokens)
    for row in Notification.objects.values_list("context", flat=True):
        stored += sum(token in str(row) for token in tokens) + ("/files/s/" in str(row))
    assert stored == 0


def test_t37_presigned_s3_link_expires_on_the_server(
    settings: Any,
    s3rver_s3: S3Server,  # noqa: F811
    tenant_a: Tenant,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_s3(settings, s3rver_s3)
    settings.SOGLA_DOWNLOAD_LINK_SECONDS = 2
    version = _version(tenant_a)
    link = _link(_client(tenant_a.initiator), version)
    assert link.startswith(s3rver_s3.endpoint)
    assert "X-Amz-Expires=2" in link
    with urllib.request.urlopen(link, timeout=10) as answer:  # noqa: S310
        fresh = answer.status
        assert answer.read() == MINIMAL_PDF
    time.sleep(3.5)
    try:
        urllib.request.urlopen(link, timeout=10)  # noqa: S310
        late = 200
    except urllib.error.HTTPError as error:
        late = error.code
        body = error.read().decode()
    assert late == 403
    assert "expired" in body.lower()
    with capsys.disabled():
        print(
            f"\nT37 S3 presigned (s3rver): TTL 2 s, at once {fresh}, after 3.5 s {late}"
        )
