"""The route builder's "While a round runs" settings in Chromium (issue 11): the
duplicates rule and whether the initiator may change people mid-round are saved in
the definition; screenshots go to SOGLA_SHOTS_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sogla.workflow.models import RouteVersion
from sogla.workflow.services import route_builder as commands
from tests.e2e.test_route_builder_browser import _setup, _sign_in, _watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_route_settings_keep_duplicates_and_the_initiators_edits(
    live_server: Any, browser: Any, shots: Path
) -> None:
    from sogla.workflow.services import route_template_create

    tenant = _setup()
    template = route_template_create(
        actor=tenant.admin, doc_type=tenant.contract, key="twice", name_ru="Дважды"
    )
    definition = {
        "key": "twice",
        "stages": [
            {"key": "a", "steps": [{"key": "a", "assignee": {"initiator": True}}]}
        ],
    }
    commands.route_builder_save(
        actor=tenant.admin, template=template, definition=definition, base="p0"
    )
    page = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
    errors = _watch(page)
    _sign_in(page, live_server.url, tenant.admin.username)
    page.goto(f"{live_server.url}/settings/routes/{template.pk}/")
    page.click("#rb-route-settings")
    block = page.locator("#rb-running-round")
    assert block.locator("select[name=duplicates]").input_value() == "merge"
    block.locator("select[name=duplicates]").select_option("keep")
    block.locator("input[name=may_edit_running]").check()
    block.screenshot(path=str(shots / "builder-running-round-1280.png"))
    page.screenshot(path=str(shots / "builder-route-settings-1280.png"))
    page.click("#rb-drawer-apply")
    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")
    saved = RouteVersion.objects.get(template=template).definition
    assert saved["duplicates"] == "keep"
    assert saved["initiator_may_edit_running"] is True
    page.click("#rb-route-settings")
    block = page.locator("#rb-running-round")
    block.locator("select[name=duplicates]").select_option("merge")
    block.locator("input[name=may_edit_running]").uncheck()
    page.click("#rb-drawer-apply")
    page.click("#rb-save")
    for _ in range(100):  # "Saved" is on the page already: wait for the row
        saved = RouteVersion.objects.get(template=template).definition
        if "duplicates" not in saved:
            break
        page.wait_for_timeout(100)
    assert "duplicates" not in saved  # the default is not written
    assert "initiator_may_edit_running" not in saved
    assert errors == []
