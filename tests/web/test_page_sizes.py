"""UI.md's HTML budgets in bytes (not time): the inbox with fifty rows in 40 KB, any
page in 60 KB, on bench/harness's organisation at a small size (Russian titles,
counterparties and routes of up to seven stages, fifty open tasks of the measured
user, a registry page of fifty documents)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
KB = 1024

pytestmark = pytest.mark.django_db


@pytest.fixture
def built() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from harness import org  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return org.build(documents=300, users=60, open_tasks=120, mine=50)


def test_pages_stay_within_their_html_budgets(built: Any) -> None:
    client = Client()
    client.force_login(built.measured)
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200
    assert inbox.content.count(b'<tr class="inbox-row"') == 50
    assert len(inbox.content) <= 40 * KB, len(inbox.content)
    registry = client.get("/documents/")
    assert registry.status_code == 200
    assert registry.content.count(b"<tr><td>") == 50
    assert len(registry.content) <= 60 * KB, len(registry.content)
    card = client.get(f"/documents/{built.card_id}/")
    assert card.status_code == 200
    assert len(card.content) <= 60 * KB, len(card.content)
