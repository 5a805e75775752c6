"""S2–S8 (../shared/SCENARIOS.md) in a real browser on the demo organisation Argo.

Each test loads the demo (``sogla demo`` data), creates the story's document through
the web form as its initiator, starts the approval from the card (the start panel with
the route preview), then signs in as each demo person in turn and decides through the
decision panel on the card. At the end it checks the card's route map (the frame of
every stage), the status chip and the holder line, as tests/scenarios/test_sN_*.py
check them through the services, and takes a screenshot of the final card into the
test's tmp dir. Users are switched to English so that the assertions read the
English words; the demo data itself stays Russian.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from sogla.demo.services import demo_load
from sogla.documents.models import Counterparty, Document
from sogla.notifications.models import Notification
from sogla.orgs.models import Organisation, User
from sogla.workflow import services
from sogla.workflow.models import Process, StageRun, Task, TaskState, Timer
from tests.conftest import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOSCOW = ZoneInfo("Europe/Moscow")
DEMO_PASSWORD = "demo"
# The frame class of a stage on the route map -> its colour (workflow_web.FRAMES).
FRAMES = {
    "map-neutral": "not_started",
    "map-waiting": "waiting",
    "map-overdue": "overdue",
    "map-returned": "returned",
    "map-rejected": "rejected",
    "map-done": "done",
    "map-skipped": "skipped",
    "map-carried": "carried_over",
}


def user(username: str) -> User:
    return User.objects.get(organisation__slug="argo", username=username)


def party(name_part: str) -> Counterparty:
    return Counterparty.objects.get(organisation__slug="argo", name__contains=name_part)


def choose_people(page: Any, select: str, usernames: list[str]) -> None:
    """Pick people in a user / users select of a decision panel (its options are
    the organisation's active people)."""
    wanted = [str(user(name).pk) for name in usernames]
    present = page.eval_on_selector(
        select, "s => [...s.options].map(o => o.value).filter(v => v)"
    )
    assert set(wanted) <= set(present), (wanted, present)
    page.select_option(select, wanted)


def pdf(name: str, extra: bytes = b"") -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": MINIMAL_PDF + extra}


@pytest.fixture
def argo(transactional_db: None) -> Organisation:
    report = demo_load(today=timezone.localdate(timezone=MOSCOW))
    assert report.warnings == []
    org = Organisation.objects.get(slug="argo")
    User.objects.filter(organisation=org).update(language="en")
    return org


class Story:
    """One browser tab driving one document of the demo through its route."""

    def __init__(self, page: Any, base: str, shots: Path, name: str) -> None:
        self.page = page
        self.base = base
        self.shots = shots
        self.name = name
        self.document: Document | None = None
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )

    # --- signing in, the form, the start panel -------------------------------------

    def sign_in(self, username: str) -> None:
        page = self.page
        page.context.clear_cookies()
        page.goto(f"{self.base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.base}/inbox/")

    def new(self, doc_type: str) -> None:
        self.page.goto(f"{self.base}/documents/new/{doc_type}/")

    def pick_party(self, key: str, name_part: str) -> None:
        """The counterparty combobox: type a part of the name, pick the match."""
        page = self.page
        page.fill(f"#id_f-{key}-search", name_part)
        page.click(f"#id_f-{key}-box [data-cp-pick][data-name*='{name_part}']")
        page.wait_for_function(
            f"() => document.querySelector('#id_f-{key}').value !== ''"
        )
        assert page.input_value(f"#id_f-{key}") == str(party(name_part).pk)

    def create(self) -> Document:
        page = self.page
        page.click("button[type=submit]:has-text('Create draft')")
        page.wait_for_url(re.compile(r".*/documents/\d+/$"))
        pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
        self.document = Document.objects.get(pk=pk)
        return self.document

    def preview(self) -> str:
        return str(self.page.inner_text("#route-preview"))

    def start(self) -> Process:
        page = self.page
        page.click("#start-approval button[type=submit]")
        page.wait_for_selector("#route-map")
        assert f"Sent: {self.doc.number}" in page.inner_text("main")
        return Process.objects.get(document=self.doc)

    # --- the card ---------------------------------------------------------------------

    @property
    def doc(self) -> Document:
        assert self.document is not None
        return self.document

    @property
    def card(self) -> str:
        return f"{self.base}/documents/{self.doc.pk}/"

    def open_card(self, query: str = "") -> None:
        self.page.goto(self.card + query)

    def task(self, username: str) -> Task:
        return Task.objects.get(
            process__document=self.doc,
            assignee__username=username,
            state=TaskState.OPEN,
        )

    def decide(
        self,
        username: str,
        outcome: str = "approve",
        comment: str = "",
        fill: Callable[[Any, str], None] | None = None,
        *,
        sign_in: bool = True,
    ) -> Task:
        """Sign in as ``username``, open the card and decide through the panel.

        ``fill(page, panel_selector)`` fills the step's fields before submitting.
        """
        if sign_in:
            self.sign_in(username)
        task = self.task(username)
        self.open_card()
        panel = f"#decision-{task.pk}"
        page = self.page
        page.wait_for_selector(panel)
        if page.locator(f"{panel} input[type=radio][name=outcome]").count():
            page.check(f"#outcome-{task.pk}-{outcome}")
        else:
            assert page.input_value(f"{panel} input[name=outcome]") == outcome
        if fill is not None:
            fill(page, panel)
        if comment:
            page.fill(f"#comment-{task.pk}", comment)
        sent = len(mail.outbox)
        page.click(f"{panel} button[type=submit]")
        if outcome == "reject":
            page.click("dialog[open] [data-dialog-confirm]")
        page.wait_for_selector(".decided-panel, input#code")
        if page.locator("input#code").count():
            # A signing step: the one-time code from the mail, then the decision.
            code = re.search(r"\b(\d{6})\b", str(mail.outbox[sent].body))
            assert code is not None
            page.fill("input#code", code[1])
            page.click("form:has(input#code) button[type=submit]:not([name])")
            page.wait_for_selector(".decided-panel")
        task.refresh_from_db()
        assert (task.state, task.outcome) == ("done", outcome), (username, task.state)
        return task

    def frames(self) -> list[tuple[str, str]]:
        """(stage key, colour) of every stage on the route map, in order."""
        pairs = self.page.eval_on_selector_all(
            "#route-map li.map-stage",
            """els => els.map(e => [
                e.querySelector('h3').id.slice('stage-'.length),
                [...e.classList].find(c => c.startsWith('map-') && c !== 'map-stage'),
            ])""",
        )
        return [(key, FRAMES[frame]) for key, frame in pairs]

    def status_word(self) -> str:
        return str(
            self.page.inner_text(".card-header-block .status-chip >> nth=0")
        ).strip()

    def holder(self) -> str:
        return str(self.page.inner_text("#holder"))

    def route_map(self) -> str:
        return str(self.page.inner_text("#route-map"))

    def stages(self) -> list[tuple[str, str]]:
        process = Process.objects.get(document=self.doc)
        return list(
            StageRun.objects.filter(process=process, round=process.round)
            .order_by("index")
            .values_list("stage_key", "state")
        )

    def shoot(self, label: str = "final") -> Path:
        path = self.shots / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def finish(self, username: str) -> None:
        """The initiator's final look at the card: map, status, screenshot."""
        self.sign_in(username)
        self.open_card()
        self.shoot()
        assert self.errors == []


