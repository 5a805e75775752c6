"""Overdue tasks turn red by themselves: the worker fires the deadline while the
card, the inbox and the bell are open, and the pages update without a reload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sogla.workflow.models import Process
from sogla.workflow.services import timers_fire_due
from tests.e2e.test_s1_approval import _sign_in, _world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# An overdue task is a row of the inbox's "overdue" group (main.css draws its chip).
OVERDUE_ROWS = "#inbox-results .inbox-group-overdue .inbox-row"


def _wake(page: Any) -> None:
    """What a tab does when it becomes visible again: refresh its live parts now
    (instead of waiting the 30 or 60 seconds of the timer)."""
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")


def test_the_card_inbox_and_bell_turn_red_without_a_reload(
    live_server: Any, browser: Any
) -> None:
    _tenant, people, document = _world()
    head = people["head"]
    head.language = "en"
    head.save(update_fields=["language"])
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    _sign_in(page, base, people["initiator"])
    page.goto(f"{base}/documents/{document.pk}/")
    page.click("#start-approval button[type=submit]")
    page.wait_for_selector("#route-map")
    process = Process.objects.get(document=document)

    _sign_in(page, base, head)
    page.goto(f"{base}/documents/{document.pk}/")
    assert (
        page.locator("#route-live .is-overdue, #route-live .text-danger").count() == 0
    )
    marker = page.evaluate("window.__kept = 'same page'")
    assert marker == "same page"
    bell_before = page.inner_text("#nav-bell")
    inbox = context.new_page()
    inbox.goto(f"{base}/inbox/")
    assert inbox.locator(OVERDUE_ROWS).count() == 0
    inbox.evaluate("window.__kept = 'inbox'")

    # The deadline passes; the worker fires it.
    fired = timers_fire_due(now=timezone.now() + timedelta(days=30))
    assert fired >= 1
    assert process.tasks.get(assignee=head).overdue

    _wake(page)
    page.wait_for_selector("#holder.is-overdue")
    assert "Overdue" in page.inner_text("#route-live")
    assert page.evaluate("window.__kept") == "same page"  # no reload happened
    assert page.inner_text("#nav-bell") != bell_before  # the overdue notice arrived

    _wake(inbox)
    inbox.wait_for_selector(OVERDUE_ROWS)
    assert "1" in inbox.inner_text("#nav-counters .nav-overdue")
    assert inbox.evaluate("window.__kept") == "inbox"
    assert errors == []
    context.close()
