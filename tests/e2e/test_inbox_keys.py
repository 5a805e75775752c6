"""Inbox triage with the keyboard, and a bulk acknowledgement, in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from sogla.workflow.models import Task, TaskState
from tests.conftest import make_tenant
from tests.e2e.test_s1_approval import _sign_in
from tests.workflow.conftest import person, publish, route, stage, start
from tests.workflow.screens.conftest import draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_j_k_x_select_and_acknowledge_two_documents(
    live_server: Any, browser: Any
) -> None:
    tenant = make_tenant("Alpha")
    reader = person(tenant, "reader", language="en")
    reader.set_password("secret-pass-123")
    reader.save()
    ack = {"key": "a", "kind": "acknowledge", "assignee": {"user": reader.username}}
    template = publish(tenant, route(stage("s", ack)), key="ack")
    for index in range(3):
        start(tenant, template, draft(tenant, f"Order {index}"))
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, reader)

    page.keyboard.press("j")
    page.keyboard.press("x")  # the first row
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("x")  # the second row
    assert page.locator("tr.inbox-row.is-current").count() == 1
    assert page.locator("input[data-bulk]:checked").count() == 2
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "inbox-q"
    page.keyboard.press("x")  # typed into the search box, not a shortcut
    assert page.input_value("#inbox-q") == "x"
    page.fill("#inbox-q", "")

    page.click("button[name=outcome][value=acknowledge]")
    page.wait_for_selector("text=Acknowledge several documents")
    assert page.locator("li.list-group-item").count() == 2
    assert page.locator("text=contract.pdf").count() == 2
    page.click("button:has-text('Acknowledge these documents')")
    page.wait_for_selector("text=Back to my tasks")
    assert page.locator("text=Acknowledged").count() == 2
    assert Task.objects.filter(outcome="acknowledge").count() == 2
    assert Task.objects.filter(state=TaskState.OPEN).count() == 1

    # Shortcuts can be switched off (and stay off in this browser).
    page.goto(f"{base}/inbox/")
    page.click("[data-keys-toggle]")
    page.keyboard.press("j")
    assert page.locator("tr.inbox-row.is-current").count() == 0
    page.reload()
    page.keyboard.press("j")
    assert page.locator("tr.inbox-row.is-current").count() == 0
    assert errors == []
    context.close()
