"""Authentication (token, session + CSRF), /me, personal tokens, the OpenAPI schema."""

from __future__ import annotations

import json
import re

from django.test import Client
from django.utils import timezone

from sogla.documents.models import Document
from sogla.orgs.models import ApiToken
from sogla.orgs.tokens import api_token_create
from tests.api.conftest import API, ApiClient, errors_by_field, session_client
from tests.conftest import Tenant
from tests.factories import RoleFactory


def test_me(tenant_a: Tenant, api_a: ApiClient) -> None:
    role = RoleFactory(organisation=tenant_a.org, key="lawyer", name_en="Lawyer")
    role.members.add(tenant_a.initiator)
    response = api_a.get("/me", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == tenant_a.initiator.pk
    assert body["organisation"]["slug"] == tenant_a.org.slug
    assert body["department"] == {"id": tenant_a.department.pk, "name": "Sales"}
    assert body["roles"] == [{"key": "lawyer", "name": "Lawyer"}]
    assert body["is_org_admin"] is False
    assert "password" not in body
    assert token_client_admin_flag(tenant_a) is True


def token_client_admin_flag(tenant: Tenant) -> bool:
    _token, raw = api_token_create(actor=tenant.admin, name="t")
    response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})
    return bool(response.json()["is_org_admin"])


def test_token_lifecycle(tenant_a: Tenant) -> None:
    api = session_client(tenant_a.initiator)
    created = api.post("/me/tokens", {"name": "CI"})
    assert created.status_code == 201
    body = created.json()
    raw = body["token"]
    assert raw.startswith("sgl_")
    assert body["prefix"] == raw[:12]

    listed = api.get("/me/tokens").json()
    assert [t["name"] for t in listed] == ["CI"]
    assert "token" not in listed[0]
    assert "token_hash" not in listed[0]

    bearer = {"Authorization": f"Bearer {raw}"}
    assert Client().get(f"{API}/me", headers=bearer).status_code == 200

    revoked = api.delete(f"/me/tokens/{body['id']}")
    assert revoked.status_code == 204
    refused = Client().get(f"{API}/me", headers=bearer)
    assert refused.status_code == 401
    assert errors_by_field(refused) == {"": "not_authenticated"}
    assert api.delete(f"/me/tokens/{body['id']}").status_code == 404


def test_wrong_and_malformed_tokens_are_401(tenant_a: Tenant) -> None:
    for header in ["Bearer sgl_wrong", "Bearer nothing", "Basic abc", "Bearer "]:
        response = Client().get(f"{API}/documents", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_bad_token_is_401_even_with_a_session(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(tenant_a.initiator)
    response = client.get(f"{API}/me", headers={"Authorization": "Bearer sgl_wrong"})
    assert response.status_code == 401


def test_inactive_user_token_is_401(tenant_a: Tenant) -> None:
    _token, raw = api_token_create(actor=tenant_a.initiator, name="t")
    tenant_a.initiator.is_active = False
    tenant_a.initiator.save()
    response = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_cannot_revoke_someone_elses_token(tenant_a: Tenant) -> None:
    token, _raw = api_token_create(actor=tenant_a.colleague, name="theirs")
    api = session_client(tenant_a.initiator)
    assert api.delete(f"/me/tokens/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_name_required(tenant_a: Tenant) -> None:
    api = session_client(tenant_a.initiator)
    response = api.post("/me/tokens", {"name": "  "})
    assert response.status_code == 422
    assert errors_by_field(response) == {"name": "required"}
    assert not ApiToken.objects.exists()


def test_session_unsafe_methods_need_csrf(tenant_a: Tenant) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.initiator)
    body = json.dumps(
        {"doc_type": "contract", "fields": {"subject": "x", "amount": "1"}}
    )
    refused = client.post(f"{API}/documents", body, content_type="application/json")
    assert refused.status_code == 403
    assert errors_by_field(refused) == {"": "csrf_failed"}
    assert not Document.objects.exists()

    assert client.get(f"{API}/me").status_code == 200  # safe methods pass
    csrf = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    if csrf is None:
        client.get("/api/v1/docs")  # sets the CSRF cookie
        csrf = client.cookies["csrftoken"].value
    accepted = client.post(
        f"{API}/documents",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 201


def test_token_requests_need_no_csrf(tenant_a: Tenant) -> None:
    _token, raw = api_token_create(actor=tenant_a.initiator, name="t")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/documents",
        json.dumps({"doc_type": "contract", "fields": {"subject": "x", "amount": "1"}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201


def test_token_last_used_is_recorded(tenant_a: Tenant) -> None:
    token, raw = api_token_create(actor=tenant_a.initiator, name="t")
    before = timezone.now()
    Client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"})
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before


EXPECTED_OPERATIONS = {
    "me_get",
    "me_tokens_list",
    "me_token_create",
    "me_token_revoke",
    "document_types_list",
    "document_type_get",
    "documents_list",
    "document_create",
    "document_get",
    "document_update",
    "document_archive",
    "document_files_list",
    "document_file_upload",
    "file_download",
    "counterparties_list",
    "counterparty_create",
    "counterparty_get",
    "counterparty_update",
}


def test_openapi_lists_every_operation_with_its_errors(db: None) -> None:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    schema = json.loads(response.content, object_pairs_hook=no_duplicates)
    download = schema["paths"]["/api/v1/files/{version_id}/download"]["get"]
    assert "Location" in download["responses"]["302"]["headers"]
    operations = {
        op["operationId"]: op
        for path in schema["paths"].values()
        for op in path.values()
    }
    assert set(operations) >= EXPECTED_OPERATIONS
    for op_id, op in operations.items():
        assert {"401", "403", "404", "422"} <= set(op["responses"]), op_id
        error_schema = op["responses"]["422"]["content"]["application/json"]["schema"]
        assert error_schema == {"$ref": "#/components/schemas/ErrorsOut"}
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    names = set(schema["components"]["schemas"])
    assert {"DocumentIn", "DocumentOut", "CounterpartyIn", "CounterpartyOut"} <= names


def test_docs_page_uses_local_assets_without_inline_script(db: None) -> None:
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    # every asset is ours: no URL of another host (the page's random CSRF token may
    # spell "cdn", so the URLs are what is checked, not the whole text)
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert urls
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    assert not [u for u in urls if "cdn" in u.lower()]
    # The only inline <script> is JSON data, which the CSP does not execute.
    assert html.count("<script") == 3
    assert 'type="application/json"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
