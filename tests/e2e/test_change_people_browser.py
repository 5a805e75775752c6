"""Changing the people of a running round on the card, in Chromium (issue 11): the
route's owner adds an approver to the open step and takes the pending one off;
screenshots at 360 and 1280 px go to SOGLA_SHOTS_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sogla.core.models import AuditEvent
from sogla.workflow.models import Task, TaskState
from sogla.workflow.services import process_start
from tests.workflow.screens.conftest import Flow, draft, flow  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")


def test_the_owner_adds_an_approver_and_removes_one_mid_round(
    live_server: Any,
    browser: Any,
    flow: Flow,  # noqa: F811
    shots: Path,
) -> None:
    document = draft(flow.tenant)
    process = process_start(
        actor=flow.tenant.initiator, document=document, template=flow.template
    )
    admin = flow.tenant.admin  # the route's owner
    admin.set_password("secret-pass-123")
    admin.language = "en"
    admin.save()
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    control = page.locator("#people-manager\\.manager")
    control.locator("summary").click()
    control.get_by_label("Add a person").select_option(str(flow.lawyer.pk))
    control.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_load_state()
    assert "was added to the step" in page.locator("body").inner_text()
    step = page.locator("#route-map .map-stage").first
    assert "Petrov" in step.inner_text()
    assert Task.objects.get(process=process, assignee=flow.lawyer).state == "open"

    control = page.locator("#people-manager\\.manager")
    control.locator("summary").click()
    page.locator("#route-map").screenshot(path=str(shots / "change-people-1280.png"))
    head = control.locator(f"[data-pending='{flow.head.pk}']")
    head.get_by_role("button", name="Remove").click()
    page.wait_for_load_state()
    assert "was taken off the step" in page.locator("body").inner_text()
    removed = Task.objects.get(process=process, assignee=flow.head)
    assert removed.state == TaskState.CANCELLED
    assert removed.closed_reason == "removed"
    assert AuditEvent.objects.filter(verb="process.participants_changed").count() == 2

    # removing the last pending person of the step is refused, in words
    control = page.locator("#people-manager\\.manager")
    control.locator("summary").click()
    lawyer = control.locator(f"[data-pending='{flow.lawyer.pk}']")
    lawyer.get_by_role("button", name="Remove").click()
    page.wait_for_load_state()
    control = page.locator("#people-manager\\.manager")
    assert "could never be completed" in control.inner_text()
    assert "Taken off the step" in page.locator("#route-map").inner_text()
    page.locator("#route-map").screenshot(
        path=str(shots / "change-people-refused-1280.png")
    )
    page.close()

    phone = browser.new_page(viewport={"width": 360, "height": 900})
    sign_in(phone, live_server.url, admin.username)
    phone.goto(f"{live_server.url}/documents/{document.pk}/")
    control = phone.locator("#people-manager\\.manager")
    control.locator("summary").click()
    assert not phone.evaluate(
        "document.documentElement.scrollWidth > window.innerWidth"
    )
    phone.locator("#route-map").screenshot(path=str(shots / "change-people-360.png"))
    phone.close()


def test_the_card_says_a_person_named_twice_is_asked_once(
    live_server: Any,
    browser: Any,
    flow: Flow,  # noqa: F811
    shots: Path,
) -> None:
    from sogla.workflow import services
    from tests.workflow.conftest import approve, decide, publish, route, stage

    lawyer = {"user": flow.lawyer.username}
    ceo = {"user": flow.ceo.username}
    template = publish(
        flow.tenant,
        route(
            stage("legal", approve("l", lawyer), name={"ru": "Юрист", "en": "Legal"}),
            stage(
                "checks",
                approve("again", lawyer, name={"ru": "Договор", "en": "Contract"}),
                approve("risk", ceo, name={"ru": "Риски", "en": "Risks"}),
                approve("budget", ceo, name={"ru": "Бюджет", "en": "Budget"}),
                name={"ru": "Проверки", "en": "Checks"},
            ),
        ),
        key="twice",
        owner=flow.tenant.admin,
    )
    document = draft(flow.tenant)
    process = services.process_start(
        actor=flow.tenant.initiator, document=document, template=template
    )
    decide(flow.lawyer, Task.objects.get(process=process, assignee=flow.lawyer))
    # Checks: the Legal approval carries to "again"; the CEO has one task for two steps
    assert not Task.objects.filter(process=process, assignee=flow.lawyer, state="open")
    assert Task.objects.filter(process=process, assignee=flow.ceo).count() == 1
    user = flow.tenant.initiator
    user.set_password("secret-pass-123")
    for language, said in (
        ("ru", ("Уже согласовал(а) на этапе «Юрист»", "спрашивают один раз")),
        ("en", ("Already approved at stage «Legal»", "is asked once")),
    ):
        user.language = language
        user.save()
        for width in (360, 1280):
            page = browser.new_page(viewport={"width": width, "height": 1000})
            sign_in(page, live_server.url, user.username)
            page.goto(f"{live_server.url}/documents/{document.pk}/")
            route_map = page.locator("#route-map")
            text = " ".join(route_map.inner_text().split())
            assert said[0] in text
            assert said[1] in text
            assert not page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth"
            )
            route_map.screenshot(path=str(shots / f"merged-{language}-{width}.png"))
            page.close()
    decide(flow.ceo, Task.objects.get(process=process, assignee=flow.ceo))
    process.refresh_from_db()
    assert process.status == "approved"  # one decision finished both steps