@pytest.fixture
def story_page(
    live_server: Any, browser: Any, tmp_path: Path
) -> Iterator[Callable[[str], Story]]:
    contexts: list[Any] = []

    def make(name: str) -> Story:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return Story(context.new_page(), live_server.url, tmp_path, name)

    yield make
    for context in contexts:
        context.close()


def assert_approved(story: Story, status_key: str) -> Process:
    process = Process.objects.get(document=story.doc)
    assert process.status == "approved"
    story.doc.refresh_from_db()
    assert story.doc.status.key == status_key
    assert not Task.objects.filter(process=process, state=TaskState.OPEN).exists()
    return process


# --- S2: every controller of the fund -------------------------------------------------


def test_s2_theatre_contract_every_fund_controller_approves(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    story = story_page("s2")
    story.sign_in("manager")
    story.new("theatre_contract")
    page = story.page
    page.check("input[name='f-direction'][value='expense']")
    page.select_option("#id_f-contract_type", "materials")
    page.fill("#id_f-subject", "Ткани для декораций")
    page.select_option("#id_f-funding_source", "commercial_fund")
    page.fill("#id_f-amount", "480 000")
    story.pick_party("counterparty", "Невский")
    page.set_input_files("#id_f-contract_file", files=[pdf("contract.pdf")])
    document = story.create()
    assert document.fields["funding_source"] == "commercial_fund"

    # The preview names every controller of the fund, after the review.
    preview = story.preview()
    for name in ("Новиков П.", "Лебедева О.", "Смирнова Т.", "Попов А."):
        assert name in preview
    fund = preview[preview.index("Funding source controllers") :]
    for name in ("Лебедева О.", "Смирнова Т.", "Фёдоров И."):
        assert name in fund
    assert "Development fund" in fund  # a skipped step is named as skipped
    story.start()
    assert story.frames() == [
        ("review", "waiting"),
        ("fund", "not_started"),
        ("invoice", "not_started"),
    ]

    # Review: the CFO approves with a remark; the chief engineer returns it.
    story.decide("lawyer")
    story.decide("cfo", "approve_with_remarks", "Проверить сроки поставки")
    story.decide("chief-accountant")
    story.decide("engineer", "return", "Нужна спецификация тканей")
    assert Process.objects.get(document=document).status == "revision"

    # The initiator reads the comment, fixes the fields (the file stays) and resubmits.
    story.sign_in("manager")
    story.open_card()
    assert "Нужна спецификация тканей" in story.holder()
    page.click("a:has-text('Edit fields')")
    page.wait_for_url(re.compile(r".*/edit/$"))
    page.fill("#id_f-subject", "Ткани для декораций: бархат, 120 м")
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_url(story.card)
    page.fill("#resubmit-comment", "Спецификация в предмете договора")
    page.click("#resubmit button[type=submit]")
    page.wait_for_selector("text=Sent again: round 2")
    # reask "not_approved" on the same files: the three approvals carry over, only
    # the engineer is asked again
    text = story.route_map()
    assert text.count("Carried over from round 1") == 3, text
    assert list(
        Task.objects.filter(
            process__document=document, round=2, state="open"
        ).values_list("assignee__username", flat=True)
    ) == ["engineer"]
    story.decide("engineer")

    # Every controller of the commercial fund must approve (quorum "all").
    assert sorted(
        Task.objects.filter(
            process__document=document, stage_key="fund", state="open"
        ).values_list("assignee__username", flat=True)
    ) == ["cfo", "chief-accountant", "commercial"]
    story.decide("cfo")
    story.decide("commercial")
    # Two of three: still waiting on the chief accountant, the director has nothing.
    assert "Смирнова Т." in story.holder()
    assert story.frames()[1] == ("fund", "waiting")
    assert not Task.objects.filter(
        process__document=document, assignee__username="director"
    ).exists()
    story.decide("chief-accountant")
    story.decide("director")

    assert_approved(story, "signed")
    story.finish("manager")
    assert story.frames() == [
        ("review", "done"),
        ("fund", "done"),
        ("invoice", "done"),
    ]
    assert story.status_word() == "Signed"
    assert "Approved on" in story.holder()
    # The CFO's carried approval keeps its remark in round 2, and round 1 shows it.
    assert "Проверить сроки поставки" in story.route_map()
    story.open_card("?round=1")
    assert "Проверить сроки поставки" in story.route_map()


# --- S3: the CFO's answer steers the executive director -------------------------------


def test_s3_payment_exec_director_asked_then_paid_and_act_provided(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    story = story_page("s3")
    story.sign_in("technician")
    story.new("payment")
    page = story.page
    page.fill("#id_f-amount", "36000")
    page.fill("#id_f-purpose", "Ремонт кровли")
    story.pick_party("payee", "СтройСервис")
    page.set_input_files("#id_f-invoice", files=[pdf("invoice.pdf")])
    story.create()
    preview = story.preview()
    assert "Лебедева О." in preview
    # The executive director's stage reads the CFO's later answer. (Finding: the
    # preview calls it "skipped: condition not met" without the "depends on answers
    # given later" note the engine marks it with, see the report.)
    assert "Executive director" in preview
    story.start()

    story.decide("cfo")
    # The question is a request_info panel with the field as a checkbox.
    story.decide(
        "cfo",
        "done",
        fill=lambda page, panel: page.check(f"{panel} [name='f-exec_director_needed']"),
        sign_in=False,
    )
    story.doc.refresh_from_db()
    assert story.doc.fields["exec_director_needed"] is True
    story.decide("executive")
    story.decide("accountant", "done")

    # Provide the act: "done" without the file is refused on the panel.
    story.sign_in("technician")
    task = story.task("technician")
    story.open_card()
    panel = f"#decision-{task.pk}"
    page.click(f"{panel} button[type=submit]")
    page.wait_for_selector(f"{panel} .text-danger, {panel} .invalid-feedback")
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN
    story.decide(
        "technician",
        "done",
        fill=lambda page, panel: page.set_input_files(
            f"{panel} input[type=file]", files=[pdf("act.pdf", b"%act")]
        ),
        sign_in=False,
    )

    assert_approved(story, "done")
    assert story.stages() == [
        ("cfo", "done"),
        ("cfo_question", "done"),
        ("executive", "done"),
        ("invoice", "done"),
        ("act", "done"),
    ]
    story.finish("technician")
    assert story.frames() == [
        ("cfo", "done"),
        ("cfo_question", "done"),
        ("executive", "done"),
        ("invoice", "done"),
        ("act", "done"),
    ]
    assert story.status_word() == "Done"
    story.open_card("?tab=files")
    assert "act.pdf" in page.inner_text("main")


# --- S4: absence ----------------------------------------------------------------------


def test_s4_vacation_goes_to_the_accountant_and_back_to_the_employee(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    story = story_page("s4")
    story.sign_in("author")
    story.new("absence")
    page = story.page
    # Remote work needs a justification: the form says so and creates nothing.
    before = Document.objects.filter(doc_type__key="absence").count()
    page.check("input[name='f-reason'][value='remote']")
    page.fill("#id_f-date_from", "2026-04-06")
    page.fill("#id_f-date_to", "2026-04-10")
    page.click("button[type=submit]:has-text('Create draft')")
    page.wait_for_selector("[data-error-summary]")
    assert "Justification" in page.inner_text("[data-error-summary]")
    assert Document.objects.filter(doc_type__key="absence").count() == before
    page.check("input[name='f-reason'][value='vacation']")
    page.select_option("#id_f-notify", [str(user("seo").pk), str(user("designer").pk)])
    document = story.create()
    assert document.fields["notify"] == [user("seo").pk, user("designer").pk]
    # the author has no manager of her own: the head of marketing approves
    assert "Григорьев К." in story.preview()
    story.start()

    story.decide("editor")
    story.decide("accountant", "done")
    story.decide("author", "done")

    assert_approved(story, "approved")
    assert story.stages() == [
        ("manager", "done"),
        ("paperwork", "done"),
        ("signature", "done"),
    ]
    notified = set(
        Notification.objects.filter(
            document=document, kind="workflow.route_notice"
        ).values_list("recipient_user__username", flat=True)
    )
    assert notified == {"seo", "designer"}
    story.finish("author")
    assert story.frames() == [
        ("manager", "done"),
        ("paperwork", "done"),
        ("signature", "done"),
    ]
    assert story.status_word() == "Approved"


# --- S5: hiring -----------------------------------------------------------------------


def test_s5_hiring_an_engineer_with_the_department_head_as_manager(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    story = story_page("s5")
    story.sign_in("hr")
    story.new("hiring")
    page = story.page
    page.fill("#id_f-candidate_name", "Петров Пётр Петрович")
    page.select_option("#id_f-department", "engineering")
    page.fill("#id_f-position", "Инженер-теплотехник")
    story.create()
    # the head of engineering acts as the manager
    assert "Попов А." in story.preview()
    story.start()

    # the head of engineering sets the interview (the route sends an invitation)
    def interview(page: Any, panel: str) -> None:
        page.fill(f"{panel} [name='f-interview_date']", "2026-12-10")
        page.fill(f"{panel} [name='f-interview_time']", "10:00")

    story.decide("engineer", "done", fill=interview)
    story.decide("engineer", "done")
    story.decide("accountant", "done")
    story.decide(
        "it",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-email']", "p.petrov@argo.example"
        ),
    )
    assert Notification.objects.filter(
        document=story.doc, recipient_email="p.petrov@argo.example"
    ).exists()
    story.decide("office", "done")
    story.decide(
        "engineer",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-start_date']", "2026-04-01"
        ),
    )

    assert_approved(story, "done")
    story.doc.refresh_from_db()
    assert story.doc.fields["email"] == "p.petrov@argo.example"
    assert story.doc.fields["start_date"] == "2026-04-01"
    story.finish("hr")
    assert story.frames() == [
        ("interview", "done"),
        ("documents", "done"),
        ("package", "done"),
        ("accesses", "done"),
        ("invitation", "done"),
        ("workplace", "done"),
        ("onboarding", "done"),
    ]
    assert story.status_word() == "Started work"
    assert "p.petrov@argo.example" in page.inner_text("main")


# --- S6: article ----------------------------------------------------------------------


def test_s6_article_with_expert_seo_author_and_designer(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    story = story_page("s6")
    story.sign_in("editor")
    story.new("article")
    page = story.page
    page.fill("#id_f-topic", "Как мы ремонтировали кровлю")
    page.select_option("#id_f-author", str(user("author").pk))
    page.check("#id_f-expert_needed")
    page.check("#id_f-seo_needed")
    story.create()
    story.start()
    assert story.status_word() == "Preparation"

    story.decide(
        "editor",
        "done",
        fill=lambda page, panel: choose_people(
            page, f"{panel} [name='f-expert']", ["engineer"]
        ),
        sign_in=False,
    )
    story.decide(
        "seo",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-seo_brief']", "Ключевые слова: кровля"
        ),
    )
    story.decide(
        "author",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-expert_comment']", "Главное — водосток"
        ),
    )
    story.decide(
        "author",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-text_link']", "https://docs.argo.example/1"
        ),
        sign_in=False,
    )
    story.decide(
        "art-director",
        "done",
        fill=lambda page, panel: choose_people(
            page, f"{panel} [name='f-designer']", ["designer"]
        ),
    )
    story.decide(
        "designer",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-image_links']", "https://img.argo.example/1.png"
        ),
    )
    story.decide("editor", "done")

    assert_approved(story, "published")
    story.doc.refresh_from_db()
    assert story.doc.folder is not None
    assert story.doc.folder.path == "Статьи/Архив"
    assert story.doc.fields["designer"] == user("designer").pk
    story.finish("editor")
    assert story.frames() == [
        ("preparation", "done"),
        ("interview", "done"),
        ("writing", "done"),
        ("design_choice", "done"),
        ("design", "done"),
        ("publication", "done"),
    ]
    assert story.status_word() == "Published"
    fields = page.inner_text("main")
    for text in (
        "Ключевые слова: кровля",
        "Главное — водосток",
        "https://docs.argo.example/1",
        "https://img.argo.example/1.png",
    ):
        assert text in fields


