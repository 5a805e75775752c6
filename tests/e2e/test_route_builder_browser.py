"""The route builder in Chromium: a route of two stages (the manager, then a
colleague only for large amounts) built from nothing with the mouse, and again with
the keyboard only; simulated for two sets of values; published; then a document
started on it through the API. The phone shows a read-only outline."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from sogla.orgs.models import User
from sogla.orgs.tokens import api_token_create
from sogla.workflow.models import RouteTemplate, RouteVersion, Task, TaskState
from sogla.workflow.services import route_builder as commands
from tests.conftest import Tenant, make_tenant
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SOGLA_BUILDER_SHOTS", "/tmp/shots/builder"))  # noqa: S108


def _until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` (page.wait_for_function evaluates strings, which the CSP
    refuses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(f"() => {expression}"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/")


def _watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            # The refused save (409) and import (422) are on purpose; Chromium
            # logs their status.
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    return errors


def _new_route(page: Any, base: str, tenant: Tenant, key: str) -> None:
    page.goto(f"{base}/settings/routes/")
    page.select_option("#route-doc-type", str(tenant.contract.pk))
    page.fill("#route-key", key)
    page.fill("#route-name-ru", "Договор")
    page.fill("#route-name-en", "Contract")
    page.click("text=Add and open the builder")
    page.wait_for_selector("#rb-add-stage")


def _start_through_api(base: str, page: Any, tenant: Tenant, key: str) -> None:
    _token, raw = api_token_create(actor=tenant.initiator, name="browser")
    api = page.context.request
    headers = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}
    made = api.post(
        f"{base}/api/v1/documents",
        headers=headers,
        data=json.dumps(
            {"doc_type": "contract", "fields": {"subject": "Big", "amount": "250000"}}
        ),
    )
    assert made.status == 201, made.text()
    started = api.post(
        f"{base}/api/v1/documents/{made.json()['id']}/process",
        headers=headers,
        data=json.dumps({"route": key}),
    )
    assert started.status == 201, started.text()
    head = User.objects.get(username="alpha-head")
    task = Task.objects.get(state=TaskState.OPEN)
    assert task.assignee_id == head.pk
    assert task.process.route_version.number == 1


def _simulate(page: Any, tenant: Tenant, amount: str) -> str:
    page.fill("[data-field=amount]", amount)
    page.click("#rb-sim-run")
    page.wait_for_selector("#rb-sim-result li")
    text: str = page.inner_text("#rb-sim-result")
    return text


def _setup() -> Tenant:
    tenant = make_tenant("Alpha")
    tenant.admin.language = "en"
    tenant.admin.first_name, tenant.admin.last_name = "Anna", "Admin"
    tenant.admin.save()
    tenant.colleague.first_name, tenant.colleague.last_name = "Carl", "Colleague"
    tenant.colleague.save()
    return tenant


def test_build_with_the_mouse_simulate_publish_and_run(
    live_server: Any, browser: Any
) -> None:
    tenant = _setup()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, base, tenant.admin.username)
    _new_route(page, base, tenant, "s3")

    # Stage 1: the initiator's manager.
    page.click("#rb-add-stage")
    page.wait_for_selector(
        "[data-stage='0'] .rb-problems"
    )  # an empty stage is a problem
    page.click("[data-add-step='0']")
    page.select_option("#rb-drawer select[name=assignee_kind]", "manager_of")
    page.select_option("#rb-drawer select[name=assignee_value]", "initiator")
    page.fill("#rb-drawer input[name=name_en]", "Manager")
    page.select_option("#rb-drawer select[name=due_kind]", "working_days")
    page.fill("#rb-drawer input[name=due_value]", "2")
    page.click("#rb-drawer-apply")
    # Stage 2: a colleague, only when the amount is over 100 000.
    page.click("#rb-add-stage")
    page.click("[data-add-step='1']")
    page.select_option("#rb-drawer select[name=assignee_kind]", "user")
    page.select_option(
        "#rb-drawer select[name=assignee_value]", tenant.colleague.username
    )
    page.fill("#rb-drawer input[name=name_en]", "Big deals")
    page.click("#rb-drawer [data-add-condition]")
    page.select_option("#rb-drawer select[name=cond_field]", "amount")
    page.select_option("#rb-drawer select[name=cond_op]", "gt")
    page.fill("#rb-drawer input[name=cond_value]", "100000")
    assert "Runs if «Amount» is greater than «100000»" in page.inner_text("#rb-drawer")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "mouse-drawer-1280.png"))
    page.click("#rb-drawer-apply")
    # A third step dragged from stage 2 into stage 1, then deleted.
    page.click("[data-add-step='1']")
    page.select_option("#rb-drawer select[name=assignee_kind]", "initiator")
    page.click("#rb-drawer-apply")
    page.drag_and_drop("[data-step='1.1']", "[data-step='0.0']")
    page.wait_for_selector("[data-step='0.1']")
    assert page.locator("[data-stage='1'] .rb-card").count() == 1
    assert page.inner_text("[data-step='0.0']").startswith(
        "step_"
    )  # dropped before the manager
    page.click("#rb-step-0-0")
    page.click("#rb-drawer-delete")
    _until(
        page, "document.querySelectorAll(\"[data-stage='0'] .rb-card\").length === 1"
    )
    _until(page, "document.getElementById('rb-checks-count').textContent === '0'")
    page.screenshot(path=str(SHOTS / "mouse-board-1280.png"), full_page=True)

    page.click("#rb-simulate-open")
    page.select_option("#rb-sim-form select[name=initiator]", str(tenant.initiator.pk))
    small = _simulate(page, tenant, "500")
    assert "Big deals: skipped" in small
    assert "condition not met" in small
    big = _simulate(page, tenant, "250000")
    assert "Big deals: Colleague C." in big
    page.screenshot(path=str(SHOTS / "mouse-simulation-1280.png"), full_page=True)

    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")
    page.click("#rb-publish")
    page.wait_for_selector("#rb-publish-confirm:has-text('Publish v1')")
    page.screenshot(path=str(SHOTS / "mouse-publish-1280.png"))
    page.click("#rb-publish-confirm")
    page.wait_for_selector("#rb-alert.alert-success")
    template = RouteTemplate.objects.get(key="s3")
    version = RouteVersion.objects.get(template=template, number=1)
    assert version.status == "published"
    steps = version.definition["stages"][1]["steps"]
    assert steps[0]["when"] == {"field": "amount", "op": "gt", "value": 100000}
    _start_through_api(base, page, tenant, "s3")

    # Another administrator saves a draft meanwhile: this page's save is refused,
    # naming them; nothing of this page is written.
    other = UserFactory(
        organisation=tenant.org,
        is_staff=True,
        username="alpha-admin2",
        first_name="Sergey",
        last_name="Sidorov",
    )
    commands.route_builder_save(
        actor=other, template=template, definition=version.definition, base="p1"
    )
    page.click("#rb-save")
    page.wait_for_selector("#rb-alert.alert-danger")
    assert "Sidorov S. changed the draft" in page.inner_text("#rb-alert")
    page.screenshot(path=str(SHOTS / "conflict-1280.png"))
    # The same builder in Russian, reloaded.
    tenant.admin.language = "ru"
    tenant.admin.save(update_fields=["language"])
    page.reload()
    page.wait_for_selector("#rb-step-1-0")
    assert "Добавить этап" in page.inner_text("#rb-board")
    page.screenshot(path=str(SHOTS / "ru-board-1280.png"), full_page=True)

    # Another organisation's route file: a report, nothing imported.
    page.click("#rb-import-open")
    foreign = {
        "key": "x",
        "stages": [
            {"key": "a", "steps": [{"key": "b", "assignee": {"role": "beta_lawyer"}}]}
        ],
    }
    page.set_input_files(
        "#rb-import-file",
        files=[
            {
                "name": "route.json",
                "mimeType": "application/json",
                "buffer": json.dumps(foreign).encode(),
            }
        ],
    )
    page.click("#rb-import-form button[type=submit]")
    page.wait_for_selector("#rb-import-report .alert-danger")
    report = page.inner_text("#rb-import-report")  # the admin reads Russian by now
    assert "Этап 1 · Шаг 1: В организации нет роли «beta_lawyer»." in report
    page.screenshot(path=str(SHOTS / "import-report-1280.png"))
    page.click("#rb-import-cancel")

    # The phone: a read-only outline, no editing tools.
    phone = browser.new_context(viewport={"width": 360, "height": 740})
    mobile = phone.new_page()
    _sign_in(mobile, base, tenant.admin.username)
    mobile.goto(f"{base}/settings/routes/{template.pk}/")
    assert mobile.is_visible(".rb-outline")
    assert not mobile.is_visible("#rb-publish")
    assert "Big deals" in mobile.inner_text(".rb-outline")
    mobile.screenshot(path=str(SHOTS / "phone-outline-360.png"), full_page=True)
    mobile.goto(f"{base}/settings/routes/")
    mobile.screenshot(path=str(SHOTS / "phone-list-360.png"), full_page=True)
    phone.close()
    context.close()
    assert errors == []


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)",
            selector,
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _key_select(page: Any, selector: str, value: str) -> None:
    """Focus the select with Tab and move to ``value`` with the arrow keys."""
    _tab_to(page, selector)
    for key in ("Home",) + ("ArrowDown",) * 40:
        if page.evaluate("() => document.activeElement.value") == value:
            return
        page.keyboard.press(key)
    raise AssertionError(f"{value} not reached in {selector}")


def test_build_with_the_keyboard_only(live_server: Any, browser: Any) -> None:
    tenant = _setup()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, base, tenant.admin.username)
    _new_route(page, base, tenant, "s3-keys")
    page.keyboard.press("Tab")

    _tab_to(page, "#rb-add-stage")
    page.keyboard.press("Enter")
    _tab_to(page, "[data-add-step='0']")
    page.keyboard.press("Enter")  # the drawer opens on the new step
    page.wait_for_selector("#rb-drawer[open]")
    _key_select(page, "#rb-drawer select[name=assignee_kind]", "manager_of")
    _key_select(page, "#rb-drawer select[name=assignee_value]", "initiator")
    _tab_to(page, "#rb-drawer-apply")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rb-drawer:not([open])", state="attached")

    _tab_to(page, "#rb-add-stage")
    page.keyboard.press("Enter")
    _tab_to(page, "[data-add-step='1']")
    page.keyboard.press("Enter")
    _key_select(page, "#rb-drawer select[name=assignee_kind]", "user")
    _key_select(
        page, "#rb-drawer select[name=assignee_value]", tenant.colleague.username
    )
    _tab_to(page, "#rb-drawer [data-add-condition]")
    page.keyboard.press("Enter")
    _key_select(page, "#rb-drawer select[name=cond_field]", "amount")
    _key_select(page, "#rb-drawer select[name=cond_op]", "gt")
    _tab_to(page, "#rb-drawer input[name=cond_value]")
    page.keyboard.type("100000")
    _tab_to(page, "#rb-drawer-apply")
    page.keyboard.press("Enter")

    # A second step in stage 1 moved to stage 2 with Alt+Right, then up with Alt+Up.
    _tab_to(page, "[data-add-step='0']")
    page.keyboard.press("Enter")
    _key_select(page, "#rb-drawer select[name=assignee_kind]", "initiator")
    _tab_to(page, "#rb-drawer-apply")
    page.keyboard.press("Enter")
    _until(
        page, "document.activeElement && document.activeElement.id === 'rb-step-0-1'"
    )
    page.keyboard.press("Alt+ArrowRight")
    _until(
        page, "document.activeElement && document.activeElement.id === 'rb-step-1-1'"
    )
    page.keyboard.press("Alt+ArrowUp")
    _until(
        page, "document.activeElement && document.activeElement.id === 'rb-step-1-0'"
    )
    # ... and the move buttons put it back below.
    _tab_to(page, "[data-step='1.0'] button[aria-label='Down']")
    page.keyboard.press("Enter")
    _until(page, "document.querySelector('#rb-step-1-1') !== null")
    assert "The initiator" in page.inner_text("#rb-step-1-1")
    page.screenshot(path=str(SHOTS / "keyboard-board-1280.png"), full_page=True)

    _tab_to(page, "#rb-simulate-open")
    page.keyboard.press("Enter")
    _key_select(page, "#rb-sim-form select[name=initiator]", str(tenant.initiator.pk))
    _tab_to(page, "[data-field=amount]")
    page.keyboard.type("250000")
    page.keyboard.press("Enter")  # submits the simulation form
    page.wait_for_selector("#rb-sim-result li")
    assert "Colleague C." in page.inner_text("#rb-sim-result")

    _tab_to(page, "#rb-publish")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rb-publish-dialog[open]")
    _until(
        page,
        "document.activeElement && document.activeElement.id === 'rb-publish-confirm'",
    )
    page.keyboard.press("Enter")
    page.wait_for_selector("#rb-alert.alert-success")
    template = RouteTemplate.objects.get(key="s3-keys")
    version = RouteVersion.objects.get(template=template, number=1)
    assert [s["key"] for s in version.definition["stages"][1]["steps"]] == [
        "step_1",
        "step_2",
    ]
    _start_through_api(base, page, tenant, "s3-keys")
    context.close()
    assert errors == []


def test_drawer_keeps_and_edits_request_info_and_wait_steps(
    live_server: Any, browser: Any
) -> None:
    from sogla.workflow.services import route_template_create

    tenant = _setup()
    template = route_template_create(
        actor=tenant.admin, doc_type=tenant.contract, key="kinds", name_ru="Виды"
    )
    definition = {
        "key": "kinds",
        "stages": [
            {
                "key": "ask",
                "steps": [
                    {
                        "key": "info",
                        "kind": "request_info",
                        "assignee": {"initiator": True},
                        "fields": ["subject"],
                        "required_fields": ["subject"],
                    },
                    {"key": "pause", "kind": "wait", "wait_until": "end_date"},
                ],
            }
        ],
    }
    commands.route_builder_save(
        actor=tenant.admin, template=template, definition=definition, base="p0"
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, base, tenant.admin.username)
    page.goto(f"{base}/settings/routes/{template.pk}/")
    page.click("#rb-step-0-0")
    page.check("#rb-drawer input[name=ask_field][value=amount]")
    page.click("#rb-drawer-apply")
    page.click("#rb-step-0-1")
    page.fill("#rb-drawer input[name=wait_offset_days]", "-3")
    page.click("#rb-drawer-apply")
    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")
    saved = RouteVersion.objects.get(template=template).definition["stages"][0]["steps"]
    assert saved[0]["fields"] == ["subject", "amount"]
    assert saved[0]["required_fields"] == ["subject"]
    assert (saved[1]["wait_until"], saved[1]["wait_offset_days"]) == ("end_date", -3)
    assert "assignee" not in saved[1]
    context.close()
    assert errors == []


def test_drawer_keeps_the_head_from_a_field_and_the_status_when_done(
    live_server: Any, browser: Any
) -> None:
    """Issue 11.2: the head of the department chosen in a field is a choice of the
    assignee picker, and a step's "when done, set the status" survives the drawer."""
    from sogla.documents.models import FieldKind
    from sogla.workflow.services import route_template_create
    from tests.factories import add_field

    tenant = _setup()
    add_field(
        tenant.contract,
        "unit",
        FieldKind.CHOICE,
        label_en="Unit",
        choices=[{"value": "sales", "ru": "Продажи", "en": "Sales"}],
    )
    template = route_template_create(
        actor=tenant.admin,
        doc_type=tenant.contract,
        key="heads",
        name_ru="Руководители",
    )
    definition = {
        "key": "heads",
        "stages": [
            {
                "key": "head",
                "steps": [
                    {
                        "key": "unit_head",
                        "kind": "sign",
                        "assignee": {"department_head_field": "unit"},
                        "on_done": {"set_status": "approved"},
                    }
                ],
            }
        ],
    }
    commands.route_builder_save(
        actor=tenant.admin, template=template, definition=definition, base="p0"
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, base, tenant.admin.username)
    page.goto(f"{base}/settings/routes/{template.pk}/")
    assert "Unit" in page.inner_text("#rb-step-0-0")
    page.click("#rb-step-0-0")
    drawer = "#rb-drawer"
    assert page.input_value(f"{drawer} select[name=assignee_kind]") == (
        "department_head_field"
    )
    assert page.input_value(f"{drawer} select[name=assignee_value]") == "unit"
    assert page.input_value(f"{drawer} select[name=done_status]") == "approved"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "drawer-head-from-field-1280.png"))
    page.select_option(f"{drawer} select[name=done_status]", "on_approval")
    page.click("#rb-drawer-apply")
    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")
    [step] = RouteVersion.objects.get(template=template).definition["stages"][0][
        "steps"
    ]
    assert step["assignee"] == {"department_head_field": "unit"}
    assert step["on_done"] == {"set_status": "on_approval"}
    context.close()
    assert errors == []


