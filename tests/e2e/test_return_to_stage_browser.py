"""Send back to a chosen earlier stage, on the card in a real browser (issue 11):
the CEO picks "Legal" and comments; a new round starts there, the lawyer has the
task again and the history says where the document went. Screenshots at 1280 and
360 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sogla.documents.services import document_create
from sogla.orgs.models import WorkingCalendar
from sogla.workflow.models import Process
from sogla.workflow.services import calendar_cache_clear
from tests.conftest import make_tenant
from tests.e2e.conftest import sideways
from tests.e2e.test_s1_approval import _sign_in
from tests.workflow.conftest import (
    META,
    approve,
    decide,
    open_task,
    person,
    publish,
    route,
    stage,
    start,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_ceo_sends_the_contract_back_to_legal(
    live_server: Any, browser: Any, shots: Path
) -> None:
    tenant = make_tenant("Alpha")
    WorkingCalendar.objects.get_or_create(organisation=tenant.org)
    calendar_cache_clear()
    lawyer = person(tenant, "lawyer", first_name="Pavel", last_name="Petrov")
    cfo = person(tenant, "cfo", first_name="Olga", last_name="Smirnova")
    ceo = person(tenant, "ceo", first_name="Oleg", last_name="Kozlov")
    for user in (lawyer, cfo, ceo, tenant.initiator):
        user.language = "en"
        user.save(update_fields=["language"])
    definition = route(
        stage("legal", approve("lawyer", {"user": lawyer.username}),
              name={"ru": "Юристы", "en": "Legal"}),
        stage("finance", approve("cfo", {"user": cfo.username}),
              name={"ru": "Финансы", "en": "Finance"}),
        stage("ceo", approve("ceo", {"user": ceo.username},
                             return_to=["legal", "finance"]),
              name={"ru": "Директор", "en": "CEO"}),
    )  # fmt: skip
    document = document_create(
        actor=tenant.initiator, doc_type=tenant.contract,
        values={"subject": "Equipment supply", "amount": "1250000"},
    )  # fmt: skip
    process = start(tenant, publish(tenant, definition), document)
    decide(lawyer, open_task(process, lawyer), meta=META)
    decide(cfo, open_task(process, cfo), meta=META)

    base = live_server.url
    card = f"{base}/documents/{document.pk}/"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, ceo)
    page.goto(card)
    page.check("input[name=outcome][value=return_to_stage]")
    options = page.locator("select[name=to_stage] option").all_inner_texts()
    assert options == ["Legal", "Finance"]
    page.select_option("select[name=to_stage]", "legal")
    page.fill("textarea[name=comment]", "Annex 2 is missing")
    page.screenshot(path=str(shots / "return-to-stage-decide-1280.png"), full_page=True)
    page.click("[data-decision-form] button[type=submit]")
    page.wait_for_selector(".decided-panel")

    process = Process.objects.get(pk=process.pk)
    assert (process.status, process.round, process.sent_back_to) == (
        "running", 2, "legal",
    )  # fmt: skip

    # the lawyer decides again; the history tells where the document went and why
    _sign_in(page, base, lawyer)
    page.goto(card)
    assert page.locator("input[name=outcome][value=approve]").count() == 1
    page.goto(card + "?tab=history")
    history = page.inner_text("main")
    assert "sent back to the stage «Legal» (round 2)" in history
    assert "Annex 2 is missing" in history
    page.screenshot(
        path=str(shots / "return-to-stage-history-1280.png"), full_page=True
    )
    context.close()

    phone = browser.new_context(viewport={"width": 360, "height": 800})
    page = phone.new_page()
    _sign_in(page, base, lawyer)
    page.goto(card)
    page.screenshot(path=str(shots / "return-to-stage-card-360.png"), full_page=True)
    assert sideways(page, ".map-stage") <= 0
    phone.close()
    assert errors == []
