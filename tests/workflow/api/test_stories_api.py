"""S2–S8 (../shared/SCENARIOS.md) through the REST API only, on the demo organisation.

Every demo person gets a personal API token; each story creates its document with
``POST /documents`` (and its files with ``POST /documents/{id}/files``), reads the
routes that fit with their preview, starts the suggested route, and then every person
finds their task in ``GET /tasks``, reads it (``GET /tasks/{id}``: allowed outcomes,
fields) and decides with a request id. Returns are resubmitted through
``POST /processes/{id}/resubmit``. The end state is read back from the route map
(``GET /documents/{id}/process``), the document and its history, as
tests/scenarios/test_sN_*.py checks them through the services.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sogla.demo.services import demo_load
from sogla.documents.models import Counterparty
from sogla.notifications.models import Notification
from sogla.orgs.models import Organisation, User
from sogla.workflow import services
from sogla.workflow.models import Task, Timer
from tests.api.conftest import API, ApiClient, token_client
from tests.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")


def user(username: str) -> User:
    return User.objects.get(organisation__slug="argo", username=username)


def party(name_part: str) -> int:
    return Counterparty.objects.get(
        organisation__slug="argo", name__contains=name_part
    ).pk


def codes(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


@pytest.fixture
def argo(db: None) -> Organisation:
    report = demo_load(today=timezone.localdate(timezone=MOSCOW))
    assert report.warnings == []
    return Organisation.objects.get(slug="argo")


class Flow:
    """One document of the demo driven through the API, a token per person."""

    def __init__(self) -> None:
        self.clients: dict[str, ApiClient] = {}
        self.doc_id = 0
        self.process_id = 0

    def api(self, username: str) -> ApiClient:
        if username not in self.clients:
            self.clients[username] = token_client(user(username))
        return self.clients[username]

    # --- create and start -------------------------------------------------------------

    def create(
        self,
        initiator: str,
        doc_type: str,
        fields: dict[str, Any],
        files: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A draft with its fields, then its files (field key -> file name)."""
        api = self.api(initiator)
        created = api.post("/documents", {"doc_type": doc_type, "fields": fields})
        assert created.status_code == 201, created.json()
        self.doc_id = created.json()["id"]
        for field_key, name in (files or {}).items():
            self.upload(initiator, field_key, name)
        return dict(created.json())

    def upload(
        self, username: str, field_key: str, name: str, extra: bytes = b""
    ) -> Any:
        api = self.api(username)
        return api.client.post(
            f"{API}/documents/{self.doc_id}/files",
            {
                "file": SimpleUploadedFile(name, MINIMAL_PDF + extra),
                "field_key": field_key,
            },
            headers=api.headers,
        )

    def preview(self, username: str, route: str) -> dict[str, list[str]]:
        """The suggested route's preview: stage key -> names of who is asked
        (``-`` for a skipped stage, ``?`` marks a stage that depends on answers)."""
        response = self.api(username).get(f"/documents/{self.doc_id}/routes")
        assert response.status_code == 200, response.json()
        (option,) = [r for r in response.json() if r["suggested"]]
        assert option["key"] == route
        shown: dict[str, list[str]] = {}
        for stage in option["preview"]:
            if not stage["runs"]:
                shown[stage["key"]] = ["?" if stage["tentative"] else "-"]
                continue
            shown[stage["key"]] = [
                p["user"]["name"] if p["user"] else p["email"]
                for step in stage["steps"]
                if step["runs"]
                for p in step["participants"]
            ]
        return shown

    def start(self, initiator: str, route: str) -> dict[str, Any]:
        response = self.api(initiator).post(
            f"/documents/{self.doc_id}/process", {"route": route}
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        self.process_id = body["id"]
        assert body["status"] == "running"
        return dict(body)

    # --- tasks ----------------------------------------------------------------------

    def my_tasks(self, username: str) -> list[dict[str, Any]]:
        """My open tasks on this document, from the inbox list."""
        response = self.api(username).get("/tasks?tab=mine&limit=100")
        assert response.status_code == 200, response.json()
        body = response.json()
        mine = [t for t in body["items"] if t["document"]["id"] == self.doc_id]
        assert body["counts"]["mine"] >= len(mine)
        return mine

    def decide(
        self,
        username: str,
        outcome: str = "approve",
        comment: str = "",
        fields: dict[str, Any] | None = None,
        *,
        step: str = "",
    ) -> dict[str, Any]:
        tasks = self.my_tasks(username)
        if step:
            tasks = [t for t in tasks if t["step"] == step]
        (task,) = tasks
        api = self.api(username)
        detail = api.get(f"/tasks/{task['id']}")
        assert detail.status_code == 200, detail.json()
        assert outcome in detail.json()["outcomes"], detail.json()
        for key in fields or {}:
            assert key in [f["key"] for f in detail.json()["fields"]], detail.json()
        body = {
            "outcome": outcome,
            "comment": comment,
            "fields": fields or {},
            "request_id": uuid.uuid4().hex,
        }
        response = api.post(f"/tasks/{task['id']}/decision", body)
        if response.status_code == 422 and response.json()["errors"][0]["code"] == (
            "code_required"
        ):
            # A signing step: ask for a one-time code, read it from the mail, decide.
            sent = api.post(f"/tasks/{task['id']}/challenge", {"outcome": outcome})
            assert sent.status_code == 201, sent.json()
            code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
            assert code is not None
            body |= {"challenge_id": sent.json()["challenge_id"], "code": code[1]}
            response = api.post(f"/tasks/{task['id']}/decision", body)
        assert response.status_code == 200, response.json()
        decided = response.json()
        assert (decided["state"], decided["outcome"]) == ("done", outcome)
        # The same request again is harmless and answers the same.
        again = api.post(f"/tasks/{task['id']}/decision", body)
        assert (again.status_code, again.json()) == (200, decided)
        return dict(decided)

    def waiting_on(self, reader: str) -> list[str]:
        return [w["assignee"]["name"] for w in self.process(reader)["waiting"]]

    # --- reads ----------------------------------------------------------------------

    def process(self, reader: str) -> dict[str, Any]:
        response = self.api(reader).get(f"/documents/{self.doc_id}/process")
        assert response.status_code == 200, response.json()
        return dict(response.json())

    def colours(self, reader: str) -> list[tuple[str, str]]:
        return [(s["key"], s["colour"]) for s in self.process(reader)["stages"]]

    def document(self, reader: str) -> dict[str, Any]:
        response = self.api(reader).get(f"/documents/{self.doc_id}")
        assert response.status_code == 200, response.json()
        return dict(response.json())

    def verbs(self, reader: str) -> list[str]:
        response = self.api(reader).get(f"/documents/{self.doc_id}/history")
        assert response.status_code == 200, response.json()
        return [e["verb"] for e in response.json()]


def short(username: str) -> str:
    return user(username).short_name


def finished(flow: Flow, reader: str, status: str) -> dict[str, Any]:
    card = flow.process(reader)
    assert card["status"] == "approved"
    assert card["waiting"] == []
    assert card["finished_at"] is not None
    assert flow.document(reader)["status"]["key"] == status
    return card


# --- S2 -------------------------------------------------------------------------------


def test_s2_theatre_contract_returned_then_every_fund_controller_approves(
    argo: Organisation,
) -> None:
    flow = Flow()
    flow.create(
        "manager",
        "theatre_contract",
        {
            "direction": "expense",
            "contract_type": "materials",
            "subject": "Ткани для декораций",
            "funding_source": "commercial_fund",
            "amount": "480000.00",
            "counterparty": party("Невский"),
        },
    )
    # The contract file is required: the start waits for it.
    refused = flow.api("manager").post(
        f"/documents/{flow.doc_id}/process", {"route": "theatre-contract"}
    )
    assert (refused.status_code, codes(refused)) == (
        422,
        [("contract_file", "required")],
    )
    assert flow.upload("manager", "contract_file", "contract.pdf").status_code == 201
    preview = flow.preview("manager", "theatre-contract")
    assert preview["review"] == [
        short(u) for u in ("lawyer", "cfo", "chief-accountant", "engineer")
    ]
    assert sorted(preview["fund"]) == sorted(
        short(u) for u in ("cfo", "chief-accountant", "commercial")
    )
    flow.start("manager", "theatre-contract")
    assert flow.colours("manager") == [
        ("review", "waiting"),
        ("fund", "not_started"),
        ("invoice", "not_started"),
    ]

    flow.decide("lawyer")
    flow.decide("cfo", "approve_with_remarks", "Проверить сроки поставки")
    flow.decide("chief-accountant")
    flow.decide("engineer", "return", "Нужна спецификация тканей")
    card = flow.process("manager")
    assert card["status"] == "revision"
    assert card["revision_task"]["assignee"]["id"] == user("manager").pk
    # The theatre contract's own «На доработке» status while in revision.
    assert flow.document("manager")["status"]["key"] == "returned"

    # The initiator fixes a field (the file stays the same) and resubmits.
    fixed = flow.api("manager").patch(
        f"/documents/{flow.doc_id}",
        {"fields": {"subject": "Ткани для декораций: бархат, 120 м"}},
    )
    assert fixed.status_code == 200, fixed.json()
    resubmitted = flow.api("manager").post(
        f"/processes/{flow.process_id}/resubmit",
        {"comment": "Спецификация в предмете договора"},
    )
    assert resubmitted.status_code == 200, resubmitted.json()
    body = resubmitted.json()
    assert (body["status"], body["round"]) == ("running", 2)
    # reask "not_approved": the three approvals carry over, the engineer is asked
    review = body["stages"][0]
    carried = [
        t["assignee"]["id"]
        for step in review["steps"]
        for t in step["tasks"]
        if t["carried_over"]
    ]
    assert sorted(carried) == sorted(
        user(u).pk for u in ("lawyer", "cfo", "chief-accountant")
    )
    assert flow.waiting_on("manager") == [short("engineer")]
    flow.decide("engineer")

    # Every controller of the fund (quorum "all").
    assert sorted(flow.waiting_on("manager")) == sorted(
        short(u) for u in ("cfo", "chief-accountant", "commercial")
    )
    flow.decide("cfo")
    flow.decide("commercial")
    assert flow.waiting_on("manager") == [short("chief-accountant")]
    assert flow.my_tasks("director") == []
    flow.decide("chief-accountant")
    flow.decide("director", step="ceo")

    card = finished(flow, "manager", "signed")
    assert card["round"] == 2
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("review", "done"),
        ("fund", "done"),
        ("invoice", "done"),
    ]
    verbs = flow.verbs("manager")
    assert verbs.count("task.decided") == 9, verbs
    assert verbs[-1] == "process.finished"