def test_drawer_edits_nested_conditions_guest_fields_and_the_route_settings(
    live_server: Any, browser: Any
) -> None:
    """Issue 11.1: AND inside OR with its sentence; the fields a guest sees; the
    route's on-finish actions (notify, generate, remind), stall alert and return
    policy; a problem of the route's settings shown live in the drawer and on the
    route's card."""
    from sogla.workflow.services import route_template_create

    tenant = _setup()
    template = route_template_create(
        actor=tenant.admin, doc_type=tenant.contract, key="more", name_ru="Ещё"
    )
    definition = {
        "key": "more",
        "stages": [
            {
                "key": "one",
                "steps": [
                    {"key": "guest", "assignee": {"guests": ["g@partner.test"]}},
                    {"key": "boss", "assignee": {"initiator": True}},
                ],
            }
        ],
        "on_finish": [{"set_status": "approved", "notify": ["initiator"]}],
    }
    commands.route_builder_save(
        actor=tenant.admin, template=template, definition=definition, base="p0"
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, base, tenant.admin.username)
    page.goto(f"{base}/settings/routes/{template.pk}/")
    drawer = "#rb-drawer"

    # «Amount» over a million, OR (over 100 000 AND the initiator in Sales).
    page.click("#rb-step-0-1")
    assert page.is_hidden(f"{drawer} [data-guest-fields]")  # not a guest step
    page.click(f"{drawer} [data-add-condition='0']")
    page.select_option(f"{drawer} select[name=cond_field]", "amount")
    page.select_option(f"{drawer} select[name=cond_op]", "gt")
    page.fill(f"{drawer} input[name=cond_value]", "1000000")
    page.click(f"{drawer} [data-add-group]")
    inner = page.locator(f"{drawer} [data-cond-group='1']")
    inner.locator("select[name=cond_field]").select_option("amount")
    inner.locator("select[name=cond_op]").select_option("gt")
    inner.locator("input[name=cond_value]").fill("100000")
    inner.locator("[data-add-condition='1']").click()
    inner.locator("select[name=cond_field]").nth(1).select_option(
        "initiator.department"
    )
    top_mode = page.locator(f"{drawer} [data-cond-group='0'] > .rb-cond-mode select")
    top_mode.select_option("any")
    inner.locator(".rb-cond-mode select").select_option("all")
    sentence = page.inner_text(f"{drawer} .rb-cond-sentence")
    assert sentence == (
        "Runs if «Amount» is greater than «1000000» or («Amount» is greater than "
        "«100000» and «Initiator's department» is «Sales»)"
    )
    page.screenshot(path=str(SHOTS / "drawer-nested-condition-1280.png"))
    page.click("#rb-drawer-apply")
    assert "or («Amount»" in page.inner_text("#rb-step-0-1")

    # The guest sees the subject and the amount, nothing else.
    page.click("#rb-step-0-0")
    assert page.is_visible(f"{drawer} [data-guest-fields]")
    page.check(f"{drawer} input[name=guest_field][value=subject]")
    page.check(f"{drawer} input[name=guest_field][value=amount]")
    page.click("#rb-drawer-apply")

    # The route: a reminder without its date is a problem, live in the drawer and
    # then on the route's card; choosing the date clears it.
    page.click("#rb-route-settings")
    actions = page.locator(f"{drawer} #rb-on-finish .rb-action")
    assert actions.count() == 2  # {set_status, notify} is shown as two rows
    page.click(f"{drawer} [data-add-action]")
    actions.nth(2).locator("select[name=action_kind]").select_option("generate")
    actions.nth(2).locator("input[name=action_generate]").fill("contract.docx")
    page.click(f"{drawer} [data-add-action]")
    actions.nth(3).locator("select[name=action_kind]").select_option("remind")
    actions.nth(3).locator("input[name=action_remind_days]").fill("14")
    page.wait_for_selector("#rb-drawer-problems li")
    assert "has no field" in page.inner_text("#rb-drawer-problems")
    page.fill(f"{drawer} input[name=stall_hours]", "12")
    page.select_option(f"{drawer} select[name=restart]", "same_stage")
    page.check(f"{drawer} input[name=may_edit]")
    page.screenshot(path=str(SHOTS / "drawer-route-settings-1280.png"))
    page.click("#rb-drawer-apply")
    page.wait_for_selector(".rb-route-card.rb-has-problem .rb-problems li")
    _until(page, "document.getElementById('rb-checks-count').textContent === '1'")
    page.click("#rb-route-card-open")
    actions.nth(3).locator("select[name=action_remind_field]").select_option("end_date")
    _until(page, "!document.querySelector('#rb-drawer-problems li')")
    page.click("#rb-drawer-apply")
    _until(page, "document.getElementById('rb-checks-count').textContent === '0'")
    card = page.inner_text(".rb-route-card")
    assert "Generate a document: contract.docx" in card
    assert "after 12 h without movement, tell: The initiator" in card
    page.screenshot(path=str(SHOTS / "route-card-1280.png"))
    page.click("#rb-save")
    page.wait_for_selector("#rb-save-state:has-text('Saved')")

    saved = RouteVersion.objects.get(template=template).definition
    [guest, boss] = saved["stages"][0]["steps"]
    assert guest["guest_fields"] == ["subject", "amount"]
    assert boss["when"] == {
        "any": [
            {"field": "amount", "op": "gt", "value": 1000000},
            {
                "all": [
                    {"field": "amount", "op": "gt", "value": 100000},
                    {"field": "initiator.department", "op": "eq", "value": "sales"},
                ]
            },
        ]
    }
    assert saved["on_finish"] == [
        {"set_status": "approved"},
        {"notify": ["initiator"]},
        {"generate": "contract.docx"},
        {"remind": {"before_field": "end_date", "days": 14, "notify": ["initiator"]}},
    ]
    assert saved["stall_alert"] == {"hours": 12, "notify": ["initiator"]}
    assert saved["on_return"] == {
        "restart": "same_stage",
        "reask": "all",
        "initiator_may_edit": True,
    }
    context.close()
    assert errors == []
