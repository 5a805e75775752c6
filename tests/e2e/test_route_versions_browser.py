"""A published route edited into v2 in Chromium while a v1 process runs: the publish
dialog says the running process continues on v1, and it does, to its end, while a
new document follows v2."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.orgs.models import User
from sogla.workflow.models import ProcessStatus, RouteVersion
from sogla.workflow.services import route_builder as commands
from sogla.workflow.services import route_template_create
from tests.e2e.test_route_builder_browser import SHOTS, _setup, _sign_in, _watch
from tests.workflow.conftest import (
    approve,
    decide,
    make_document,
    open_task,
    route,
    stage,
    start,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_v2_published_while_a_v1_process_runs_which_finishes_on_v1(
    live_server: Any, browser: Any
) -> None:
    tenant = _setup()
    template = route_template_create(
        actor=tenant.admin,
        doc_type=tenant.contract,
        key="versions",
        name_ru="Версии",
        name_en="Versions",
    )
    v1 = commands.route_builder_publish(
        actor=tenant.admin,
        template=template,
        definition=route(
            stage("manager", approve("m", {"manager_of": "initiator"})),
            stage("checks", approve("c", {"user": tenant.colleague.username})),
        ),
        base="p0",
    )
    running = start(tenant, template, make_document(tenant))

    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, base, tenant.admin.username)
    page.goto(f"{base}/settings/routes/{template.pk}/")
    page.wait_for_selector("#rb-step-1-0")
    assert "(1 running)" in page.inner_text("main")
    # v2: the second stage's step is renamed and a third stage is added.
    page.click("#rb-step-1-0")
    page.fill("#rb-drawer input[name=name_en]", "Final check")
    page.click("#rb-drawer-apply")
    page.click("#rb-add-stage")
    page.click("[data-add-step='2']")
    page.select_option("#rb-drawer select[name=assignee_kind]", "initiator")
    page.fill("#rb-drawer input[name=name_en]", "Initiator confirms")
    page.click("#rb-drawer-apply")
    page.click("#rb-publish")
    page.wait_for_selector("#rb-publish-confirm:has-text('Publish v2')")
    dialog = page.inner_text("#rb-publish-body")
    assert "Running processes (1) continue on v1." in dialog
    assert "added" in dialog.lower()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "publish-v2-while-v1-runs-1280.png"))
    page.click("#rb-publish-confirm")
    page.wait_for_selector("#rb-alert.alert-success")
    v2 = RouteVersion.objects.get(template=template, number=2)
    assert v2.status == "published"
    assert len(v2.definition["stages"]) == 3
    context.close()
    assert errors == []

    # The v1 process runs on: two stages, no third, approved on v1.
    head = User.objects.get(username="alpha-head")
    decide(head, open_task(running, head))
    decide(tenant.colleague, open_task(running, tenant.colleague))
    running.refresh_from_db()
    assert running.route_version_id == v1.pk
    assert running.status == ProcessStatus.APPROVED
    # A document started now follows v2, to its third stage.
    later = start(tenant, template, make_document(tenant))
    assert later.route_version_id == v2.pk
    decide(head, open_task(later, head))
    decide(tenant.colleague, open_task(later, tenant.colleague))
    later.refresh_from_db()
    assert later.status == ProcessStatus.RUNNING
    # The third stage (v2 only) asks the initiator.
    assert open_task(later, tenant.initiator).process_id == later.pk