# --- S3 -------------------------------------------------------------------------------


def test_s3_payment_without_the_executive_director(argo: Organisation) -> None:
    flow = Flow()
    flow.create(
        "technician",
        "payment",
        {
            "amount": "36000.00",
            "purpose": "Ремонт кровли",
            "payee": party("СтройСервис"),
        },
        files={"invoice": "invoice.pdf"},
    )
    preview = flow.preview("technician", "payment")
    assert preview["cfo"] == [short("cfo")]
    assert preview["executive"] == ["?"]  # depends on the CFO's answer
    flow.start("technician", "payment")
    assert flow.document("technician")["status"]["key"] == "on_approval"

    flow.decide("cfo")
    # The answer is required.
    (question,) = flow.my_tasks("cfo")
    detail = flow.api("cfo").get(f"/tasks/{question['id']}").json()
    assert detail["required_fields"] == ["exec_director_needed"]
    missing = flow.api("cfo").post(
        f"/tasks/{question['id']}/decision",
        {"outcome": "done", "request_id": uuid.uuid4().hex},
    )
    assert (missing.status_code, codes(missing)) == (
        422,
        [("exec_director_needed", "required")],
    )
    flow.decide("cfo", "done", fields={"exec_director_needed": False})
    assert flow.document("technician")["status"]["key"] == "to_pay"
    assert flow.colours("technician")[2] == ("executive", "skipped")
    flow.decide("accountant", "done")
    assert flow.document("technician")["status"]["key"] == "awaiting_act"

    # Provide the act: "done" without it is refused.
    (act_task,) = flow.my_tasks("technician")
    assert act_task["step"] == "provide_act"
    no_act = flow.api("technician").post(
        f"/tasks/{act_task['id']}/decision",
        {"outcome": "done", "request_id": uuid.uuid4().hex},
    )
    assert (no_act.status_code, codes(no_act)) == (422, [("act", "required")])
    # The document's files are locked during approval; the task takes its act.
    locked = flow.upload("technician", "act", "act.pdf", b"%act")
    assert locked.status_code == 403
    api = flow.api("technician")
    uploaded = api.client.post(
        f"{API}/tasks/{act_task['id']}/files",
        {
            "file": SimpleUploadedFile("act.pdf", MINIMAL_PDF + b"%act"),
            "field_key": "act",
        },
        headers=api.headers,
    )
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["version"] == 1
    wrong = api.client.post(
        f"{API}/tasks/{act_task['id']}/files",
        {"file": SimpleUploadedFile("x.pdf", MINIMAL_PDF), "field_key": "amount"},
        headers=api.headers,
    )
    assert (wrong.status_code, codes(wrong)) == (422, [("amount", "unknown_field")])
    flow.decide("technician", "done")

    card = finished(flow, "technician", "done")
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("cfo", "done"),
        ("cfo_question", "done"),
        ("executive", "skipped"),
        ("invoice", "done"),
        ("act", "done"),
    ]
    files = flow.api("technician").get(f"/documents/{flow.doc_id}/files").json()
    assert sorted(f["field_key"] for f in files) == ["act", "invoice"]


