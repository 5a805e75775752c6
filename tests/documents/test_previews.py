"""Previews (issue 12 item 1): conversion of real office files by LibreOffice, the
bad files (corrupt, password-protected, bomb, huge, hanging), the queue that never
sticks, caching by content, and the preview endpoints' access rules and headers."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sogla.documents.models import Document, FilePreview, FileVersion
from sogla.documents.previews import NoPreview, convert_to_pdf
from sogla.documents.services import NewFile, document_create, previews_build_due
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import User
from tests.conftest import MINIMAL_PDF, Tenant, skip_or_fail
from tests.factories import DocumentTypeFactory, add_field

READY = FilePreview.State.READY
FAILED = FilePreview.State.FAILED


def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        skip_or_fail("LibreOffice (soffice) is not installed")
    return str(path)


def make_docx(paragraphs: list[str]) -> bytes:
    from docx import Document as Docx
    from docx.shared import Mm

    docx = Docx()
    section = docx.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    docx.add_heading(paragraphs[0], 1)
    for text in paragraphs[1:]:
        docx.add_paragraph(text)
    out = io.BytesIO()
    docx.save(out)
    return out.getvalue()


def make_xlsx(rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for n in range(1, rows + 1):
        sheet.append([f"Позиция {n}", n, f"=B{n}*2"])
    sheet.append(["Итого", f"=SUM(B1:B{rows})"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_file(tenant: Tenant, name: str, data: bytes, user: User | None = None) -> Any:
    document = document_create(
        actor=user or tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Supply", "amount": "10"},
        files=[NewFile(bytes_upload("contract_file", name, data), "contract_file")],
    )
    return FileVersion.objects.get(file__document=document)


def preview_of(version: FileVersion) -> FilePreview:
    return FilePreview.objects.get(
        organisation_id=version.organisation_id, sha256=version.sha256
    )


def build_all() -> None:
    while previews_build_due(limit=5):
        pass


# --- conversion of real files ---------------------------------------------------------


def test_docx_made_by_python_docx_converts_with_its_text(tenant_a: Tenant) -> None:
    soffice()
    version = with_file(
        tenant_a,
        "договор.docx",
        make_docx(["Договор поставки", "Неустойка составляет 0,1 % в день."]),
    )
    assert preview_of(version).state == FilePreview.State.PENDING
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.kind, preview.pages) == (READY, "pdf", 1)
    assert preview.pdf_key
    assert preview.thumb_key
    assert "Неустойка составляет" in preview.text
    from django.core.files.storage import default_storage

    with default_storage.open(preview.pdf_key, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    with default_storage.open(preview.thumb_key, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def test_xlsx_made_by_openpyxl_converts_with_formulas_evaluated(
    tenant_a: Tenant,
) -> None:
    soffice()
    version = with_file(tenant_a, "реестр.xlsx", make_xlsx(20))
    build_all()
    preview = preview_of(version)
    assert preview.state == READY, preview.detail
    assert "Итого 210" in preview.text  # =SUM(1..20), computed by LibreOffice


def test_odt_saved_by_libreoffice_itself_converts(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    binary = soffice()
    source = tmp_path / "memo.docx"
    source.write_bytes(make_docx(["Служебная записка", "Прошу согласовать отпуск."]))
    subprocess.run(
        [binary, f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless",
         "--convert-to", "odt", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    version = with_file(tenant_a, "memo.odt", (tmp_path / "memo.odt").read_bytes())
    assert version.mime_type == "application/vnd.oasis.opendocument.text"
    build_all()
    preview = preview_of(version)
    assert preview.state == READY, preview.detail
    assert "Прошу согласовать отпуск" in preview.text


def test_plain_text_converts(tenant_a: Tenant) -> None:
    soffice()
    version = with_file(tenant_a, "notes.txt", "Заметка о поставке\n".encode())
    build_all()
    assert preview_of(version).state == READY
    assert "Заметка о поставке" in preview_of(version).text


def test_pdf_is_shown_itself_and_not_converted(tenant_a: Tenant) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.kind, preview.pages) == (READY, "pdf", 1)
    assert preview.pdf_key == ""  # the source itself goes to pdf.js
    assert preview.thumb_key


def test_png_is_an_inline_image_with_a_thumbnail(tenant_a: Tenant) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(out, format="PNG")
    version = with_file(tenant_a, "photo.png", out.getvalue())
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.kind) == (READY, "image")
    assert preview.thumb_key


def test_same_content_is_converted_once(tenant_a: Tenant) -> None:
    soffice()
    data = make_docx(["Один и тот же файл", "текст"])
    first = with_file(tenant_a, "a.docx", data)
    second = with_file(tenant_a, "b.docx", data)
    assert FilePreview.objects.filter(sha256=first.sha256).count() == 1
    assert previews_build_due(limit=5) == 1
    assert preview_of(second).state == READY
    assert previews_build_due(limit=5) == 0  # nothing left: never converted twice


def test_each_organisation_has_its_own_preview(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    b = with_file(tenant_b, "scan.pdf", MINIMAL_PDF)
    assert preview_of(a).pk != preview_of(b).pk


# --- bad files: "no preview", the file still downloads, the queue moves on ------------


def test_corrupt_pdf_has_no_preview_and_still_downloads(tenant_a: Tenant) -> None:
    broken = b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 9 0 R>>endobj\ntrailer<<>>\n%%EOF"
    version = with_file(tenant_a, "broken.pdf", broken)
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.reason) == (FAILED, "corrupt")
    client = client_for(tenant_a.initiator)
    part = client.get(f"/files/{version.pk}/preview/")
    assert "No preview" in part.content.decode()
    assert "damaged" in part.content.decode()
    assert client.get(f"/files/{version.pk}/download/", follow=True).status_code == 200
    assert client.get(f"/files/{version.pk}/preview.pdf").status_code == 404


def test_password_protected_pdf_has_no_preview(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    binary = soffice()
    (tmp_path / "secret.txt").write_text("secret text\n")
    options = (
        'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
        '"DocumentOpenPassword":{"type":"string","value":"secret"}}'
    )
    subprocess.run(
        [binary, f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless",
         "--convert-to", options, "--outdir", str(tmp_path), str(tmp_path / "secret.txt")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    version = with_file(tenant_a, "secret.pdf", (tmp_path / "secret.pdf").read_bytes())
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.reason) == (FAILED, "encrypted")


def docx_bomb(inflated_mb: int) -> bytes:
    """A DOCX whose document.xml inflates to ``inflated_mb`` MiB (about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        body = b"<w:document>" + b" " * (inflated_mb * 1024 * 1024) + b"</w:document>"
        archive.writestr("word/document.xml", body)
    return out.getvalue()


def test_docx_bomb_is_refused_before_libreoffice_sees_it(
    tenant_a: Tenant, settings: Any
) -> None:
    # Accepted at upload under looser limits (an older policy, say); the preview's
    # own limits refuse it without inflating it.
    settings.SOGLA_ZIP_MAX_RATIO = 1_000_000
    settings.SOGLA_PREVIEW_SOFFICE = "/nonexistent/soffice"  # must not be reached
    version = with_file(tenant_a, "bomb.docx", docx_bomb(64))
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.reason) == (FAILED, "too_large")