# --- S7: incoming letter --------------------------------------------------------------


def test_s7_government_letter_resolution_lawyer_and_executors(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    today = timezone.localdate(timezone=MOSCOW)
    control = _working_day(today + timedelta(days=14))
    story = story_page("s7")
    story.sign_in("office")
    story.new("incoming_letter")
    page = story.page
    page.check("input[name='f-addressee_entity'][value='hotel']")
    story.pick_party("sender", "Роспотребнадзор")
    page.fill("#id_f-sender_number", "78-01/1234")
    page.fill("#id_f-summary", "Предписание о проверке")
    page.fill("#id_f-received_date", today.isoformat())
    page.fill("#id_f-control_date", control.isoformat())
    page.select_option("#id_f-responsible", str(user("engineer").pk))
    page.set_input_files("#id_f-letter_file", files=[pdf("letter.pdf")])
    story.create()
    preview = story.preview()
    assert preview.index("Орлов С.") < preview.index("Новиков П.")
    assert preview.index("Новиков П.") < preview.index("Попов А.")
    story.start()
    assert story.status_word() == "In work"

    def resolution(page: Any, panel: str) -> None:
        page.fill(f"{panel} [name='f-resolution']", "Подготовить ответ")
        choose_people(page, f"{panel} [name='f-co_executors']", ["technician"])

    story.decide("director", "done", fill=resolution)
    story.decide("lawyer", "done")
    # the responsible person and the co-executor the director added, due on the
    # control date
    assert sorted(
        Task.objects.filter(
            process__document=story.doc, stage_key="execution", state="open"
        ).values_list("assignee__username", flat=True)
    ) == ["engineer", "technician"]
    story.sign_in("engineer")
    story.open_card()
    assert "Волков Н." in story.route_map()
    due = {
        timezone.localtime(t.due_at, MOSCOW)
        for t in Task.objects.filter(process__document=story.doc)
    }
    assert due == {
        datetime.combine(control, datetime.min.time().replace(hour=18), tzinfo=MOSCOW)
    }
    story.decide("engineer", "done", sign_in=False)
    story.decide("technician", "done")

    process = assert_approved(story, "answered")
    assert "Completed on" in story.holder()  # a route of tasks, not approvals
    assert process.status == "approved"
    story.doc.refresh_from_db()
    path = "Инженерная служба/Контрагенты/Управление Роспотребнадзора по г. Санкт-Петербургу"
    assert story.doc.folder is not None
    assert story.doc.folder.path == path
    assert path in story.page.inner_text(".key-facts")  # the card names the folder
    story.finish("office")
    assert story.frames() == [
        ("resolution", "done"),
        ("legal", "done"),
        ("execution", "done"),
    ]
    assert story.status_word() == "Answered"
    assert "Подготовить ответ" in page.inner_text("main")


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# --- S8: outgoing letter with a wait step ---------------------------------------------


def test_s8_outgoing_letter_waits_for_the_control_date(
    argo: Organisation, story_page: Callable[[str], Story]
) -> None:
    today = timezone.localdate(timezone=MOSCOW)
    control = today + timedelta(days=14)
    story = story_page("s8")
    story.sign_in("office")
    story.new("outgoing_letter")
    page = story.page
    page.check("input[name='f-sender_entity'][value='hotel']")
    story.pick_party("recipient", "Балтийские")
    page.fill("#id_f-summary", "Предложение о групповом размещении")
    page.fill("#id_f-document_date", today.isoformat())
    page.fill("#id_f-control_date", control.isoformat())
    page.select_option("#id_f-executor", str(user("manager").pk))
    page.set_input_files("#id_f-letter_file", files=[pdf("letter.pdf")])
    story.create()
    assert "Иванова М." in story.preview()
    story.start()

    story.decide("manager")
    story.open_card()
    assert story.status_word() == "Sent"
    assert story.frames() == [
        ("check", "done"),
        ("waiting", "waiting"),
        ("outcome", "not_started"),
    ]
    story.shoot("waiting")
    wait = Timer.objects.get(process__document=story.doc, kind="wait")
    assert wait.state == "pending"
    # The card says the route waits, and until when.
    assert "the route waits until" in story.page.inner_text("#holder")
    assert "until" in story.page.inner_text("#route-map")

    # The worker's sweep after the control date: the executor is asked.
    assert (
        services.timers_fire_due(now=wait.due_at + timedelta(minutes=1), limit=1000)
        >= 1
    )
    wait.refresh_from_db()
    assert wait.state == "fired"
    page.reload()
    assert story.frames() == [
        ("check", "done"),
        ("waiting", "done"),
        ("outcome", "waiting"),
    ]
    assert "Иванова М." in story.holder()
    story.decide(
        "manager",
        "done",
        fill=lambda page, panel: page.fill(
            f"{panel} [name='f-outcome']", "Получатель согласился"
        ),
        sign_in=False,
    )

    assert_approved(story, "done")
    story.finish("office")
    assert story.frames() == [
        ("check", "done"),
        ("waiting", "done"),
        ("outcome", "done"),
    ]
    assert story.status_word() == "Done"
    assert "Получатель согласился" in page.inner_text("main")