def test_s3_the_cfo_rejects(argo: Organisation) -> None:
    flow = Flow()
    flow.create(
        "technician",
        "payment",
        {
            "amount": "36000.00",
            "purpose": "Ремонт кровли",
            "payee": party("СтройСервис"),
        },
        files={"invoice": "invoice.pdf"},
    )
    flow.start("technician", "payment")
    no_comment = flow.api("cfo").post(
        f"/tasks/{flow.my_tasks('cfo')[0]['id']}/decision",
        {"outcome": "reject", "request_id": uuid.uuid4().hex},
    )
    assert codes(no_comment) == [("comment", "required")]
    flow.decide("cfo", "reject", "Нет бюджета")
    card = flow.process("technician")
    assert card["status"] == "rejected"
    assert card["stages"][0]["colour"] == "rejected"
    assert flow.document("technician")["status"]["key"] == "rejected"
    assert Notification.objects.filter(
        document_id=flow.doc_id,
        kind="workflow.rejected",
        recipient_user__username="technician",
    ).exists()


# --- S4 -------------------------------------------------------------------------------


def test_s4_remote_work_needs_a_justification_and_ends_with_the_manager(
    argo: Organisation,
) -> None:
    flow = Flow()
    fields = {
        "reason": "remote",
        "date_from": "2026-04-06",
        "date_to": "2026-04-10",
        "notify": [user("seo").pk, user("designer").pk],
    }
    refused = flow.api("author").post(
        "/documents", {"doc_type": "absence", "fields": fields}
    )
    assert (refused.status_code, codes(refused)) == (
        422,
        [("justification", "required")],
    )
    flow.create("author", "absence", {**fields, "justification": "Ремонт в квартире"})
    # the author has no manager of her own: the head of marketing approves
    preview = flow.preview("author", "absence")
    assert preview["manager"] == [short("editor")]
    assert preview["paperwork"] == ["-"]
    flow.start("author", "absence")
    flow.decide("editor")

    card = finished(flow, "author", "approved")
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("manager", "done"),
        ("paperwork", "skipped"),
        ("signature", "skipped"),
    ]
    told = set(
        Notification.objects.filter(
            document_id=flow.doc_id, kind="workflow.route_notice"
        ).values_list("recipient_user__username", flat=True)
    )
    assert told == {"seo", "designer"}


