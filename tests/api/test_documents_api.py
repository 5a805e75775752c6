"""Documents, document types and files over the REST API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from sogla.documents.models import Document, DocumentFile, FileVersion, StatusDef
from tests.api.conftest import API, ApiClient, errors_by_field, token_client
from tests.conftest import MINIMAL_PDF, Tenant
from tests.factories import CounterpartyFactory, DocumentTypeFactory, add_field

VALID = {"subject": "Поставка", "amount": "1 250 000,50"}


def create(api: ApiClient, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post(
        "/documents", {"doc_type": "contract", "fields": fields or VALID}
    )
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def upload(api: ApiClient, doc_id: int, name: str, data: bytes, **form: Any) -> Any:
    file = io.BytesIO(data)
    file.name = name
    return api.client.post(
        f"{API}/documents/{doc_id}/files", {"file": file, **form}, headers=api.headers
    )


def test_document_types_list_and_get(tenant_a: Tenant, api_a: ApiClient) -> None:
    add_field(
        tenant_a.contract,
        "kind",
        "choice",
        choices=[{"value": "full", "ru": "Полное", "en": "Full"}],
        required_when={"field": "amount", "op": "gt", "value": 100},
    )
    listed = api_a.get("/document-types")
    assert listed.status_code == 200
    assert [t["key"] for t in listed.json()] == ["contract"]

    response = api_a.get("/document-types/contract")
    assert response.status_code == 200
    body = response.json()
    fields = {f["key"]: f for f in body["fields"]}
    assert fields["subject"]["kind"] == "string"
    assert fields["subject"]["required"] is True
    assert (
        fields["kind"]["choices"]
        == [{"value": "full", "label": "Полное", "ru": "Полное", "en": "Full"}]
        or fields["kind"]["choices"][0]["value"] == "full"
    )
    assert fields["kind"]["required_when"] == {
        "field": "amount",
        "op": "gt",
        "value": 100,
    }
    assert [(s["key"], s["token"], s["is_initial"]) for s in body["statuses"]] == [
        ("draft", "neutral", True),
        ("on_approval", "active", False),
        ("approved", "approved", False),
    ]


def test_unknown_document_type_is_404(api_a: ApiClient) -> None:
    response = api_a.get("/document-types/nope", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {"field": "", "code": "not_found", "message": "Not found or no access."}
        ]
    }


def test_create_get_patch_archive(tenant_a: Tenant, api_a: ApiClient) -> None:
    party = CounterpartyFactory(organisation=tenant_a.org, name="Ромашка")
    doc = create(api_a, {**VALID, "counterparty": party.pk})
    assert doc["number"].startswith("D-")
    assert doc["number"].endswith("-00001")
    assert doc["fields"] == {
        "subject": "Поставка",
        "amount": "1250000.50",
        "counterparty": party.pk,
    }
    assert (
        doc["status"]
        == {"key": "draft", "name": "Draft", "meaning": "draft", "token": "neutral"}
        or doc["status"]["key"] == "draft"
    )
    assert doc["counterparty"] == {"id": party.pk, "name": "Ромашка"}
    assert doc["initiator"]["id"] == tenant_a.initiator.pk
    assert doc["can_edit"] is True
    assert doc["files"] == []

    got = api_a.get(f"/documents/{doc['id']}")
    assert got.status_code == 200
    assert got.json()["number"] == doc["number"]

    patched = api_a.patch(f"/documents/{doc['id']}", {"fields": {"subject": "Аренда"}})
    assert patched.status_code == 200, patched.content
    assert patched.json()["fields"]["subject"] == "Аренда"
    assert patched.json()["fields"]["amount"] == "1250000.50"

    archived = api_a.post(f"/documents/{doc['id']}/archive")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert Document.objects.get(pk=doc["id"]).archived_at is not None


def test_list_filters_and_cursor(tenant_a: Tenant, api_a: ApiClient) -> None:
    ids = [create(api_a, {**VALID, "subject": f"s{i}"})["id"] for i in range(5)]
    page = api_a.get("/documents?limit=2")
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 5
    assert [d["id"] for d in body["items"]] == ids[::-1][:2]
    seen = [d["id"] for d in body["items"]]
    while body["next_cursor"]:
        body = api_a.get(
            "/documents", data={"limit": 2, "cursor": body["next_cursor"]}
        ).json()
        seen += [d["id"] for d in body["items"]]
    assert seen == ids[::-1]
    found = api_a.get("/documents", data={"q": "s3"}).json()
    assert [d["id"] for d in found["items"]] == [ids[3]]
    assert api_a.get("/documents", data={"status": "approved"}).json()["total"] == 0
    assert (
        api_a.get("/documents", data={"mine": "true", "doc_type": "contract"}).json()[
            "total"
        ]
        == 5
    )


def test_bad_cursor_and_bad_filter_name_the_field(api_a: ApiClient) -> None:
    bad = api_a.get("/documents", data={"cursor": "garbage"})
    assert bad.status_code == 422
    assert errors_by_field(bad) == {"cursor": "invalid"}
    bad = api_a.get("/documents", data={"limit": "many", "created_from": "soon"})
    assert bad.status_code == 422
    assert errors_by_field(bad) == {"limit": "invalid", "created_from": "invalid"}
    # Unknown query parameters are ignored (they cannot widen the scope).
    ignored = api_a.get("/documents", data={"organisation": "1"})
    assert ignored.status_code == 200
    assert ignored.json()["total"] == 0


def test_field_errors_name_the_field_and_save_nothing(api_a: ApiClient) -> None:
    body = {"doc_type": "contract", "fields": {"amount": "12abc"}}
    response = api_a.post("/documents", body, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["amount"] == {
        "field": "amount",
        "code": "invalid",
        "message": "Enter a number.",
    }
    assert errors["subject"]["code"] == "required"
    # Without Accept-Language the user's (here the organisation's) language is used.
    russian = api_a.post("/documents", body)
    assert {e["field"]: e["message"] for e in russian.json()["errors"]}["amount"] == (
        "Введите число."
    )
    assert not Document.objects.exists()


def test_request_validation_errors_use_the_same_shape(api_a: ApiClient) -> None:
    response = api_a.post("/documents", {"fields": []})
    assert response.status_code == 422
    assert errors_by_field(response) == {"doc_type": "required", "fields": "invalid"}
    broken = api_a.client.post(
        f"{API}/documents",
        "{not json",
        content_type="application/json",
        headers=api_a.headers,
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["code"] == "parse_error"
    assert not Document.objects.exists()


def test_unknown_document_type_on_create_names_doc_type(api_a: ApiClient) -> None:
    response = api_a.post("/documents", {"doc_type": "nope", "fields": VALID})
    assert response.status_code == 422
    assert errors_by_field(response) == {"doc_type": "unknown_type"}


@pytest.mark.parametrize(
    "key", ["organisation", "initiator", "number", "status", "created_at", "id"]
)
def test_mass_assignment_is_refused(
    tenant_a: Tenant, tenant_b: Tenant, api_a: ApiClient, key: str
) -> None:
    """T33: protected attributes in a body are refused as unknown; nothing changes."""
    forged = {
        "organisation": tenant_b.org.pk,
        "initiator": tenant_b.initiator.pk,
        "number": "X-1",
        "status": "approved",
        "created_at": "2000-01-01T00:00:00Z",
        "id": 999,
    }[key]
    response = api_a.post(
        "/documents", {"doc_type": "contract", "fields": VALID, key: forged}
    )
    assert response.status_code == 422
    assert errors_by_field(response) == {key: "unknown_field"}
    assert not Document.objects.exists()

    doc = create(api_a)
    before = Document.objects.values().get(pk=doc["id"])
    response = api_a.patch(
        f"/documents/{doc['id']}", {"fields": {"subject": "x"}, key: forged}
    )
    assert response.status_code == 422
    assert Document.objects.values().get(pk=doc["id"]) == before
    # Inside "fields" the same keys are unknown fields of the type.
    response = api_a.patch(f"/documents/{doc['id']}", {"fields": {key: forged}})
    assert response.status_code == 422
    assert errors_by_field(response) == {key: "unknown_field"}
    assert Document.objects.values().get(pk=doc["id"]) == before


def test_non_initiator_cannot_patch_or_archive(
    tenant_a: Tenant, api_a: ApiClient
) -> None:
    doc = create(api_a)
    colleague = token_client(tenant_a.colleague)
    before = Document.objects.values().get(pk=doc["id"])
    response = colleague.patch(f"/documents/{doc['id']}", {"fields": {"subject": "x"}})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "forbidden"
    assert colleague.post(f"/documents/{doc['id']}/archive").status_code == 403
    assert Document.objects.values().get(pk=doc["id"]) == before


def test_patch_outside_draft_is_403(tenant_a: Tenant, api_a: ApiClient) -> None:
    doc = create(api_a)
    Document.objects.filter(pk=doc["id"]).update(
        status=StatusDef.objects.get(doc_type=tenant_a.contract, key="approved")
    )
    response = api_a.patch(f"/documents/{doc['id']}", {"fields": {"subject": "x"}})
    assert response.status_code == 403


def test_upload_list_versions_and_download(tenant_a: Tenant, api_a: ApiClient) -> None:
    doc = create(api_a)
    response = upload(
        api_a, doc["id"], "договор «1».pdf", MINIMAL_PDF, field_key="contract_file"
    )
    assert response.status_code == 201, response.content
    first = response.json()
    assert (first["version"], first["mime_type"], first["name"]) == (
        1,
        "application/pdf",
        "договор «1».pdf",
    )

    file_id = DocumentFile.objects.get(document_id=doc["id"]).pk
    second = upload(api_a, doc["id"], "v2.pdf", MINIMAL_PDF + b"%v2\n", file_id=file_id)
    assert second.status_code == 201
    assert second.json()["version"] == 2

    files = api_a.get(f"/documents/{doc['id']}/files")
    assert files.status_code == 200
    [listed] = files.json()
    assert listed["field_key"] == "contract_file"
    assert [v["version"] for v in listed["versions"]] == [2, 1]

    download = api_a.get(f"/files/{first['id']}/download", follow=True)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == MINIMAL_PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert "%D0%B4%D0%BE%D0%B3" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download["Cache-Control"] == "private, no-store"
    assert first["download_url"] == f"{API}/files/{first['id']}/download"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        (
            "invoice.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100,
            "file_type_not_accepted",
        ),
        ("notes.pdf", b"plain text, not a pdf", "file_type_mismatch"),
        (
            "page.pdf",
            b"<html><script>alert(1)</script></html>",
            "file_type_not_accepted",
        ),
    ],
)
def test_upload_rejections_name_the_file_field(
    api_a: ApiClient, name: str, data: bytes, code: str
) -> None:
    doc = create(api_a)
    response = upload(api_a, doc["id"], name, data)
    assert response.status_code == 422
    assert errors_by_field(response) == {"file": code}
    assert not FileVersion.objects.exists()


def test_upload_too_large(api_a: ApiClient, settings: Any) -> None:
    settings.SOGLA_MAX_UPLOAD_MB = 1
    doc = create(api_a)
    api_a.headers["Accept-Language"] = "en"
    response = upload(api_a, doc["id"], "big.pdf", MINIMAL_PDF + b"0" * (1024 * 1024))
    assert response.status_code == 422
    assert errors_by_field(response) == {"file": "file_too_large"}
    assert "1 MB" in response.json()["errors"][0]["message"]
    assert not FileVersion.objects.exists()


def test_upload_empty_and_missing(api_a: ApiClient) -> None:
    doc = create(api_a)
    empty = upload(api_a, doc["id"], "empty.pdf", b"")
    assert empty.status_code == 422
    assert set(errors_by_field(empty)) == {"file"}
    missing = api_a.client.post(
        f"{API}/documents/{doc['id']}/files", {}, headers=api_a.headers
    )
    assert missing.status_code == 422
    assert errors_by_field(missing) == {"file": "required"}
    assert not FileVersion.objects.exists()


def test_upload_unknown_field_and_file(api_a: ApiClient) -> None:
    doc = create(api_a)
    bad_key = upload(api_a, doc["id"], "a.pdf", MINIMAL_PDF, field_key="nope")
    assert bad_key.status_code == 422
    assert errors_by_field(bad_key) == {"nope": "unknown_field"}
    bad_file = upload(api_a, doc["id"], "a.pdf", MINIMAL_PDF, file_id=424242)
    assert bad_file.status_code == 422
    assert errors_by_field(bad_file) == {"file_id": "unknown_file"}
    assert not FileVersion.objects.exists()


def test_confidential_document_hidden_from_colleague(tenant_a: Tenant) -> None:
    """T29 over the API: the unrelated colleague gets 404; initiator and admin 200."""
    secret = DocumentTypeFactory(
        organisation=tenant_a.org, key="salary", confidential=True
    )
    add_field(secret, "subject")
    initiator = token_client(tenant_a.initiator)
    doc = initiator.post(
        "/documents", {"doc_type": "salary", "fields": {"subject": "x"}}
    ).json()
    version = upload(initiator, doc["id"], "a.pdf", MINIMAL_PDF).json()
    colleague = token_client(tenant_a.colleague)
    assert colleague.get(f"/documents/{doc['id']}").status_code == 404
    assert colleague.get(f"/documents/{doc['id']}/files").status_code == 404
    assert colleague.get(f"/files/{version['id']}/download").status_code == 404
    assert colleague.get("/documents").json()["total"] == 0
    admin = token_client(tenant_a.admin)
    assert admin.get(f"/documents/{doc['id']}").status_code == 200
    assert admin.get(f"/files/{version['id']}/download").status_code == 302


def test_unauthenticated_is_401(db: None) -> None:
    response = Client().get(f"{API}/documents")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"
