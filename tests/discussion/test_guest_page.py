"""The guest page shows the discussion's messages marked for guests, never the
internal ones, with markup inert, and their attachments through the guest's
session only."""

from __future__ import annotations

from typing import Any

from django.test import Client

from sogla.discussion import services
from sogla.discussion.models import MessageFile
from sogla.documents.uploads import bytes_upload
from tests.conftest import MINIMAL_PDF, Tenant
from tests.external.conftest import open_link, to_guest_stage
from tests.workflow.conftest import make_document


def test_guest_sees_only_messages_for_guests(
    tenant_a: Tenant, staff: dict[str, Any]
) -> None:
    process, _task, token = to_guest_stage(tenant_a, staff)
    document = process.document
    services.message_post(
        actor=tenant_a.initiator, document=document, text="INTERNAL-ONLY note"
    )
    services.message_post(
        actor=tenant_a.initiator,
        document=document,
        text="**Dear partner**, see p. 3 <script>alert(1)</script>",
        for_guests=True,
    )
    client = Client()
    open_link(client, token)
    html = client.get("/g/").content.decode()
    assert "<strong>Dear partner</strong>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "INTERNAL-ONLY" not in html


def _with_file(
    tenant: Tenant, document: Any, name: str, content: bytes, **extra: Any
) -> MessageFile:
    message = services.message_post(
        actor=tenant.initiator,
        document=document,
        text=f"About {name}",
        files=[bytes_upload("files", name, content)],
        **extra,
    )
    return message.files.get()


def test_guest_gets_the_attachments_of_messages_for_guests_only(
    tenant_a: Tenant, tenant_b: Tenant, staff: dict[str, Any]
) -> None:
    process, _task, token = to_guest_stage(tenant_a, staff)
    document = process.document
    offer = _with_file(
        tenant_a, document, "offer.pdf", MINIMAL_PDF + b"%offer", for_guests=True
    )
    internal = _with_file(tenant_a, document, "internal.pdf", MINIMAL_PDF + b"%int")
    gone = _with_file(
        tenant_a, document, "gone.pdf", MINIMAL_PDF + b"%gone", for_guests=True
    )
    services.message_delete(
        actor=tenant_a.initiator, document=document, message_id=gone.message_id
    )
    elsewhere = _with_file(
        tenant_a,
        make_document(tenant_a),
        "elsewhere.pdf",
        MINIMAL_PDF + b"%else",
        for_guests=True,
    )
    foreign = _with_file(
        tenant_b,
        make_document(tenant_b),
        "foreign.pdf",
        MINIMAL_PDF + b"%foreign",
        for_guests=True,
    )
    client = Client()
    open_link(client, token)
    html = client.get("/g/").content.decode()
    assert f'href="/g/attachments/{offer.pk}/"' in html
    assert "offer.pdf" in html
    assert "internal.pdf" not in html
    assert "gone.pdf" not in html

    served = client.get(f"/g/attachments/{offer.pk}/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == MINIMAL_PDF + b"%offer"  # type: ignore[attr-defined]
    assert served["Content-Disposition"].startswith("attachment")
    assert served["Cache-Control"] == "no-store"
    for other in (internal, gone, elsewhere, foreign):
        assert client.get(f"/g/attachments/{other.pk}/").status_code == 404
    # only through the guest's session
    assert Client().get(f"/g/attachments/{offer.pk}/").status_code == 401