def test_s4_vacation_goes_to_the_accountant_and_back(argo: Organisation) -> None:
    flow = Flow()
    flow.create(
        "author",
        "absence",
        {"reason": "vacation", "date_from": "2026-04-06", "date_to": "2026-04-10"},
    )
    flow.start("author", "absence")
    flow.decide("editor")
    assert flow.document("author")["status"]["key"] == "in_work"
    flow.decide("accountant", "done")
    flow.decide("author", "done")
    card = finished(flow, "author", "approved")
    assert [s["colour"] for s in card["stages"]] == ["done", "done", "done"]


# --- S5 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("department", "head"), [("engineering", "engineer"), ("sales", "commercial")]
)
def test_s5_hiring_with_the_departments_head_as_manager(
    argo: Organisation, department: str, head: str
) -> None:
    flow = Flow()
    flow.create(
        "hr",
        "hiring",
        {
            "candidate_name": "Петров Пётр Петрович",
            "department": department,
            "position": "Специалист",
        },
    )
    assert flow.preview("hr", "hiring")["documents"] == [short(head)]
    flow.start("hr", "hiring")
    assert flow.document("hr")["status"]["key"] == "in_work"
    flow.decide(
        head, "done", fields={"interview_date": "2026-03-16", "interview_time": "10:00"}
    )
    flow.decide(head, "done")
    flow.decide("accountant", "done")
    flow.decide("it", "done", fields={"email": "p.petrov@argo.example"})
    invitation = Notification.objects.get(
        document_id=flow.doc_id, recipient_email="p.petrov@argo.example"
    )
    assert invitation.recipient_user is None
    flow.decide("office", "done")
    flow.decide(head, "done", fields={"start_date": "2026-04-01"})

    card = finished(flow, "hr", "done")
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("interview", "done"),
        ("documents", "done"),
        ("package", "done"),
        ("accesses", "done"),
        ("invitation", "done"),
        ("workplace", "done"),
        ("onboarding", "done"),
    ]
    values = flow.document("hr")["fields"]
    assert values["email"] == "p.petrov@argo.example"
    assert values["start_date"] == "2026-04-01"
    assert flow.verbs("hr").count("task.decided") == 6


