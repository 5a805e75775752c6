"""API clients create a draft first and upload files after; approval waits for them."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from sogla.documents.models import FieldDef
from tests.api.conftest import API
from tests.conftest import MINIMAL_PDF
from tests.workflow.api.conftest import Flow


def test_a_draft_without_its_required_file_is_sent_only_after_the_upload(
    flow: Flow,
) -> None:
    FieldDef.objects.filter(doc_type=flow.tenant.contract, key="contract_file").update(
        required=True
    )
    created = flow.initiator.post(
        "/documents",
        {"doc_type": "contract", "fields": {"subject": "x", "amount": "1"}},
    )
    assert created.status_code == 201, created.json()
    document_id = created.json()["id"]

    refused = flow.initiator.post(
        f"/documents/{document_id}/process", {"route": flow.template.key}
    )
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("contract_file", "required")
    ]

    uploaded = flow.initiator.client.post(
        f"{API}/documents/{document_id}/files",
        {
            "file": SimpleUploadedFile("c.pdf", MINIMAL_PDF),
            "field_key": "contract_file",
        },
        headers=flow.initiator.headers,
    )
    assert uploaded.status_code == 201, uploaded.json()
    started = flow.initiator.post(
        f"/documents/{document_id}/process", {"route": flow.template.key}
    )
    assert started.status_code == 201, started.json()
