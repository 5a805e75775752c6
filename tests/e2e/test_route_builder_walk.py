"""Issue 11, "Done when": a new route owner rebuilds the demo's full contract route
from nothing in the builder, simulates it, publishes it and runs a document through
it, without writing JSON.

Chromium, an empty database. The administrator creates the organisation with the
setup code, imports the departments and the people (CSV, as the ten-minute setup
offers), installs the ready template «Договор» naming who holds its roles, then
opens the builder on a new route and builds, with the drawer only, every stage and
step of the library's «Договор: полное согласование» (names, kinds, assignees,
deadlines, conditions on the initiator's department, the status set when the
director approves and when the contract is signed) and the route's own settings
(stall alert, escalation, what a return does, filing and the renewal reminder when
it finishes). The published definition is the library's, compared as the engine
reads it. The simulation is run for an engineer and for a salesman; a contract is
then started through the API and decided through the API by each person asked, until
the document is «Подписан».
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from sogla.documents.models import Document, DocumentType
from sogla.engine.definition import RouteDefinition
from sogla.orgs.models import Organisation, User
from sogla.orgs.setup import setup_code_issue
from sogla.orgs.tokens import api_token_create
from sogla.workflow.models import RouteTemplate, RouteVersion, Task, TaskState
from tests.conftest import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Long-enough-pass-42"
LIBRARY = (
    Path(__file__).resolve().parents[2] / "src/sogla/starter/library/contract.json"
)
SHOTS = Path(os.environ.get("SOGLA_BUILDER_SHOTS", "/tmp/shots/builder"))  # noqa: S108

DEPARTMENTS = """code,name
engineering,Инженерная служба
sales,Отдел продаж
trainees,Стажёры
"""
# Managers first: a row's manager must be known when the row is read.
PEOPLE = """email,last_name,first_name,department,manager,position
gena@romashka.test,Генералов,Геннадий,,,Генеральный директор
denis@romashka.test,Замов,Денис,,gena@romashka.test,Заместитель
elena@romashka.test,Исполнова,Елена,sales,gena@romashka.test,Исполнительный директор
alla@romashka.test,Бухова,Алла,,gena@romashka.test,Бухгалтер
lev@romashka.test,Юристов,Лев,,gena@romashka.test,Юрист
igor@romashka.test,Инженеров,Игорь,engineering,gena@romashka.test,Главный инженер
maria@romashka.test,Начальникова,Мария,engineering,igor@romashka.test,Руководитель группы
ivan@romashka.test,Иванов,Иван,engineering,maria@romashka.test,Инженер
sam@romashka.test,Продажин,Семён,sales,elena@romashka.test,Менеджер
"""
ROLES = {
    "ceo": "Геннадий Генералов",
    "deputy_ceo": "Денис Замов",
    "executive_director": "Елена Исполнова",
    "accountant": "Алла Бухова",
    "lawyer": "Лев Юристов",
    "chief_engineer": "Игорь Инженеров",
}


def _library_route() -> dict[str, Any]:
    data = json.loads(LIBRARY.read_text(encoding="utf-8"))
    found: dict[str, Any] = next(
        r for r in data["routes"] if r["key"] == "contract-full"
    )
    return found


def _until(page: Any, expression: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(f"() => {expression}"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def _import(page: Any, base: str, name: str, content: str) -> None:
    page.goto(f"{base}/accounts/people/import/")
    page.set_input_files(
        "#import-file",
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}],
    )
    page.click("form[enctype] button[type=submit]")
    page.click("form:has(input[name=token]) button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/people/.*"))


def _drawer_closed(page: Any) -> None:
    _until(page, "!document.getElementById('rb-drawer').open")


def _build_stage(page: Any, si: int, stage: dict[str, Any]) -> None:
    page.click("#rb-add-stage")
    page.click(f"#rb-stage-edit-{si}")
    page.fill("#rb-drawer input[name=name_ru]", stage["name"]["ru"])
    page.fill("#rb-drawer input[name=name_en]", stage["name"]["en"])
    page.fill("#rb-drawer input[name=key]", stage["key"])
    page.click("#rb-drawer-apply")
    _drawer_closed(page)
    for ti, step in enumerate(stage["steps"]):
        _build_step(page, si, ti, step)


def _build_step(page: Any, si: int, ti: int, step: dict[str, Any]) -> None:
    drawer = "#rb-drawer"
    page.click(f"[data-add-step='{si}']")
    page.wait_for_selector(f"{drawer}[open]")
    page.fill(f"{drawer} input[name=name_ru]", step["name"]["ru"])
    page.fill(f"{drawer} input[name=name_en]", step["name"]["en"])
    page.select_option(f"{drawer} select[name=kind]", step["kind"])
    page.fill(f"{drawer} input[name=key]", step["key"])
    [(kind, value)] = step["assignee"].items()
    page.select_option(f"{drawer} select[name=assignee_kind]", kind)
    page.select_option(f"{drawer} select[name=assignee_value]", value)
    page.select_option(f"{drawer} select[name=due_kind]", "working_days")
    page.fill(f"{drawer} input[name=due_value]", str(step["due"]["working_days"]))
    when = step.get("when")
    if when:
        page.click(f"{drawer} [data-add-condition='0']")
        page.select_option(f"{drawer} select[name=cond_field]", when["field"])
        page.select_option(f"{drawer} select[name=cond_op]", when["op"])
        page.select_option(f"{drawer} select[name=cond_value]", when["value"])
        assert "Инженерная служба" in page.inner_text(
            f"{drawer} .rb-cond-sentence"
        ) or (when["value"] != "engineering")
    if "on_done" in step:
        page.select_option(
            f"{drawer} select[name=done_status]", step["on_done"]["set_status"]
        )
    if (si, ti) == (6, 0):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "walk-signing-drawer-1280.png"))
    page.click("#rb-drawer-apply")
    _drawer_closed(page)


def _route_settings(page: Any, definition: dict[str, Any]) -> None:
    drawer = "#rb-drawer"
    page.click("#rb-route-settings")
    page.wait_for_selector(f"{drawer}[open]")
    page.fill(f"{drawer} input[name=stall_hours]", "24")
    page.fill(f"{drawer} input[name=escalate_after]", "1")
    page.select_option(f"{drawer} select[name=restart]", "first_stage")
    page.check(f"{drawer} [data-reapproval] input[value=not_approved]")
    page.check(f"{drawer} input[name=may_edit]")
    filing = definition["on_finish"][0]
    actions = page.locator(f"{drawer} #rb-on-finish .rb-action")
    page.click(f"{drawer} [data-add-action]")
    actions.nth(0).locator("select[name=action_kind]").select_option("file_to")
    actions.nth(0).locator("input[name=action_file_to]").fill(filing["file_to"])
    page.click(f"{drawer} [data-add-action]")
    second = actions.nth(1)
    second.locator("select[name=action_kind]").select_option("remind")
    second.locator("select[name=action_remind_field]").select_option("end_date")
    second.locator("input[name=action_remind_days]").fill("30")
    second.locator("input[name=notify_to][value=initiator]").uncheck()
    second.locator("input[name=notify_to][value='field:responsible']").check()
    page.screenshot(path=str(SHOTS / "walk-route-settings-1280.png"))
    page.click("#rb-drawer-apply")
    _drawer_closed(page)


def _simulate(page: Any, initiator: User, amount: str) -> str:
    page.select_option("#rb-sim-form select[name=initiator]", str(initiator.pk))
    page.fill("[data-field=amount]", amount)
    page.evaluate(
        "() => { document.getElementById('rb-sim-result').replaceChildren(); }"
    )
    page.click("#rb-sim-run")
    page.wait_for_selector("#rb-sim-result li")
    text: str = page.inner_text("#rb-sim-result")
    return text


def _api(page: Any, user: User) -> tuple[Any, dict[str, str]]:
    _token, raw = api_token_create(actor=user, name="walk")
    return page.context.request, {"Authorization": f"Bearer {raw}"}


def _run_a_contract(page: Any, base: str, key: str) -> Document:
    ivan = User.objects.get(email="ivan@romashka.test")
    api, auth = _api(page, ivan)
    json_headers = {**auth, "Content-Type": "application/json"}
    party = api.post(
        f"{base}/api/v1/counterparties",
        headers=json_headers,
        data=json.dumps({"name": "ООО «Подрядчик»"}),
    )
    assert party.status == 201, party.text()
    made = api.post(
        f"{base}/api/v1/documents",
        headers=json_headers,
        data=json.dumps(
            {
                "doc_type": "contract",
                "fields": {
                    "counterparty": party.json()["id"],
                    "approval_type": "full",
                    "amount": "750000",
                    "end_date": "2027-12-31",
                    "subject": "Ремонт кровли",
                },
            }
        ),
    )
    assert made.status == 201, made.text()
    document_id = made.json()["id"]
    uploaded = api.post(
        f"{base}/api/v1/documents/{document_id}/files",
        headers=auth,
        multipart={
            "file": {
                "name": "contract.pdf",
                "mimeType": "application/pdf",
                "buffer": MINIMAL_PDF,
            },
            "field_key": "contract_file",
        },
    )
    assert uploaded.status == 201, uploaded.text()
    started = api.post(
        f"{base}/api/v1/documents/{document_id}/process",
        headers=json_headers,
        data=json.dumps({"route": key}),
    )
    assert started.status == 201, started.text()
    clients: dict[int, tuple[Any, dict[str, str]]] = {}
    asked: list[str] = []
    for _ in range(12):
        task = Task.objects.filter(
            process__document_id=document_id, state=TaskState.OPEN
        ).first()
        if task is None or task.step_key == "sign":
            break
        assert task.assignee_id is not None
        person = User.objects.get(pk=task.assignee_id)
        asked.append(person.last_name)
        if person.pk not in clients:
            clients[person.pk] = _api(page, person)
        client, headers = clients[person.pk]
        decided = client.post(
            f"{base}/api/v1/tasks/{task.pk}/decision",
            headers={**headers, "Content-Type": "application/json"},
            data=json.dumps({"outcome": "approve", "request_id": str(uuid.uuid4())}),
        )
        assert decided.status == 200, decided.text()
    # The manager, the lawyer, the accountant, the chief engineer (Ivan is an
    # engineer), the deputy, the director; the director signs next.
    assert asked == [
        "Начальникова",
        "Юристов",
        "Бухова",
        "Инженеров",
        "Замов",
        "Генералов",
    ]
    document = Document.objects.select_related("status").get(pk=document_id)
    assert document.status.key == "approved"  # the director's step set it
    return document


def _sign_on_the_card(browser: Any, base: str, document: Document) -> Any:
    """The director signs on the card, with the one-time code from the mail."""
    ceo = User.objects.get(email="gena@romashka.test")
    ceo.set_password(PASSWORD)  # as when they accepted the invitation
    ceo.save(update_fields=["password"])
    task = Task.objects.get(process__document=document, state=TaskState.OPEN)
    assert (task.step_key, task.assignee_id) == ("sign", ceo.pk)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ru-RU"
    )
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", ceo.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox/$"))
    page.goto(f"{base}/documents/{document.pk}/")
    panel = f"#decision-{task.pk}"
    page.check(f"#outcome-{task.pk}-approve")
    sent = len(mail.outbox)
    page.click(f"{panel} button[type=submit]")
    page.wait_for_selector("input#code")
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[sent].body))
    assert code is not None
    page.fill("input#code", code[1])
    page.click("form:has(input#code) button[type=submit]:not([name])")
    page.wait_for_selector(".decided-panel")
    return context


def test_a_new_owner_rebuilds_the_full_contract_route(
    live_server: Any, browser: Any
) -> None:
    assert not Organisation.objects.exists()
    library = _library_route()
    definition = library["definition"]
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ru-RU"
    )
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The organisation, from the setup code the console printed.
    code = setup_code_issue()
    page.goto(base + "/")
    page.wait_for_url(re.compile(r".*/accounts/setup/$"))
    page.fill("#id_setup_code", code)
    page.fill("#id_name", "ООО «Ромашка»")
    page.fill("#id_first_name", "Анна")
    page.fill("#id_last_name", "Админова")
    page.fill("#id_email", "anna@romashka.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/people/$"))
    # Departments and people from two CSV files; the ready template «Договор».
    _import(page, base, "departments.csv", DEPARTMENTS)
    _import(page, base, "people.csv", PEOPLE)
    assert User.objects.count() == 10
    page.goto(f"{base}/settings/templates/")
    page.click("[data-template=contract] a[href$='/settings/templates/contract/']")
    for role, person in ROLES.items():
        page.select_option(f"#id_role_{role}", label=person)
    page.click("#install")
    page.wait_for_load_state()
    contract = DocumentType.objects.get(key="contract")

    # A new route for contracts, built from nothing.
    started = time.monotonic()
    page.goto(f"{base}/settings/routes/")
    page.select_option("#route-doc-type", str(contract.pk))
    page.fill("#route-key", "contract-mine")
    page.fill("#route-name-ru", "Договор: полное согласование (заново)")
    page.fill("#route-name-en", "Contract: full approval (rebuilt)")
    page.click("form:has(#route-key) button[type=submit]")
    page.wait_for_selector("#rb-add-stage")
    assert "Добавьте первый этап" in page.inner_text("#rb-board")
    for si, stage in enumerate(definition["stages"]):
        _build_stage(page, si, stage)
    _route_settings(page, definition)
    _until(page, "document.getElementById('rb-checks-count').textContent === '0'")
    board = page.inner_text("#rb-board")
    assert "Подписать договор" in board
    route_card = page.inner_text(".rb-route-card")
    assert "Положить в папку: {department}/Контрагенты/{counterparty}" in route_card
    assert "за 30 дн. до даты «Дата окончания»" in route_card
    page.screenshot(path=str(SHOTS / "walk-board-1280.png"), full_page=True)

    # Two sets of values: an engineer's contract, then a salesman's.
    page.click("#rb-simulate-open")
    ivan = User.objects.get(email="ivan@romashka.test")
    sam = User.objects.get(email="sam@romashka.test")
    engineer = _simulate(page, ivan, "750000")
    assert "Главный инженер: Инженеров И." in engineer
    assert "Исполнительный директор: пропущен" in engineer
    assert "Руководитель: Начальникова М." in engineer
    salesman = _simulate(page, sam, "2000000")
    assert "Исполнительный директор: Исполнова Е." in salesman
    assert "Главный инженер: пропущен" in salesman
    page.screenshot(path=str(SHOTS / "walk-simulation-1280.png"), full_page=True)

    page.click("#rb-publish")
    page.wait_for_selector("#rb-publish-confirm:visible")
    page.screenshot(path=str(SHOTS / "walk-publish-1280.png"))
    page.click("#rb-publish-confirm")
    page.wait_for_selector("#rb-alert.alert-success")
    built_in = time.monotonic() - started
    template = RouteTemplate.objects.get(key="contract-mine")
    published = RouteVersion.objects.get(template=template, number=1).definition

    # The engine reads the same route as the library's, but for its key and name.
    def engine(data: dict[str, Any]) -> dict[str, Any]:
        return RouteDefinition.model_validate(
            {**data, "key": "x", "name": {}}
        ).model_dump()

    assert engine(published) == engine(definition)

    document = _run_a_contract(page, base, "contract-mine")
    signer = _sign_on_the_card(browser, base, document)
    signer.close()
    document = Document.objects.select_related("status").get(pk=document.pk)
    assert document.status.key == "signed"
    assert document.status.name_ru == "Подписан"
    page.goto(f"{base}/documents/{document.pk}/")
    assert "Подписан" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "walk-signed-1280.png"), full_page=True)

    # The phone: the same route as a read-only outline.
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="ru-RU",
        storage_state=context.storage_state(),
    )  # fmt: skip
    mobile = phone.new_page()
    mobile.goto(f"{base}/settings/routes/{template.pk}/")
    outline = mobile.inner_text(".rb-outline")
    assert "Подписать договор" in outline
    assert not mobile.is_visible("#rb-publish")
    mobile.screenshot(path=str(SHOTS / "walk-phone-outline-360.png"), full_page=True)
    phone.close()
    context.close()
    assert errors == []
    assert built_in < 90, f"building took {built_in:.0f} s"