# --- S6 -------------------------------------------------------------------------------


def test_s6_article_with_expert_seo_author_and_designer(argo: Organisation) -> None:
    flow = Flow()
    flow.create(
        "editor",
        "article",
        {
            "topic": "Как мы ремонтировали кровлю",
            "author": user("author").pk,
            "expert_needed": True,
            "seo_needed": True,
        },
    )
    flow.start("editor", "article")
    assert flow.document("editor")["status"]["key"] == "preparation"
    flow.decide("editor", "done", fields={"expert": user("engineer").pk})
    flow.decide("seo", "done", fields={"seo_brief": "Ключевые слова: кровля"})
    assert flow.document("editor")["status"]["key"] == "writing"
    flow.decide("author", "done", fields={"expert_comment": "Главное — водосток"})
    flow.decide("author", "done", fields={"text_link": "https://docs.argo.example/1"})
    flow.decide("art-director", "done", fields={"designer": user("designer").pk})
    flow.decide(
        "designer", "done", fields={"image_links": "https://img.argo.example/1.png"}
    )
    flow.decide("editor", "done")

    card = finished(flow, "editor", "published")
    assert [s["colour"] for s in card["stages"]] == ["done"] * 6
    document = flow.document("editor")
    assert document["folder_id"] is not None
    assert document["fields"] == {
        "topic": "Как мы ремонтировали кровлю",
        "author": user("author").pk,
        "expert_needed": True,
        "seo_needed": True,
        "expert": user("engineer").pk,
        "seo_brief": "Ключевые слова: кровля",
        "expert_comment": "Главное — водосток",
        "text_link": "https://docs.argo.example/1",
        "designer": user("designer").pk,
        "image_links": "https://img.argo.example/1.png",
    }
    assert flow.verbs("editor")[-2:] == ["process.finished", "process.filed"]


# --- S7 -------------------------------------------------------------------------------