@pytest.mark.slow
def test_300_page_spreadsheet_ends_in_a_clear_state_and_the_queue_moves_on(
    tenant_a: Tenant, settings: Any
) -> None:
    soffice()
    settings.SOGLA_PREVIEW_TIMEOUT = 30
    settings.SOGLA_PREVIEW_MAX_PAGES = 100
    big = with_file(tenant_a, "big.xlsx", make_xlsx(15_000))
    small = with_file(tenant_a, "small.pdf", MINIMAL_PDF)
    started = time.monotonic()
    build_all()
    assert time.monotonic() - started < 60
    preview = preview_of(big)
    assert preview.state == FAILED
    assert preview.reason in {"too_large", "timeout"}
    assert preview_of(small).state == READY


def fake_soffice(tmp_path: Path) -> tuple[Path, Path]:
    """A converter that hangs with a child process, recording the child's pid."""
    pidfile = tmp_path / "child.pid"
    script = tmp_path / "soffice"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nwait\n")
    script.chmod(0o755)
    return script, pidfile


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in state


def test_hanging_conversion_is_killed_with_its_children(
    tmp_path: Path, settings: Any
) -> None:
    script, pidfile = fake_soffice(tmp_path)
    settings.SOGLA_PREVIEW_SOFFICE = str(script)
    started = time.monotonic()
    with pytest.raises(NoPreview) as raised:
        convert_to_pdf(io.BytesIO(b"text"), suffix=".txt", timeout=1)
    assert raised.value.reason == "timeout"
    assert time.monotonic() - started < 10
    child = int(pidfile.read_text())
    for _ in range(20):
        if gone(child):
            break
        time.sleep(0.1)
    assert gone(child)


