"""Re-approval after a corrected version in a real browser: the lawyer returns the
contract, the initiator uploads v2 and resubmits choosing "ask only those who had
not approved"; the head's approval of v1 carries over with «approved v1; v2
differs» and a link to the comparison, and the head withdraws it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sogla.documents.services import NewFile, document_create
from sogla.documents.uploads import bytes_upload
from sogla.orgs.models import User, WorkingCalendar
from sogla.workflow import services
from sogla.workflow.models import Process, Task, TaskState
from sogla.workflow.services import calendar_cache_clear
from tests.conftest import MINIMAL_PDF, make_tenant
from tests.e2e.conftest import sideways
from tests.e2e.test_s1_approval import _sign_in
from tests.workflow.conftest import approve, person, publish, route, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _route() -> dict[str, object]:
    return route(
        stage(
            "manager",
            approve("manager", {"manager_of": "initiator"}),
            name={"ru": "Руководитель", "en": "Manager"},
        ),
        stage(
            "lawyer",
            approve("lawyer", {"user": "alpha-lawyer"}),
            name={"ru": "Юрист", "en": "Lawyer"},
        ),
        on_return={
            "restart": "first_stage",
            "reask": "all",
            "initiator_may_choose_reask": True,
        },
    )


def _shoot(page: Any, shots: Path, name: str) -> None:
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        assert sideways(page, ".map-stage") <= 0, (name, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_resubmit_keeping_approvals_shows_the_carried_note(
    live_server: Any, browser: Any, shots: Path
) -> None:
    tenant = make_tenant("Alpha")
    WorkingCalendar.objects.get_or_create(organisation=tenant.org)
    calendar_cache_clear()
    head = User.objects.get(username="alpha-head")
    head.first_name, head.last_name = "Anna", "Sidorova"
    head.save()
    tenant.initiator.manager = head
    tenant.initiator.save()
    lawyer = person(tenant, "lawyer", first_name="Pavel", last_name="Petrov")
    for user in (tenant.initiator, head, lawyer):
        user.language = "en"
        user.save(update_fields=["language"])
    template = publish(tenant, _route(), owner=tenant.admin)
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
    process = services.process_start(
        actor=tenant.initiator, document=document, template=template
    )
    head_task = Task.objects.get(process=process, assignee=head)
    services.task_decide(
        actor=head, task_id=head_task.pk, outcome="approve", request_id="e2e-1"
    )

    base = live_server.url
    card = f"{base}/documents/{document.pk}/"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The lawyer returns it.
    _sign_in(page, base, lawyer)
    page.goto(card)
    page.check("input[name=outcome][value=return]")
    page.fill("textarea[name=comment]", "Clarify the penalty clause")
    page.click("[data-decision-form] button[type=submit]")
    page.wait_for_selector(".decided-panel")

    # The initiator uploads v2 and resubmits, asking only those who had not approved.
    _sign_in(page, base, tenant.initiator)
    page.goto(card + "?tab=files")
    page.set_input_files(
        "input[type=file][name=file] >> nth=0",
        files=[
            {
                "name": "contract.pdf",
                "mimeType": "application/pdf",
                "buffer": MINIMAL_PDF + b"%v2\n",
            }
        ],
    )
    page.click("button:has-text('Upload new version')")
    page.wait_for_selector("text=v2 (current)")
    page.goto(card)
    choice = page.locator("fieldset.reask-choice")
    assert "Ask only those who had not approved" in choice.inner_text()
    assert page.is_checked("#reask-all")  # the route's own choice comes first
    _shoot(page, shots, "resubmit-choice")
    page.check("#reask-not_approved_even_if_changed")
    page.fill("#resubmit-comment", "Penalty clause clarified")
    page.click("#resubmit button[type=submit]")
    page.wait_for_selector("text=Sent again: round 2")
    process = Process.objects.get(pk=process.pk)
    assert (process.round, process.reask) == (2, "not_approved_even_if_changed")

    # The card: the head's approval of v1 carried over, with what differs.
    note = page.locator("[data-carried-note]")
    assert "approved v1; v2 differs" in note.inner_text()
    link = note.locator("a").get_attribute("href") or ""
    assert re.search(
        rf"/documents/{document.pk}/compare/\?file=\d+&old=\d+&new=\d+", link
    )
    _shoot(page, shots, "carried-note")
    tenant.initiator.language = "ru"
    tenant.initiator.save(update_fields=["language"])
    page.goto(card)
    assert "одобрено на версии 1; версия 2 отличается" in page.inner_text(
        "[data-carried-note]"
    )
    _shoot(page, shots, "carried-note-ru")

    # The head may withdraw it: the manager stage has finished, so it goes back.
    _sign_in(page, base, head)
    page.goto(card)
    assert "approved v1; v2 differs" in page.inner_text("#route-map")
    page.click("summary:has-text('Withdraw my approval')")
    _shoot(page, shots, "withdraw-form")
    page.fill("textarea[id^=withdraw-]", "v2 changes the penalty: I read it again")
    page.click("form[action*='/withdraw/'] button[type=submit]")
    page.wait_for_selector("text=Your approval is withdrawn")
    process = Process.objects.get(pk=process.pk)
    assert process.status == "revision"
    carried = Task.objects.get(process=process, round=2, step_key="manager")
    assert (carried.state, carried.closed_reason) == (TaskState.CANCELLED, "withdrawn")
    page.goto(card + "?tab=history")
    assert "Approval withdrawn" in page.inner_text("#route-map")
    history = page.inner_text("main")
    assert "carried over to changed files" in history
    assert "withdrew an approval carried over from the last round" in history
    _shoot(page, shots, "history")
    assert errors == []
    context.close()


def test_the_builder_sets_the_mode_in_its_own_block(
    live_server: Any, browser: Any, shots: Path
) -> None:
    """Route settings: the re-approval block writes on_return.reask and the
    initiator's choice; a setting no step can use is flagged, translated."""
    from sogla.workflow.models import RouteVersion
    from sogla.workflow.services import route_builder as commands
    from sogla.workflow.services import route_template_create
    from tests.e2e.test_route_builder_browser import _setup, _watch
    from tests.e2e.test_route_builder_browser import _sign_in as _admin_in

    tenant = _setup()
    template = route_template_create(
        actor=tenant.admin, doc_type=tenant.contract, key="ack", name_ru="Ознакомление"
    )
    only_acknowledge = {
        "key": "ack",
        "on_return": {"restart": "same_stage", "reask": "not_approved"},
        "stages": [
            {
                "key": "read",
                "steps": [
                    {
                        "key": "all",
                        "kind": "acknowledge",
                        "assignee": {"user": tenant.colleague.username},
                    }
                ],
            }
        ],
    }
    commands.route_builder_save(
        actor=tenant.admin, template=template, definition=only_acknowledge, base="p0"
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _admin_in(page, base, tenant.admin.username)
    page.goto(f"{base}/settings/routes/{template.pk}/")
    page.click("#rb-route-settings")
    block = "#rb-drawer fieldset[data-reapproval]"
    page.wait_for_selector(block)
    assert "Re-approval after a corrected version" in page.inner_text(block)
    # The stored mode is selected: unchanged files only.
    assert page.is_checked(f"{block} input[value=not_approved]")
    page.check(f"{block} input[value=not_approved_even_if_changed]")
    page.check(f"{block} input[name=may_choose_reask]")
    page.locator("#rb-drawer").screenshot(path=str(shots / "builder-block-1280.png"))
    page.click("#rb-drawer-apply")
    page.wait_for_selector(
        ".rb-problems li:has-text('No step can return the document')"
    )
    page.screenshot(path=str(shots / "builder-problem-1280.png"))
    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")
    saved = RouteVersion.objects.get(template=template).definition["on_return"]
    assert saved == {
        "restart": "same_stage",
        "reask": "not_approved_even_if_changed",
        "initiator_may_choose_reask": True,
        "initiator_may_edit": False,
    }
    # Unticking the choice removes it.
    page.click("#rb-route-settings")
    page.uncheck(f"{block} input[name=may_choose_reask]")
    page.click("#rb-drawer-apply")
    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")
    saved = RouteVersion.objects.get(template=template).definition["on_return"]
    assert "initiator_may_choose_reask" not in saved
    context.close()
    assert errors == []
