"""The guest page shows the discussion's messages marked for guests, never the
internal ones, with markup inert."""

from __future__ import annotations

from typing import Any

from django.test import Client

from sogla.discussion import services
from tests.conftest import Tenant
from tests.external.conftest import open_link, to_guest_stage


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
