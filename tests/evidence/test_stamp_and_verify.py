"""The stamped copy (T-stamp: same pages, stamp on the last, QR to /v/) and the
public verification page (no sign-in; identical file accepted, changed refused)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from sogla.documents.models import FileVersion
from sogla.evidence.models import ProcessEvidence
from sogla.evidence.services import (
    CODE_ALPHABET,
    CODE_LENGTH,
    code_display,
    evidence_make,
    evidence_sweep,
    verify_url,
)
from sogla.workflow import services
from tests.conftest import Tenant, skip_or_fail
from tests.evidence.conftest import Approval, contract_pdf, page_texts
from tests.workflow.conftest import approve, make_document, publish, route, stage

pytestmark = pytest.mark.django_db


def _bytes(version: FileVersion | None) -> bytes:
    assert version is not None
    with default_storage.open(version.storage_key, "rb") as stream:
        data: bytes = stream.read()
    return data


def _decode_qr(pdf: bytes) -> str:
    import pypdfium2  # type: ignore[import-untyped]

    if shutil.which("zbarimg") is None:
        skip_or_fail("zbarimg (apt zbar-tools) decodes the QR code")
    document = pypdfium2.PdfDocument(pdf)
    image = document[len(document) - 1].render(scale=3).to_pil()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "last.png"
        image.save(path)
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    return out.stdout.strip()


def test_worker_sweep_makes_the_stamped_copy_and_the_sheet(approval: Approval) -> None:
    assert evidence_sweep() == 1
    assert evidence_sweep() == 0  # once per process
    evidence = ProcessEvidence.objects.get(process=approval.process)
    assert evidence.outcome == "approved"
    assert evidence.approved_version == approval.version
    assert evidence.sheet_version is not None
    assert evidence.stamped_version is not None
    files = {f.name for f in approval.document.files.all()}
    assert any(name.startswith("Лист согласования") for name in files), files
    assert len(evidence.code) == CODE_LENGTH
    assert set(evidence.code) <= set(CODE_ALPHABET)
    # made once, however often asked
    assert evidence_make(approval.process).pk == evidence.pk


def test_stamped_copy_changes_only_the_last_page(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    original = _bytes(evidence.approved_version)
    assert original == approval.original
    stamped = _bytes(evidence.stamped_version)
    before, after = page_texts(original), page_texts(stamped)
    assert len(before) == len(after) == 3
    assert after[:2] == before[:2]  # every page but the last: the same text
    assert after[-1].startswith(before[-1].rstrip())
    stamp = after[-1][len(before[-1].rstrip()) :]
    assert "СОГЛАСОВАНО" in stamp
    assert approval.document.number in stamp
    assert code_display(evidence.code) in re.sub(r"\s+", "", stamp)


def test_stamp_qr_points_at_the_verification_page(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    decoded = _decode_qr(_bytes(evidence.stamped_version))
    assert decoded == verify_url(evidence.code)
    assert decoded.endswith(f"/v/{evidence.code}/")


def test_verification_page_without_login(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    client = Client()
    page = client.get(f"/v/{evidence.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert approval.document.number in html
    assert approval.tenant.org.name in html
    assert evidence.approved_version is not None
    assert evidence.approved_version.sha256 in html
    assert "Юрьева А." in html
    assert "Главный И." in html
    assert "intact" in html or "не нарушен" in html
    assert page["Referrer-Policy"] == "same-origin"
    # a typed code with dashes and lower case leads to the same page
    typed = client.get(f"/v/{code_display(evidence.code).lower()}/")
    assert typed.status_code == 302


@pytest.mark.parametrize(
    ("which", "answer"),
    [("approved", "approved version"), ("stamped", "stamped copy")],
)
def test_verification_accepts_the_approved_file_and_the_stamped_copy(
    approval: Approval, which: str, answer: str
) -> None:
    evidence = evidence_make(approval.process)
    version = (
        evidence.approved_version if which == "approved" else evidence.stamped_version
    )
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.post(
        f"/v/{evidence.code}/",
        {"file": SimpleUploadedFile("x.pdf", _bytes(version), "application/pdf")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert (
        f"Identical: this file is byte for byte the {answer}"
        in response.content.decode()
    )


def test_verification_refuses_a_changed_file(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    changed = bytearray(_bytes(evidence.approved_version))
    changed[len(changed) // 2] ^= 0x01  # one bit
    other = contract_pdf("v3")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for data in (bytes(changed), other):
        response = client.post(
            f"/v/{evidence.code}/",
            {"file": SimpleUploadedFile("x.pdf", data, "application/pdf")},
        )
        html = response.content.decode()
        assert "Not identical" in html
        assert "Identical:" not in html


def test_verification_upload_not_a_pdf_or_too_large(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    html = b"<html><script>alert(1)</script></html>"
    response = client.post(
        f"/v/{evidence.code}/",
        {"file": SimpleUploadedFile("x.pdf", html, "application/pdf")},
    )
    assert response.status_code == 400
    assert "This is not a PDF file" in response.content.decode()
    with override_settings(SOGLA_VERIFY_MAX_MB=1):
        big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1)
        response = client.post(
            f"/v/{evidence.code}/", {"file": SimpleUploadedFile("big.pdf", big)}
        )
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_unknown_wrong_or_unapproved_codes_answer_the_same(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    client = Client()
    flipped = ("1" if evidence.code[0] != "1" else "2") + evidence.code[1:]
    for code in (flipped, "x", "..%2F..%2Fetc%2Fpasswd", "A" * 200):
        assert client.get(f"/v/{code}/").status_code == 404
    # a process that did not end approved has no public page
    tenant = approval.tenant
    template = publish(
        tenant,
        route(stage("s", approve("a", {"user": approval.lawyer.username}))),
        key="other",
    )
    document = make_document(tenant)
    process = services.process_start(
        actor=tenant.initiator, document=document, template=template
    )
    services.process_cancel(actor=tenant.initiator, process=process, reason="stop")
    process.refresh_from_db()
    other = evidence_make(process)
    assert other.outcome == "cancelled"
    assert other.stamped_version is None
    assert client.get(f"/v/{other.code}/").status_code == 404


def test_verification_page_is_rate_limited(approval: Approval) -> None:
    evidence = evidence_make(approval.process)
    client = Client()
    with override_settings(SOGLA_VERIFY_PER_MINUTE=5):
        answers = [client.get(f"/v/{evidence.code}/").status_code for _ in range(8)]
    assert answers[:5] == [200] * 5
    assert answers[5:] == [429] * 3
    # another address is not held up
    assert (
        client.get(f"/v/{evidence.code}/", REMOTE_ADDR="198.51.100.9").status_code
        == 200
    )


def test_unstampable_pdf_leaves_no_stamp_but_a_sheet(tenant_a: Tenant) -> None:
    from tests.evidence.conftest import run_approval

    approval = run_approval(tenant_a)
    FileVersion.objects.filter(pk=approval.version.pk).update(mime_type="text/plain")
    evidence = evidence_make(approval.process)
    assert evidence.approved_version is None
    assert evidence.stamped_version is None
    assert evidence.sheet_version is not None
    assert io.BytesIO(_bytes(evidence.sheet_version)).read(5) == b"%PDF-"
