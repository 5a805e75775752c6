"""Registry filters, the new-document form, the card, files and downloads."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from sogla.documents.models import Counterparty, Document, DocumentFile, FileVersion
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import CounterpartyFactory
from tests.web.conftest import signed_in

# --- registry ------------------------------------------------------------------------


def test_registry_lists_documents_with_columns(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document("Equipment supply")
    html = client_a.get(reverse("documents:registry")).content.decode()
    assert document.number in html
    assert "Equipment supply" in html
    assert "status-neutral" in html  # draft chip with its colour token
    assert document.counterparty is not None
    assert document.counterparty.name in html
    assert "1 document" in html


def test_registry_text_filter_and_htmx_partial(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    wanted = make_document("Office lease")
    other = make_document("Equipment supply")
    response = client_a.get(
        reverse("documents:registry"),
        {"q": "lease"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    html = response.content.decode()
    assert "<html" not in html  # only the #results partial
    assert wanted.number in html
    assert other.number not in html


def test_registry_filters_by_counterparty_and_mine(
    tenant_a: Tenant, make_document: Callable[..., Document]
) -> None:
    mine = make_document("Mine")
    client = signed_in(tenant_a.colleague)
    html = client.get(
        reverse("documents:registry"), {"counterparty": str(mine.counterparty_id)}
    ).content.decode()
    assert mine.number in html
    html = client.get(reverse("documents:registry"), {"mine": "on"}).content.decode()
    assert mine.number not in html
    assert "Nothing found" in html
    assert "My documents" in html


def test_registry_empty_and_no_results_states(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    assert (
        "No documents yet."
        in client_a.get(reverse("documents:registry")).content.decode()
    )
    make_document()
    html = client_a.get(
        reverse("documents:registry"), {"status": "approved"}
    ).content.decode()
    assert "Nothing found: Status = Approved" in html
    assert "Clear filters" in html


def test_registry_keyset_pagination(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    documents = [make_document(f"Doc {i}", with_file=False) for i in range(52)]
    first = client_a.get(reverse("documents:registry")).content.decode()
    assert "52 documents" in first
    assert documents[-1].number in first
    assert documents[0].number not in first
    cursor = re.search(r'href="\?cursor=([^"]+)"', first)
    assert cursor is not None
    second = client_a.get(
        reverse("documents:registry")
        + "?cursor="
        + cursor.group(1).replace("&amp;", "&")
    ).content.decode()
    assert documents[0].number in second
    assert documents[1].number in second
    assert documents[-1].number not in second
    assert "Back to first page" in second


@pytest.mark.parametrize("count", [5, 30])
def test_registry_query_count_is_constant(
    client_a: Client,
    make_document: Callable[..., Document],
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    for i in range(count):
        make_document(f"Doc {i}", with_file=False)
    client_a.get(reverse("documents:registry"))  # the types and statuses kept
    with django_assert_max_num_queries(10):  # UI.md: ten per page of 50
        response = client_a.get(reverse("documents:registry"))
    assert response.status_code == 200


# --- new document ----------------------------------------------------------------------


def _form(tenant: Tenant, **extra: object) -> dict[str, object]:
    party = CounterpartyFactory(organisation=tenant.org)
    data: dict[str, object] = {
        "f-subject": "Equipment supply",
        "f-amount": "1 250 000,50",
        "f-end_date": "2025-12-31",
        "f-counterparty": str(party.pk),
    }
    data.update(extra)
    return data


def test_type_picker_lists_types(client_a: Client, tenant_a: Tenant) -> None:
    html = client_a.get(reverse("documents:new")).content.decode()
    assert reverse("documents:create", args=["contract"]) in html


def test_create_form_renders_typed_inputs(client_a: Client) -> None:
    html = client_a.get(reverse("documents:create", args=["contract"])).content.decode()
    assert 'inputmode="decimal"' in html
    assert 'name="f-amount"' in html
    assert 'type="date"' in html
    assert 'name="f-end_date"' in html
    assert 'type="file" name="f-contract_file"' in html
    assert 'name="files"' in html
    assert "multiple" in html
    assert 'role="combobox"' in html
    assert "(required)" in html


def test_create_with_file_redirects_to_card(client_a: Client, tenant_a: Tenant) -> None:
    data = _form(tenant_a)
    data["f-contract_file"] = SimpleUploadedFile(
        "contract.pdf", MINIMAL_PDF, "application/pdf"
    )
    response = client_a.post(reverse("documents:create", args=["contract"]), data)
    assert response.status_code == 302
    document = Document.objects.get()
    assert response["Location"] == reverse("documents:card", args=[document.pk])
    assert document.fields["amount"] == "1250000.50"
    assert DocumentFile.objects.get(document=document).field_key == "contract_file"
    page = client_a.get(response["Location"]).content.decode()
    assert f"Created: {document.number}" in page


def test_create_errors_name_fields_keep_values_and_save_nothing(
    client_a: Client, tenant_a: Tenant
) -> None:
    data = _form(
        tenant_a, **{"f-subject": "", "f-amount": "lots", "f-end_date": "2025-12-31"}
    )
    response = client_a.post(reverse("documents:create", args=["contract"]), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert Document.objects.count() == 0
    assert "Fix 2 fields" in html
    assert 'href="#id_f-subject"' in html
    assert 'href="#id_f-amount"' in html
    assert "This field is required." in html
    assert "Enter a number." in html
    assert 'value="lots"' in html
    assert 'value="2025-12-31"' in html
    assert "data-error-summary" in html


def test_bad_upload_saves_nothing_and_reports_other_fields_too(
    client_a: Client, tenant_a: Tenant
) -> None:
    data = _form(tenant_a, **{"f-subject": ""})
    data["files"] = [
        SimpleUploadedFile("evil.pdf", b"<html><script>x</script>", "application/pdf")
    ]
    response = client_a.post(reverse("documents:create", args=["contract"]), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert Document.objects.count() == 0
    assert FileVersion.objects.count() == 0
    assert "This kind of file is not accepted" in html
    assert 'href="#id_f-subject"' in html
    assert 'href="#id_files"' in html


def test_unknown_type_is_404(client_a: Client) -> None:
    assert client_a.get(reverse("documents:create", args=["nope"])).status_code == 404


def test_edit_fields_in_draft(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document("Old subject")
    response = client_a.post(
        reverse("documents:edit", args=[document.pk]),
        {
            "f-subject": "New subject",
            "f-amount": "10",
            "f-counterparty": str(document.counterparty_id),
        },
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.fields["subject"] == "New subject"


def test_edit_by_someone_else_is_403(
    tenant_a: Tenant, make_document: Callable[..., Document]
) -> None:
    document = make_document()
    client = signed_in(tenant_a.colleague)
    response = client.get(reverse("documents:edit", args=[document.pk]))
    assert response.status_code == 403
    assert b"Only the initiator" in response.content


# --- counterparty combobox ---------------------------------------------------------------


def test_counterparty_search_returns_options_and_create_link(
    client_a: Client, tenant_a: Tenant
) -> None:
    CounterpartyFactory(organisation=tenant_a.org, name="Romashka LLC")
    html = client_a.get(
        reverse("documents:counterparty_search"),
        {"q": "Romash", "field": "counterparty"},
    ).content.decode()
    assert "Romashka LLC" in html
    assert "data-cp-pick" in html
    assert "Create “Romash”" in html


def test_counterparty_quick_create_selects_new_and_reports_duplicates(
    client_a: Client, tenant_a: Tenant
) -> None:
    url = reverse("documents:counterparty_quick_create")
    response = client_a.post(
        url, {"cp_name": "Vector", "cp_tax_id": "7701234578", "field": "counterparty"}
    )
    party = Counterparty.objects.get(name="Vector")
    html = response.content.decode()
    assert f'name="f-counterparty" id="id_f-counterparty" value="{party.pk}"' in html
    response = client_a.post(
        url, {"cp_name": "Vector 2", "cp_tax_id": "7701234578", "field": "counterparty"}
    )
    html = response.content.decode()
    assert "already exists: Vector" in html
    assert Counterparty.objects.filter(organisation=tenant_a.org).count() == 1


def test_counterparty_full_form_with_contacts(
    client_a: Client, tenant_a: Tenant
) -> None:
    response = client_a.post(
        reverse("documents:counterparty_create"),
        {
            "name": "Romashka",
            "tax_id": "7701234578",
            "category": "supplier",
            "contact_1_name": "Anna",
            "contact_1_email": "anna@romashka.test",
        },
    )
    assert response.status_code == 302
    party = Counterparty.objects.get(name="Romashka")
    assert [c.email for c in party.contacts.all()] == ["anna@romashka.test"]
    detail = client_a.get(response["Location"]).content.decode()
    assert "anna@romashka.test" in detail


def test_counterparty_form_error_on_contact_slot(client_a: Client) -> None:
    response = client_a.post(
        reverse("documents:counterparty_create"),
        {"name": "Romashka", "category": "supplier", "contact_2_email": "anna@x.test"},
    )
    assert response.status_code == 422
    assert 'id="id_contact_2_name_error"' in response.content.decode()
    assert Counterparty.objects.count() == 0


# --- card, files, downloads ----------------------------------------------------------------


def test_card_shows_header_fields_and_files(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document("Equipment supply")
    html = client_a.get(reverse("documents:card", args=[document.pk])).content.decode()
    assert f'data-copy="{document.number}"' in html
    assert "1,250,000.50" in html
    assert reverse("documents:edit", args=[document.pk]) in html
    assert reverse("documents:archive", args=[document.pk]) in html
    files = client_a.get(
        reverse("documents:card", args=[document.pk]), {"tab": "files"}
    ).content.decode()
    version = FileVersion.objects.get(file__document=document)
    assert "v1 (current)" in files
    assert f'sha <span class="sha">{version.sha256[:4]}' in files
    assert reverse("documents:download", args=[version.pk]) in files


def test_card_query_count(
    client_a: Client,
    make_document: Callable[..., Document],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    document = make_document()
    for tab in ("fields", "files"):
        # 13 on Fields, 14 on Files (the budget is 20: UI.md)
        with django_assert_max_num_queries(14):
            assert (
                client_a.get(
                    reverse("documents:card", args=[document.pk]), {"tab": tab}
                ).status_code
                == 200
            )


def test_upload_new_version(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document()
    file = DocumentFile.objects.get(document=document)
    new_pdf = MINIMAL_PDF + b"% second version\n"
    response = client_a.post(
        reverse("documents:file_upload", args=[document.pk]),
        {"file_id": file.pk, "file": SimpleUploadedFile("contract-v2.pdf", new_pdf)},
    )
    assert response.status_code == 302
    assert list(
        file.versions.order_by("version").values_list("version", flat=True)
    ) == [1, 2]
    html = client_a.get(response["Location"]).content.decode()
    assert "contract-v2.pdf, version 2" in html
    assert "v2 (current)" in html


def test_upload_refused_file_shows_message(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document()
    response = client_a.post(
        reverse("documents:file_upload", args=[document.pk]),
        {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary\x00")},
        follow=True,
    )
    assert "This kind of file is not accepted" in response.content.decode()
    assert FileVersion.objects.filter(file__document=document).count() == 1


def test_download_headers(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document()
    version = FileVersion.objects.get(file__document=document)
    version.original_name = "Договор №1.pdf"
    version.save()
    response = client_a.get(
        reverse("documents:download", args=[version.pk]), follow=True
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=utf-8''%D0%94%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80"
        in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


def test_archive_removes_from_registry(
    client_a: Client, make_document: Callable[..., Document]
) -> None:
    document = make_document()
    assert (
        client_a.get(reverse("documents:archive", args=[document.pk])).status_code
        == 405
    )
    response = client_a.post(reverse("documents:archive", args=[document.pk]))
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.archived_at is not None
    first = client_a.get(reverse("documents:registry")).content.decode()
    assert f"Archived: {document.number}" in first  # the message, once
    assert (
        document.number
        not in client_a.get(reverse("documents:registry")).content.decode()
    )


# --- tenant isolation ------------------------------------------------------------------------


def test_other_tenant_ids_give_404_everywhere(
    tenant_a: Tenant, tenant_b: Tenant, make_document: Callable[..., Document]
) -> None:
    document = make_document()
    version = FileVersion.objects.get(file__document=document)
    party = document.counterparty
    assert party is not None
    outsider = signed_in(tenant_b.admin)
    gets = [
        reverse("documents:card", args=[document.pk]),
        reverse("documents:edit", args=[document.pk]),
        reverse("documents:download", args=[version.pk]),
        reverse("documents:counterparty_detail", args=[party.pk]),
    ]
    for url in gets:
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert b"Not found or no access" in response.content
    posts = [
        (reverse("documents:archive", args=[document.pk]), {}),
        (
            reverse("documents:file_upload", args=[document.pk]),
            {"file": SimpleUploadedFile("a.pdf", MINIMAL_PDF)},
        ),
    ]
    for url, data in posts:
        assert outsider.post(url, data).status_code == 404, url
    document.refresh_from_db()
    assert document.archived_at is None
    assert FileVersion.objects.filter(file__document=document).count() == 1
    # Another tenant's counterparty never shows up in search or the registry filter.
    html = outsider.get(
        reverse("documents:counterparty_search"), {"q": party.name}
    ).content
    assert b"data-cp-pick" not in html
    html = outsider.get(reverse("documents:registry")).content
    assert document.number.encode() not in html


@pytest.mark.parametrize(
    "name",
    [
        "documents:registry",
        "documents:counterparty_list",
        "documents:counterparty_search",
    ],
)
def test_nul_characters_in_search_are_ignored(client_a: Client, name: str) -> None:
    response = client_a.get(reverse(name), {"q": "Rom\x00ashka"})
    assert response.status_code == 200