def test_hanging_file_gets_no_preview_and_does_not_block_the_next(
    tenant_a: Tenant, tmp_path: Path, settings: Any
) -> None:
    script, _pidfile = fake_soffice(tmp_path)
    settings.SOGLA_PREVIEW_SOFFICE = str(script)
    settings.SOGLA_PREVIEW_TIMEOUT = 1
    hanging = with_file(tenant_a, "hangs.txt", b"hangs\n")
    fine = with_file(tenant_a, "fine.pdf", MINIMAL_PDF)
    build_all()
    assert (preview_of(hanging).state, preview_of(hanging).reason) == (
        FAILED,
        "timeout",
    )
    assert preview_of(fine).state == READY


def test_a_build_that_killed_the_worker_twice_fails_instead_of_sticking(
    tenant_a: Tenant,
) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    # Two workers died while building it: the lease ran out each time.
    FilePreview.objects.filter(sha256=version.sha256).update(
        state=FilePreview.State.WORKING,
        attempts=2,
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    build_all()
    preview = preview_of(version)
    assert (preview.state, preview.reason) == (FAILED, "interrupted")


def test_an_interrupted_build_is_retried_once(tenant_a: Tenant) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    FilePreview.objects.filter(sha256=version.sha256).update(
        state=FilePreview.State.WORKING,
        attempts=1,
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    build_all()
    assert preview_of(version).state == READY


def test_missing_converter_is_a_clear_state(tenant_a: Tenant, settings: Any) -> None:
    settings.SOGLA_PREVIEW_SOFFICE = "/nonexistent/soffice"
    version = with_file(tenant_a, "notes.txt", b"text\n")
    build_all()
    assert preview_of(version).reason == "no_converter"


def test_the_worker_sweep_builds_previews(tenant_a: Tenant) -> None:
    from sogla.site.worker import Worker

    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    done = Worker().sweep()
    assert done.previews == 1
    assert preview_of(version).state == READY


# --- serving: the download's access rules and headers --------------------------------


def client_for(user: User) -> Client:
    user.language = "en"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_preview_endpoints_headers(tenant_a: Tenant) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    client = client_for(tenant_a.initiator)
    pdf = client.get(f"/files/{version.pk}/preview.pdf")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    # Bytes for pdf.js, never a document the browser renders on our origin.
    assert pdf["Content-Type"] == "application/octet-stream"
    assert pdf["Content-Disposition"].startswith("attachment")
    assert pdf["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in pdf["Cache-Control"]
    thumb = client.get(f"/files/{version.pk}/thumbnail.png")
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/png"
    assert thumb["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert client.get(f"/files/{version.pk}/image/").status_code == 404  # not an image


def test_preview_part_polls_until_ready(tenant_a: Tenant) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    client = client_for(tenant_a.initiator)
    waiting = client.get(
        f"/files/{version.pk}/preview/", headers={"HX-Request": "true"}
    )
    assert waiting.status_code == 200
    assert 'hx-trigger="every 3s"' in waiting.content.decode()
    assert "Preparing preview" in waiting.content.decode()
    build_all()
    ready = client.get(f"/files/{version.pk}/preview/", headers={"HX-Request": "true"})
    assert ready.status_code == 286  # htmx stops polling
    body = ready.content.decode()
    assert "hx-trigger" not in body
    assert f"/files/{version.pk}/preview.pdf" in body
    assert "pdf.worker.min.mjs" in body


PREVIEW_URLS = ("preview/", "preview.pdf", "thumbnail.png", "image/")


def test_other_organisation_gets_404_on_every_preview_url(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    outsider = client_for(tenant_b.admin)
    for url in PREVIEW_URLS:
        assert outsider.get(f"/files/{version.pk}/{url}").status_code == 404, url


def test_confidential_document_preview_hidden_from_colleague(
    tenant_a: Tenant,
) -> None:
    secret = DocumentTypeFactory(
        organisation=tenant_a.org, key="salary", confidential=True, has_files=True
    )
    add_field(secret, "subject")
    document = document_create(
        actor=tenant_a.initiator,
        doc_type=secret,
        values={"subject": "x"},
        files=[NewFile(bytes_upload("files", "a.pdf", MINIMAL_PDF))],
    )
    version = FileVersion.objects.get(file__document=document)
    build_all()
    colleague = client_for(tenant_a.colleague)
    for url in PREVIEW_URLS:
        assert colleague.get(f"/files/{version.pk}/{url}").status_code == 404, url
    owner = client_for(tenant_a.initiator)
    assert owner.get(f"/files/{version.pk}/preview.pdf").status_code == 200


def test_anonymous_is_sent_to_sign_in(tenant_a: Tenant) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    response = Client().get(f"/files/{version.pk}/preview.pdf")
    assert response.status_code == 302


def test_card_files_tab_shows_the_viewer_of_the_chosen_version(
    tenant_a: Tenant,
) -> None:
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    document = Document.objects.get(pk=version.file.document_id)
    client = client_for(tenant_a.initiator)
    page = client.get(f"/documents/{document.pk}/?tab=files").content.decode()
    assert 'id="viewer"' in page
    assert f"/files/{version.pk}/preview.pdf" in page
    assert "sogla/dist/viewer" in page
    # A version of another document is not shown through this card.
    other = with_file(tenant_a, "other.pdf", MINIMAL_PDF + b"%")
    page = client.get(
        f"/documents/{document.pk}/?tab=files&version={other.pk}"
    ).content.decode()
    assert f"/files/{other.pk}/preview.pdf" not in page


def test_registry_cards_show_first_page_thumbnails(tenant_a: Tenant) -> None:
    """The registry's phone cards show /documents/<id>/thumbnail.png beside the
    row's link /documents/<id>/ (main.js adds it on a phone:
    tests/e2e/test_registry_phone.py); the thumbnail is the first page's."""
    version = with_file(tenant_a, "scan.pdf", MINIMAL_PDF)
    build_all()
    client = client_for(tenant_a.initiator)
    page = client.get("/documents/").content.decode()
    document_id = version.file.document_id
    assert f'<tr><td><a href="/documents/{document_id}/">' in page
    thumb = client.get(f"/documents/{document_id}/thumbnail.png")
    assert thumb["Content-Type"] == "image/png"
    served = b"".join(thumb.streaming_content)  # type: ignore[attr-defined]
    assert served == b"".join(
        client.get(f"/files/{version.pk}/thumbnail.png").streaming_content  # type: ignore[attr-defined]
    )
    assert len(served) > 100  # the real page, not the blank pixel


def test_no_soffice_processes_left_behind(tenant_a: Tenant) -> None:
    soffice()
    with_file(tenant_a, "x.docx", make_docx(["Проверка", "текст"]))
    build_all()
    mine = subprocess.run(
        ["/usr/bin/pgrep", "-f", "sogla-preview-"],
        capture_output=True,
        text=True,
        check=False,
    )
    own = [p for p in mine.stdout.split() if _is_child_of_me(int(p))]
    assert own == []


def _is_child_of_me(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    ppid = next(
        (
            int(line.split()[1])
            for line in status.splitlines()
            if line.startswith("PPid")
        ),
        0,
    )
    return ppid == os.getpid()
