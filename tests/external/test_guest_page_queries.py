"""The guest page's queries do not grow with its files (UI.md screen 7: ≤10 queries
for a plain approval, the viewer included)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.documents.test_previews import build_all
from tests.external.conftest import open_link
from tests.external.test_guest_viewer import _guest_with_a_pdf

pytestmark = pytest.mark.django_db


def test_guest_page_with_the_viewer_stays_within_ten_queries(tenant_a, staff) -> None:
    _own, token = _guest_with_a_pdf(tenant_a, staff)
    build_all()
    client = Client()
    open_link(client, token)
    client.get("/g/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/g/")
    assert page.status_code == 200
    assert len(queries) <= 10
    print(f"Guest page with the viewer: {len(queries)} queries")