def letter(flow: Flow, sender: str, responsible: str) -> datetime:
    today = timezone.localdate(timezone=MOSCOW)
    control = today + timedelta(days=14)
    while control.weekday() >= 5:
        control += timedelta(days=1)
    flow.create(
        "office",
        "incoming_letter",
        {
            "addressee_entity": "hotel",
            "sender": party(sender),
            "sender_number": "78-01/1234",
            "summary": "Предписание о проверке",
            "received_date": today.isoformat(),
            "control_date": control.isoformat(),
            "responsible": user(responsible).pk,
        },
        files={"letter_file": "letter.pdf"},
    )
    flow.start("office", "incoming-letter")
    return datetime.combine(control, datetime.min.time().replace(hour=18), MOSCOW)


def test_s7_government_letter_resolution_lawyer_and_co_executors(
    argo: Organisation,
) -> None:
    flow = Flow()
    control_due = letter(flow, "Роспотребнадзор", "engineer")
    assert flow.document("office")["status"]["key"] == "in_work"
    flow.decide(
        "director",
        "done",
        fields={
            "resolution": "Подготовить ответ",
            "co_executors": [user("technician").pk],
        },
    )
    flow.decide("lawyer", "done")
    assert sorted(flow.waiting_on("office")) == sorted(
        [short("engineer"), short("technician")]
    )
    flow.decide("engineer", "done")
    assert flow.process("office")["status"] == "running"
    flow.decide("technician", "done")

    card = finished(flow, "office", "answered")
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("resolution", "done"),
        ("legal", "done"),
        ("execution", "done"),
    ]
    dues = {
        datetime.fromisoformat(t["due_at"])
        for s in card["stages"]
        for step in s["steps"]
        for t in step["tasks"]
    }
    assert dues == {control_due}
    assert flow.document("office")["folder_id"] is not None


def test_s7_tenant_letter_goes_to_the_responsible_person_and_director(
    argo: Organisation,
) -> None:
    flow = Flow()
    letter(flow, "Лофт", "manager")
    assert sorted(flow.waiting_on("office")) == sorted(
        [short("manager"), short("executive")]
    )
    flow.decide("manager", "done")
    flow.decide("executive", "done")
    card = finished(flow, "office", "answered")
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("resolution", "skipped"),
        ("legal", "skipped"),
        ("execution", "done"),
    ]


# --- S8 -------------------------------------------------------------------------------


def test_s8_outgoing_letter_waits_for_the_control_date(argo: Organisation) -> None:
    today = timezone.localdate(timezone=MOSCOW)
    control = today + timedelta(days=14)
    flow = Flow()
    flow.create(
        "office",
        "outgoing_letter",
        {
            "sender_entity": "hotel",
            "recipient": party("Балтийские"),
            "summary": "Предложение о групповом размещении",
            "document_date": today.isoformat(),
            "control_date": control.isoformat(),
            "executor": user("manager").pk,
        },
        files={"letter_file": "letter.pdf"},
    )
    flow.start("office", "outgoing-letter")
    flow.decide("manager")
    assert flow.document("office")["status"]["key"] == "sent"
    card = flow.process("office")
    assert card["status"] == "running"
    assert [(s["key"], s["colour"]) for s in card["stages"]] == [
        ("check", "done"),
        ("waiting", "waiting"),
        ("outcome", "not_started"),
    ]
    assert flow.my_tasks("manager") == []

    # The worker's sweep after the control date opens the outcome task.
    wait = Timer.objects.get(process_id=flow.process_id, kind="wait")
    assert services.timers_fire_due(now=wait.due_at + timedelta(minutes=1), limit=1000)
    assert flow.colours("office")[1:] == [("waiting", "done"), ("outcome", "waiting")]
    flow.decide("manager", "done", fields={"outcome": "Получатель согласился"})

    card = finished(flow, "office", "done")
    assert [s["colour"] for s in card["stages"]] == ["done", "done", "done"]
    assert flow.document("office")["fields"]["outcome"] == "Получатель согласился"
    assert not Task.objects.filter(process_id=flow.process_id, state="open").exists()
