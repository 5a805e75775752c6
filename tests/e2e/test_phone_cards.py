"""On a phone, tapping a task card in the inbox opens that document, not another one."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.core.text import without_number
from sogla.workflow.services import process_start
from tests.workflow.screens.conftest import Flow, draft, flow  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tapping_an_inbox_card_opens_its_document(
    live_server: Any,
    browser: Any,
    flow: Flow,  # noqa: F811
) -> None:
    documents = [draft(flow.tenant, f"Subject {n}") for n in range(3)]
    for document in documents:
        process_start(
            actor=flow.tenant.initiator, document=document, template=flow.template
        )
    flow.head.set_password("secret-pass-123")
    flow.head.save()
    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", flow.head.username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/inbox/")
    # one markup for every width: on a phone each table row is laid out as a card
    assert page.locator(".inbox-table thead").is_hidden()
    cards = page.locator("tr.inbox-row:visible")
    assert cards.count() == 3
    for index in (0, 2):
        # a card, not a table row
        assert cards.nth(index).evaluate("e => getComputedStyle(e).display") == "flex"
        title = cards.nth(index).locator(".inbox-title").inner_text()
        # the card shows the title beside the number, the number said once
        expected = next(
            d for d in documents if without_number(d.title, d.number) == title
        )
        # a tap on the title: the card's number link covers the whole card
        title_box = cards.nth(index).locator(".inbox-title")
        title_box.scroll_into_view_if_needed()
        spot = title_box.bounding_box()
        assert spot is not None
        page.mouse.click(spot["x"] + spot["width"] / 2, spot["y"] + spot["height"] / 2)
        page.wait_for_url(f"{live_server.url}/documents/{expected.pk}/")
        page.go_back()
    page.close()
