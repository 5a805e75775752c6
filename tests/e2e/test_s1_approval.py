"""S1 in a real browser: start a contract approval, approve as two people, return it,
upload a new version, resubmit and finish; screenshots at 1280 and 360 px, en and ru."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sogla.documents.models import Document
from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import User, WorkingCalendar
from sogla.workflow.models import Process, Task
from sogla.workflow.services import calendar_cache_clear
from tests.conftest import MINIMAL_PDF, Tenant, make_tenant
from tests.e2e.conftest import sideways
from tests.workflow.conftest import person, publish
from tests.workflow.screens.conftest import contract_route

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, user: User) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/")


def _world() -> tuple[Tenant, dict[str, User], Document]:
    tenant = make_tenant("Alpha")
    WorkingCalendar.objects.get_or_create(organisation=tenant.org)
    calendar_cache_clear()
    head = User.objects.get(username="alpha-head")
    head.first_name, head.last_name = "Anna", "Sidorova"
    head.save()
    tenant.initiator.manager = head
    tenant.initiator.first_name, tenant.initiator.last_name = "Ivan", "Ivanov"
    tenant.initiator.save()
    people = {
        "initiator": tenant.initiator,
        "head": head,
        "lawyer": person(tenant, "lawyer", first_name="Pavel", last_name="Petrov"),
        "ceo": person(tenant, "ceo", first_name="Oleg", last_name="Kozlov"),
    }
    publish(tenant, contract_route(), owner=tenant.admin)
    document = document_create(
        actor=tenant.initiator,
        doc_type=tenant.contract,
        values={"subject": "Equipment supply", "amount": "1250000"},
        files=[
            NewFile(
                bytes_upload("contract_file", "contract.pdf", MINIMAL_PDF),
                "contract_file",
            )
        ],
    )
    return tenant, people, document


def _shoot(
    browser: Any, base: str, shots: Path, user: User, path: str, name: str
) -> None:
    """The page at 1280 and 360 px in English and Russian; no sideways scroll."""
    original = user.language
    for language in ("en", "ru"):
        user.language = language
        user.save(update_fields=["language"])
        for width in (1280, 360):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            _sign_in(page, base, user)
            page.goto(base + path)
            page.screenshot(
                path=str(shots / f"s1-{name}-{width}-{language}.png"), full_page=True
            )
            assert page.get_attribute("html", "lang") == language
            assert sideways(page, ".map-stage") <= 0, (name, width, language)
            context.close()
    user.language = original
    user.save(update_fields=["language"])


def _decide(page: Any, outcome: str, comment: str = "") -> None:
    page.check(f"input[name=outcome][value={outcome}]")
    if comment:
        page.fill("textarea[name=comment]", comment)
    page.click("[data-decision-form] button[type=submit]")
    page.wait_for_selector(".decided-panel")


def test_s1_contract_approval_round_trip(
    live_server: Any, browser: Any, shots: Path
) -> None:
    _tenant, people, document = _world()
    for user in people.values():
        user.language = "en"
        user.save(update_fields=["language"])
    base = live_server.url
    card = f"/documents/{document.pk}/"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )

    # The initiator sees who will approve, in order, and sends it.
    _sign_in(page, base, people["initiator"])
    page.goto(base + card)
    preview = page.locator("#route-preview").inner_text()
    assert preview.index("Sidorova A.") < preview.index("Petrov P.")
    assert preview.index("Petrov P.") < preview.index("Kozlov O.")
    _shoot(browser, base, shots, people["initiator"], card, "start")
    page.click("#start-approval button[type=submit]")
    page.wait_for_selector("#route-map")
    assert f"Sent: {document.number}" in page.inner_text("main")
    assert "Sidorova A." in page.inner_text("#holder")

    # The manager: the task in the inbox, the counter, approve.
    _sign_in(page, base, people["head"])
    assert page.get_attribute("#nav-counters", "href") == "/inbox/"
    assert "My tasks: 1" in page.inner_text("#nav-counters")
    _shoot(browser, base, shots, people["head"], "/inbox/", "inbox")
    page.click(f"a.doc-number:has-text('{document.number}') >> nth=0")
    page.wait_for_url(re.compile(rf".*/documents/{document.pk}/$"))
    _shoot(browser, base, shots, people["head"], card, "decide")
    _decide(page, "approve")
    assert "You decided on" in page.inner_text(".decided-panel")

    # The lawyer returns it; the comment is required first.
    _sign_in(page, base, people["lawyer"])
    page.goto(base + card)
    page.check("input[name=outcome][value=return]")
    assert page.inner_text("[data-decision-form] button[type=submit]") == (
        "Return for revision"
    )
    page.click("[data-decision-form] button[type=submit]")
    page.wait_for_selector("[id^=comment-error-]")
    assert "comment" in page.inner_text("[id^=comment-error-]").lower()
    _decide(page, "return", "Clarify the penalty clause")
    assert Process.objects.get(document=document).status == "revision"

    # The initiator: the banner, a new version of the file, resubmit.
    _sign_in(page, base, people["initiator"])
    page.goto(base + card)
    assert "Clarify the penalty clause" in page.inner_text("#holder")
    _shoot(browser, base, shots, people["initiator"], card, "returned")
    page.goto(base + card + "?tab=files")
    page.set_input_files(
        "input[type=file][name=file] >> nth=0",
        files=[
            {
                "name": "contract-v2.pdf",
                "mimeType": "application/pdf",
                "buffer": MINIMAL_PDF + b"%v2\n",
            }
        ],
    )
    page.click("button:has-text('Upload new version')")
    page.wait_for_selector("text=v2 (current)")
    page.fill("#resubmit-comment", "Penalty clause clarified")
    page.click("#resubmit button[type=submit]")
    page.wait_for_selector("text=Sent again: round 2")

    # Round 2 asks everyone again (reask: all), on version 2.
    for key in ("head", "lawyer", "ceo"):
        _sign_in(page, base, people[key])
        page.goto(base + card)
        assert "Decision on version v2" in page.inner_text(".decision-panel")
        if key == "ceo":
            # Reject without the required comment says so first, without asking
            # "reject?" (nothing is sent).
            page.check("input[name=outcome][value=reject]")
            page.click("[data-decision-form] button[type=submit]")
            page.wait_for_selector("textarea[name=comment].is-invalid")
            assert page.locator("dialog[open]").count() == 0
            assert "A comment is required for this decision." in page.inner_text(
                ".decision-panel"
            )
            # With the comment, reject opens the confirmation dialog; cancel it and
            # approve instead.
            page.fill("textarea[name=comment]", "No")
            page.click("[data-decision-form] button[type=submit]")
            page.wait_for_selector("dialog[open]")
            page.click("dialog[open] [data-dialog-cancel]")
            assert (
                Task.objects.filter(
                    process__document=document, outcome="reject"
                ).count()
                == 0
            )
            page.fill("textarea[name=comment]", "")
        _decide(page, "approve")
    process = Process.objects.get(document=document)
    assert process.status == "approved"
    assert process.round == 2

    _sign_in(page, base, people["initiator"])
    page.goto(base + card)
    assert "Approved on" in page.inner_text("#holder")
    _shoot(browser, base, shots, people["initiator"], card, "approved")
    _shoot(browser, base, shots, people["initiator"], card + "?round=1", "round1")
    _shoot(browser, base, shots, people["initiator"], card + "?tab=history", "history")
    _shoot(browser, base, shots, people["initiator"], "/documents/", "registry")
    assert errors == []
    context.close()
