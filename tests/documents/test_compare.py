"""Version comparison (issue 12 item 3): paragraphs from DOCX and from PDF text, the
diff with changed words, the page, its access rules and the "since" links."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from sogla.documents.compare import (
    Paragraph,
    compare_texts,
    docx_paragraphs,
    text_paragraphs,
)
from sogla.documents.models import Document, DocumentFile, FileVersion
from sogla.documents.services import NewFile, file_add
from sogla.documents.uploads import bytes_upload
from tests.conftest import MINIMAL_PDF, Tenant
from tests.documents.test_previews import build_all, make_docx, soffice, with_file


def paragraphs(*texts: str) -> list[Paragraph]:
    return [Paragraph(0, t) for t in texts]


def test_changed_paragraph_marks_only_the_changed_words() -> None:
    old = paragraphs("Preamble.", "The penalty is 0.1 % per day.", "Signatures.")
    new = paragraphs("Preamble.", "The penalty is 0.5 % per day.", "Signatures.")
    result = compare_texts(old, new)
    assert (result.changed, result.added, result.removed) == (1, 0, 0)
    [change] = result.changes
    assert change.kind == "changed"
    assert change.number == 1
    pieces = change.words[0]
    assert ("removed", "1") in pieces
    assert ("added", "5") in pieces
    assert "".join(t for op, t in pieces if op != "added") == old[1].text
    assert "".join(t for op, t in pieces if op != "removed") == new[1].text


def test_added_and_removed_paragraphs_are_counted() -> None:
    old = paragraphs("A.", "B.", "C.")
    new = paragraphs("A.", "C.", "D.", "E.")
    result = compare_texts(old, new)
    assert (result.removed, result.added) == (1, 2)
    assert [b.kind for b in result.changes] == ["removed", "added"]
    assert [b.number for b in result.changes] == [1, 2]


def test_identical_texts() -> None:
    assert compare_texts(paragraphs("A."), paragraphs("A.")).identical


def test_pdf_lines_are_joined_into_paragraphs_with_pages() -> None:
    page1 = (
        "1. The supplier delivers the goods to the buyer within the agreed\n"
        "time and at the agreed place.\n"
        "2. The buyer pays for them.\n"
    )
    page2 = "Signatures\n\nSupplier Buyer"
    result = text_paragraphs(page1 + "\f" + page2)
    assert [p.text for p in result] == [
        "1. The supplier delivers the goods to the buyer within the agreed time "
        "and at the agreed place.",
        "2. The buyer pays for them.",
        "Signatures",
        "Supplier Buyer",
    ]
    assert [p.page for p in result] == [1, 1, 2, 2]


def test_docx_paragraphs_and_table_rows() -> None:
    from docx import Document as Docx

    docx = Docx()
    docx.add_paragraph("Договор поставки")
    docx.add_paragraph("")
    table = docx.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Цена"
    table.rows[0].cells[1].text = "100"
    out = io.BytesIO()
    docx.save(out)
    out.seek(0)
    assert [p.text for p in docx_paragraphs(out)] == ["Договор поставки", "Цена | 100"]


# --- the page ------------------------------------------------------------------------


def two_docx_versions(tenant: Tenant) -> tuple[FileVersion, FileVersion]:
    first = with_file(
        tenant,
        "договор.docx",
        make_docx(["Договор", "Неустойка 0,1 % в день.", "Срок поставки 10 дней."]),
    )
    document = Document.objects.get(pk=first.file.document_id)
    second = file_add(
        actor=tenant.initiator,
        document=document,
        new=NewFile(
            bytes_upload(
                "file",
                "договор.docx",
                make_docx(
                    ["Договор", "Неустойка 0,5 % в день.", "Гарантия 12 месяцев."]
                ),
            )
        ),
        file=DocumentFile.objects.get(pk=first.file_id),
    )
    return first, second


def client_for(user: Any) -> Client:
    user.language = "en"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_compare_page_shows_docx_changes_without_conversion(tenant_a: Tenant) -> None:
    first, _second = two_docx_versions(tenant_a)
    client = client_for(tenant_a.initiator)
    response = client.get(f"/documents/{first.file.document_id}/compare/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "v1 → v2" in page
    assert "<del>1</del><ins>5</ins>" in page
    assert "<ins>Гарантия 12 месяцев.</ins>" in page
    assert "<del>Срок поставки 10 дней.</del>" in page
    assert 'href="#change-1"' in page
    side = client.get(
        f"/documents/{first.file.document_id}/compare/?mode=side"
    ).content.decode()
    assert "compare-side" in side


def test_compare_pdf_versions_through_their_text(tenant_a: Tenant) -> None:
    soffice()
    first = with_file(tenant_a, "a.txt", "Срок оплаты 10 дней.\n".encode())
    document = Document.objects.get(pk=first.file.document_id)
    file_add(
        actor=tenant_a.initiator,
        document=document,
        new=NewFile(bytes_upload("file", "a.txt", "Срок оплаты 30 дней.\n".encode())),
        file=DocumentFile.objects.get(pk=first.file_id),
    )
    client = client_for(tenant_a.initiator)
    waiting = client.get(f"/documents/{document.pk}/compare/").content.decode()
    assert "being prepared" in waiting
    build_all()
    page = client.get(f"/documents/{document.pk}/compare/").content.decode()
    assert "<del>10</del><ins>30</ins>" in page


def test_since_picks_the_version_current_at_that_moment(tenant_a: Tenant) -> None:
    first, _second = two_docx_versions(tenant_a)
    FileVersion.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    moment = (timezone.now() - timedelta(days=1)).timestamp()
    page = (
        client_for(tenant_a.initiator)
        .get(f"/documents/{first.file.document_id}/compare/?since={moment}")
        .content.decode()
    )
    assert "v1 → v2" in page


def test_one_version_has_nothing_to_compare(tenant_a: Tenant) -> None:
    version = with_file(tenant_a, "a.pdf", MINIMAL_PDF)
    page = (
        client_for(tenant_a.initiator)
        .get(f"/documents/{version.file.document_id}/compare/")
        .content.decode()
    )
    assert "only one version" in page


def test_compare_is_not_found_for_another_organisation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    first, _second = two_docx_versions(tenant_a)
    response = client_for(tenant_b.admin).get(
        f"/documents/{first.file.document_id}/compare/"
    )
    assert response.status_code == 404


def test_versions_of_another_document_are_ignored(tenant_a: Tenant) -> None:
    first, _second = two_docx_versions(tenant_a)
    other = with_file(tenant_a, "other.docx", make_docx(["Секрет", "чужой текст"]))
    page = (
        client_for(tenant_a.initiator)
        .get(f"/documents/{first.file.document_id}/compare/?old={other.pk}")
        .content.decode()
    )
    assert "чужой текст" not in page
    assert "v1 → v2" in page


def test_card_links_each_later_version_to_its_changes(tenant_a: Tenant) -> None:
    first, second = two_docx_versions(tenant_a)
    page = (
        client_for(tenant_a.initiator)
        .get(f"/documents/{first.file.document_id}/?tab=files")
        .content.decode()
    )
    assert (
        f"/documents/{first.file.document_id}/compare/?file={first.file_id}&amp;new={second.pk}"
        in page
    )
