"""The running route map in Chromium says which stages and steps will be skipped
unless their condition holds, in Russian and in English, at 360 and 1280 px
(issue 13, item 10); screenshots go to SOGLA_SHOTS_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sogla.workflow.services import process_start
from tests.workflow.conftest import approve, publish, route, stage
from tests.workflow.screens.conftest import Flow, draft, flow  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAID = {
    "en": "will be skipped unless “Amount” is greater than 2000000",
    "ru": "будет пропущен, если не «amount» больше 2000000",
}


def test_the_route_map_says_will_be_skipped_unless(
    live_server: Any,
    browser: Any,
    flow: Flow,  # noqa: F811
    shots: Path,
) -> None:
    template = publish(
        flow.tenant,
        route(
            stage("manager", approve("m", {"manager_of": "initiator"})),
            stage(
                "board",
                approve("ceo", {"user": flow.tenant.colleague.username}),
                when={"field": "amount", "op": "gt", "value": 2000000},
                name={"ru": "Правление", "en": "Board"},
            ),
            stage(
                "legal",
                approve("l", {"user": flow.tenant.colleague.username}),
                approve(
                    "big",
                    {"user": flow.tenant.colleague.username},
                    when={"field": "amount", "op": "gte", "value": 5000000},
                    name={"ru": "Крупная сделка", "en": "Large deal"},
                ),
                name={"ru": "Юристы", "en": "Legal"},
            ),
        ),
        key="conditional",
    )
    document = draft(flow.tenant)
    process_start(actor=flow.tenant.initiator, document=document, template=template)
    user = flow.tenant.initiator
    user.set_password("secret-pass-123")
    for language, said in SAID.items():
        user.language = language
        user.save()
        for width in (360, 1280):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", user.username)
            page.fill("#id_password", "secret-pass-123")
            page.click("button[type=submit]")
            page.goto(f"{live_server.url}/documents/{document.pk}/")
            route_map = page.locator("#route-map")
            route_map.scroll_into_view_if_needed()
            text = " ".join(route_map.inner_text().split())
            assert said in text
            overflow = page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth"
            )
            assert not overflow, (language, width)
            route_map.screenshot(path=str(shots / f"route-map-{language}-{width}.png"))
            page.close()
