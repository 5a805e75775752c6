"""docs/api-examples.md: a worked example (request and answer) of every write
operation, checked against the OpenAPI schema and executed.

Each example is marked ``<!-- example: <operationId> as=<who> status=<code> -->``.
The test checks that every write operation of the OpenAPI has one; that each
request body validates against the operation's request schema and each answer
against its response schema; and it runs the examples in order, as the person named,
against a test client, expecting the documented status. Ids in the examples are
those of the run that wrote the file; the run puts its own objects' ids in their
place (``Step.path`` and ``Step.bind``).

To write the file again after an API change:
``SOGLA_WRITE_API_EXAMPLES=1 .venv/bin/pytest tests/api/test_api_examples.py``.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# jsonschema comes with schemathesis (pinned in the dev extra)
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from sogla.notifications.delivery import notifications_deliver_due
from sogla.orgs.models import User
from sogla.workflow.models import Task, TaskState
from tests.api.conftest import API, ApiClient, token_client
from tests.conftest import MINIMAL_PDF, Tenant
from tests.external.conftest import GUEST
from tests.workflow.conftest import approve, person, route, stage

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api-examples.md"
MARK = re.compile(r"<!-- example: (\w+) as=(\w+) status=(\d+) -->")
WRITE = {"post", "put", "patch", "delete"}


# --- the world the examples run in -------------------------------------------------------


@dataclass
class World:
    tenant: Tenant
    people: dict[str, User]
    clients: dict[str, ApiClient]
    ids: dict[str, Any] = field(default_factory=dict)

    def open_task(self, who: str, **extra: Any) -> Task:
        return Task.objects.filter(
            assignee=self.people[who], state=TaskState.OPEN, **extra
        ).latest("id")


def _world(tenant: Tenant) -> World:
    tenant.org.language = "en"
    tenant.org.save(update_fields=["language"])
    people = {
        "admin": tenant.admin,
        "initiator": tenant.initiator,
        "head": User.objects.get(username="alpha-head"),
        "colleague": tenant.colleague,
        "ceo": person(tenant, "ceo", first_name="Olga", last_name="Direktorova"),
    }
    for user in people.values():
        if not user.first_name:
            user.first_name, user.last_name = "Anna", user.username.title()
            user.save()
    clients = {who: token_client(user) for who, user in people.items()}
    return World(tenant, people, clients)


# The route of the examples: the department head approves; the colleague does a task
# (and files its act); then a guest approves while the CEO signs with a one-time code.
ROUTE = route(
    stage("manager", approve("head", {"department_head": "initiator"})),
    stage(
        "act", {"key": "act", "kind": "task", "assignee": {"user": "alpha-colleague"}}
    ),
    stage(
        "sign",
        approve("partner", {"guests": [GUEST]}),
        {**approve("ceo", {"user": "alpha-ceo"}), "kind": "sign"},
    ),
    key="contract-short",
    on_return={"restart": "first_stage", "reask": "all", "initiator_may_edit": True},
)


def _decide(w: World, who: str, outcome: str = "approve") -> None:
    task = w.open_task(who)
    answer = w.clients[who].post(
        f"/tasks/{task.pk}/decision", {"outcome": outcome, "request_id": f"x{task.pk}"}
    )
    assert answer.status_code == 200, answer.content


def _decide_all(w: World, *who: str) -> None:
    for name in who:
        _decide(w, name)


def _guest_task() -> int:
    return Task.objects.get(guest_email=GUEST, state=TaskState.OPEN).pk


def _latest_link() -> int:
    from sogla.external.models import GuestLink

    return GuestLink.objects.filter(revoked_at=None).latest("id").pk


@dataclass
class Step:
    """One example: who calls the operation, its path's values and ids in the body
    taken from this run (``bind``), what runs before it (``before``)."""

    operation: str
    who: str
    body: dict[str, Any] | None
    path: Callable[[World], dict[str, Any]] = lambda _w: {}
    bind: Callable[[World, dict[str, Any]], None] = lambda _w, _b: None
    before: Callable[[World], object] = lambda _w: None
    after: Callable[[World, Any], None] = lambda _w, _a: None
    title: str = ""


def _set(
    key: str, value: Callable[[World], Any]
) -> Callable[[World, dict[str, Any]], None]:
    def bind(w: World, body: dict[str, Any]) -> None:
        body[key] = value(w)

    return bind


def _remember(name: str, key: str = "id") -> Callable[[World, Any], None]:
    def after(w: World, answer: Any) -> None:
        w.ids[name] = answer.json()[key]

    return after


def _counterparty_field(w: World, body: dict[str, Any]) -> None:
    body["fields"]["counterparty"] = w.ids["counterparty"]


def _revision_changes(w: World, body: dict[str, Any]) -> None:
    body["changes"]["add"] = {"manager.head": [w.people["colleague"].pk]}


def _far_deadline(w: World, body: dict[str, Any]) -> None:
    """The head's new deadline: in the future whenever the examples run."""
    from datetime import timedelta

    from django.utils import timezone

    due = timezone.now().replace(microsecond=0) + timedelta(days=40)
    body["due_at"] = due.isoformat()
    body["due_for"] = [w.people["head"].pk]


def _second_document(w: World) -> None:
    created = w.clients["initiator"].post(
        "/documents",
        {"doc_type": "contract", "fields": {"subject": "Lease", "amount": "1"}},
    )
    assert created.status_code == 201, created.content
    w.ids["draft"] = created.json()["id"]


def _carried_approval(w: World) -> None:
    """A second document on a route that carries approvals over even when the
    files changed: the head approved v1, the colleague returned it, v2 was
    uploaded and resubmitted; the head's approval is carried over."""
    from sogla.documents.services import NewFile, file_add
    from sogla.documents.uploads import bytes_upload
    from sogla.workflow import services
    from tests.workflow.conftest import make_document, publish, start

    template = publish(
        w.tenant,
        route(
            stage("manager", approve("head", {"department_head": "initiator"})),
            stage(
                "act",
                {"key": "act", "kind": "task", "assignee": {"user": "alpha-colleague"}},
            ),
            key="contract-rework",
            on_return={"reask": "not_approved_even_if_changed"},
        ),
        key="contract-rework",
    )
    document = make_document(w.tenant, subject="Rework")
    new = NewFile(bytes_upload("files", "rework.pdf", MINIMAL_PDF))
    version = file_add(actor=w.people["initiator"], document=document, new=new)
    process = start(w.tenant, template, document)
    _decide(w, "head")
    task = w.open_task("colleague")
    answer = w.clients["colleague"].post(
        f"/tasks/{task.pk}/decision",
        {"outcome": "return", "comment": "Wrong date.", "request_id": "rework-1"},
    )
    assert answer.status_code == 200, answer.content
    file_add(
        actor=w.people["initiator"],
        document=document,
        new=NewFile(bytes_upload("files", "rework.pdf", MINIMAL_PDF + b"%v2")),
        file=version.file,
    )
    services.process_resubmit(actor=w.people["initiator"], process=process.pk)
    w.ids["carried"] = Task.objects.get(
        process=process, round=2, state=TaskState.CARRIED_OVER
    ).pk


STEPS: list[Step] = [
    Step(
        "me_token_create",
        "initiator",
        {"name": "CI"},
        after=_remember("token"),
        title="Create a personal API token (shown once)",
    ),
    Step(
        "me_token_revoke",
        "initiator",
        None,
        path=lambda w: {"token_id": w.ids["token"]},
        title="Revoke a token",
    ),
    Step(
        "department_create",
        "admin",
        {
            "code": "north",
            "name": "Северные продажи",
            "name_en": "North sales",
            "parent": "sales",
            "head": 4,
        },
        bind=_set("head", lambda w: w.people["colleague"].pk),
        title="Create a department (administrators)",
    ),
    Step(
        "department_update",
        "admin",
        {"name_en": "Northern sales", "parent": None},
        path=lambda _w: {"code": "north"},
        title="Rename or move a department",
    ),
    Step(
        "role_create",
        "admin",
        {"key": "lawyer", "name_ru": "Юрист", "name_en": "Lawyer", "members": [4]},
        bind=_set("members", lambda w: [w.people["colleague"].pk]),
        title="Create a role with its members (user ids)",
    ),
    Step(
        "role_update",
        "admin",
        {"members": [3]},
        path=lambda _w: {"key": "lawyer"},
        bind=_set("members", lambda w: [w.people["initiator"].pk]),
        title="Change a role's members",
    ),
    Step("position_create", "admin", {"name": "Lawyer"}, title="Add a job title"),
    Step(
        "calendar_update",
        "admin",
        {
            "working_weekdays": [0, 1, 2, 3, 4],
            "day_starts": "09:00:00",
            "day_ends": "18:00:00",
            "use_public_holidays": True,
        },
        title="Set the working week and hours",
    ),
    Step(
        "calendar_day_set",
        "admin",
        {"is_working": True, "name": "Transfer day"},
        path=lambda _w: {"day": "2027-01-09"},
        title="Make a date an exception",
    ),
    Step(
        "calendar_day_remove",
        "admin",
        None,
        path=lambda _w: {"day": "2027-01-09"},
        title="Remove an exception day",
    ),
    Step(
        "document_type_create",
        "admin",
        {
            "key": "invoice",
            "name_ru": "Счёт",
            "name_en": "Invoice",
            "prefix": "INV",
            "fields": [
                {
                    "key": "amount",
                    "label_ru": "Сумма",
                    "label_en": "Amount",
                    "kind": "money",
                    "required": True,
                },
                {
                    "key": "due",
                    "label_ru": "Оплатить до",
                    "label_en": "Pay by",
                    "kind": "date",
                },
            ],
        },
        title="Create a document type with fields (administrators)",
    ),
    Step(
        "document_type_update",
        "admin",
        {"title_template": "{type} {number} · {amount}", "confidential": True},
        path=lambda _w: {"key": "invoice"},
        title="Change a document type",
    ),
    Step(
        "document_type_field_add",
        "admin",
        {"key": "paid", "label_ru": "Оплачен", "label_en": "Paid", "kind": "bool"},
        path=lambda _w: {"key": "invoice"},
        title="Add a field to a type",
    ),
    Step(
        "document_type_status_add",
        "admin",
        {
            "key": "paid",
            "name_ru": "Оплачен",
            "name_en": "Paid",
            "meaning": "success",
            "token": "approved",
        },
        path=lambda _w: {"key": "invoice"},
        title="Add a status to a type",
    ),
    Step(
        "document_type_status_remove",
        "admin",
        None,
        path=lambda _w: {"key": "invoice", "status": "paid"},
        title="Remove a status no document is in",
    ),
    Step(
        "counterparty_create",
        "initiator",
        {
            "name": "ООО «Ромашка»",
            "tax_id": "7707083893",
            "kpp": "773601001",
            "category": "customer",
            "contacts": [{"name": "Мария Петрова", "email": "maria@romashka.example"}],
        },
        after=_remember("counterparty"),
        title="Create a counterparty",
    ),
    Step(
        "counterparty_update",
        "initiator",
        {"address": "Москва, ул. Ленина, 1"},
        path=lambda w: {"counterparty_id": w.ids["counterparty"]},
        title="Change a counterparty",
    ),
    Step(
        "document_create",
        "initiator",
        {
            "doc_type": "contract",
            "fields": {
                "subject": "Supply of paper",
                "amount": "125000.00",
                "end_date": "2027-12-31",
                "counterparty": 1,
            },
        },
        bind=_counterparty_field,
        after=_remember("document"),
        title="Create a draft document",
    ),
    Step(
        "document_update",
        "initiator",
        {"fields": {"amount": "120000.00"}},
        path=lambda w: {"document_id": w.ids["document"]},
        title="Change a draft's fields",
    ),
    Step(
        "document_file_upload",
        "initiator",
        {"field_key": "contract_file"},
        path=lambda w: {"document_id": w.ids["document"]},
        after=_remember("file", "file_id"),
        title="Upload a file (multipart/form-data; `file_id` adds a version)",
    ),
    Step(
        "route_create",
        "admin",
        {
            "key": "contract-short",
            "doc_type": "contract",
            "name_ru": "Договор, кратко",
            "name_en": "Contract, short",
            "owner": "alpha-admin",
            "definition": ROUTE,
        },
        title="Create a route template with its first draft (administrators)",
    ),
    Step(
        "route_draft_save",
        "admin",
        {"definition": ROUTE},
        path=lambda _w: {"key": "contract-short"},
        title="Save the route's draft (answers its problems)",
    ),
    Step(
        "route_publish",
        "admin",
        None,
        path=lambda _w: {"key": "contract-short"},
        title="Publish the draft",
    ),
    Step(
        "process_start",
        "initiator",
        {"route": "contract-short"},
        path=lambda w: {"document_id": w.ids["document"]},
        after=_remember("process"),
        title="Send the document for approval",
    ),
    Step(
        "document_message_post",
        "initiator",
        {
            "text": "The **penalty clause** follows the supplier's draft.",
            "for_guests": False,
        },
        path=lambda w: {"document_id": w.ids["document"]},
        after=_remember("message"),
        title="Post a message to the document's discussion (`parent_id`: a reply)",
    ),
    Step(
        "document_message_edit",
        "initiator",
        {"text": "The **penalty clause** follows the supplier's draft of 1 December."},
        path=lambda w: {
            "document_id": w.ids["document"],
            "message_id": w.ids["message"],
        },
        title="Edit one's own message (within 15 minutes)",
    ),
    Step(
        "document_message_delete",
        "initiator",
        None,
        path=lambda w: {
            "document_id": w.ids["document"],
            "message_id": w.ids["message"],
        },
        title="Delete one's own message",
    ),
    Step(
        "task_decide",
        "head",
        {
            "outcome": "return",
            "comment": "Clarify the penalty clause.",
            "request_id": "3f1c2a9e-return-1",
        },
        path=lambda w: {"task_id": w.open_task("head").pk},
        title="Decide a task (here: return it for revision)",
    ),
    Step(
        "process_resubmit",
        "initiator",
        {
            "comment": "Penalty clarified.",
            "changes": {"add": {"manager.head": [4]}, "remove": {}, "due": {}},
            "reask": "all",
        },
        path=lambda w: {"process_id": w.ids["process"]},
        bind=_revision_changes,
        title="Send a returned document again (a new round)",
    ),
    Step(
        "process_remind",
        "initiator",
        None,
        path=lambda w: {"process_id": w.ids["process"]},
        title="Remind the people the approval waits on",
    ),
    Step(
        "process_participants_change",
        "admin",
        {
            "stage": "manager",
            "step": "head",
            "due_at": "2027-01-15T18:00:00+03:00",
            "due_for": [3],
        },
        path=lambda w: {"process_id": w.ids["process"]},
        bind=_far_deadline,
        title="Change a running step's people: add, remove, or move a pending "
        "deadline (owner or administrator)",
    ),
    Step(
        "task_reassign",
        "admin",
        {"to_user": 5},
        path=lambda w: {"task_id": w.open_task("colleague").pk},
        bind=_set("to_user", lambda w: w.people["ceo"].pk),
        title="Give an open task to someone else (owner or administrator)",
    ),
    Step(
        "task_file_upload",
        "colleague",
        {"field_key": ""},
        before=lambda w: _decide_all(w, "head", "ceo"),
        path=lambda w: {"task_id": w.open_task("colleague").pk},
        title="Attach a result file to my open task (multipart/form-data)",
    ),
    Step(
        "guest_link_send",
        "initiator",
        None,
        before=lambda w: _decide(w, "colleague", "done"),
        path=lambda _w: {"task_id": _guest_task()},
        title="Invite a guest again (a new link; older ones stop working)",
    ),
    Step(
        "guest_link_revoke",
        "initiator",
        None,
        before=lambda _w: notifications_deliver_due(),
        path=lambda _w: {"link_id": _latest_link()},
        title="Revoke one link",
    ),
    Step(
        "guest_links_revoke",
        "initiator",
        None,
        path=lambda _w: {"task_id": _guest_task()},
        title="Revoke every link of a guest's task",
    ),
    Step(
        "task_challenge",
        "ceo",
        {"outcome": "approve"},
        path=lambda w: {"task_id": w.open_task("ceo").pk},
        title="Ask for a one-time code to confirm a signature",
    ),
    Step(
        "task_codes_unlock",
        "initiator",
        {"person": "user:6"},
        path=lambda w: {"task_id": w.open_task("ceo").pk},
        bind=_set("person", lambda w: f"user:{w.people['ceo'].pk}"),
        title="Let a person locked out of codes try again",
    ),
    Step(
        "notifications_mark_read",
        "initiator",
        {"ids": [12, 13]},
        bind=_set(
            "ids",
            lambda w: list(
                __import__("sogla.notifications.models", fromlist=["Notification"])
                .Notification.objects.filter(recipient_user=w.people["initiator"])
                .values_list("pk", flat=True)[:2]
            ),
        ),
        title="Mark notifications read (omit `ids`: all)",
    ),
    Step(
        "process_cancel",
        "initiator",
        {"reason": "The supplier withdrew."},
        path=lambda w: {"process_id": w.ids["process"]},
        title="Cancel the approval (a reason is required)",
    ),
    Step(
        "task_withdraw",
        "head",
        {"comment": "Version 2 changes the delivery date; I need to read it again."},
        before=_carried_approval,
        path=lambda w: {"task_id": w.ids["carried"]},
        title="Withdraw my approval carried over to a changed version",
    ),
    Step(
        "document_archive",
        "initiator",
        None,
        before=_second_document,
        path=lambda w: {"document_id": w.ids["draft"]},
        title="Archive a document",
    ),
]


# --- running the examples -------------------------------------------------------------


@dataclass
class Example:
    operation: str
    who: str
    status: int
    method: str
    path: str
    request: dict[str, Any] | None
    answer: Any


def _operations(client: ApiClient) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    where = {
        op["operationId"]: (method, path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }
    return schema, where


def _call(w: World, example: Example, path: str) -> Any:
    client = w.clients[example.who]
    url = path.removeprefix(API)
    if example.operation in ("document_file_upload", "task_file_upload"):
        upload = io.BytesIO(MINIMAL_PDF + example.operation.encode())
        upload.name = (
            "contract.pdf" if example.operation.startswith("doc") else "act.pdf"
        )
        return client.client.post(
            path, {**(example.request or {}), "file": upload}, headers=client.headers
        )
    if example.method == "delete":
        return client.delete(url)
    return client.call(example.method, url, example.request)


def run_examples(
    tenant: Tenant, documented: dict[str, Example] | None
) -> list[tuple[Example, Any]]:
    """Run every step as its person; the body is the documented one (its ids bound
    to this run) or, when writing the file, the step's own."""
    w = _world(tenant)
    _schema, where = _operations(w.clients["admin"])
    done = []
    for step in STEPS:
        step.before(w)
        method, template = where[step.operation]
        path = template.format(**step.path(w))
        known = documented.get(step.operation) if documented else None
        body = json.loads(json.dumps(known.request if known else step.body))
        if body is not None:
            step.bind(w, body)
        example = Example(
            step.operation,
            step.who,
            known.status if known else 0,
            method,
            path,
            body,
            None,
        )
        answer = _call(w, example, path)
        assert answer.status_code < 300, (step.operation, answer.content)
        step.after(w, answer)
        example.status = answer.status_code
        example.answer = answer.json() if answer.content else None
        done.append((example, answer))
    return done


# --- the file ---------------------------------------------------------------------------


def _block(value: Any) -> str:
    return "```json\n" + json.dumps(value, ensure_ascii=False, indent=2) + "\n```\n"


def write_examples(done: list[tuple[Example, Any]]) -> None:
    titles = {s.operation: s.title for s in STEPS}
    parts = [
        "# The REST API: worked examples\n\n"
        "Every write operation of `/api/v1/`, as one story: an administrator sets "
        "up the organisation, a document type and a route; the initiator creates a "
        "contract, uploads its file and sends it for approval; it is returned, sent "
        "again, decided, signed with a one-time code and finally cancelled. Each "
        "example shows who calls it, the request and the answer. "
        "`tests/api/test_api_examples.py` checks every request and answer against "
        "the OpenAPI schema and runs them in this order (ids differ on your "
        "server). Write it again with "
        "`SOGLA_WRITE_API_EXAMPLES=1 .venv/bin/pytest tests/api/test_api_examples.py`.\n"
        "\nSend `Authorization: Bearer sgl_…` with each; JSON bodies with "
        "`Content-Type: application/json`; uploads as `multipart/form-data` with the "
        "file in `file` (the request shows the other form fields).\n"
    ]
    for example, _answer in done:
        parts.append(
            f"\n<!-- example: {example.operation} as={example.who} "
            f"status={example.status} -->\n"
            f"## {titles[example.operation]}\n\n"
            f"`{example.method.upper()} {example.path}` as **{example.who}** "
            f"(`{example.operation}`)\n\n"
        )
        if example.request is not None:
            parts.append("Request:\n" + _block(example.request) + "\n")
        if isinstance(example.answer, dict) and "prefix" in example.answer:
            # a token is shown once; the file shows its prefix only
            example.answer["token"] = example.answer["prefix"] + "…"
        if example.answer is None:
            parts.append(f"Answer `{example.status}`, no body.\n")
        else:
            parts.append(f"Answer `{example.status}`:\n" + _block(example.answer))
    DOCS.write_text("".join(parts), encoding="utf-8")


def read_examples() -> dict[str, Example]:
    text = DOCS.read_text(encoding="utf-8")
    marks = list(MARK.finditer(text))
    found: dict[str, Example] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        chunk = text[mark.end() : end]
        call = re.search(r"`(GET|POST|PUT|PATCH|DELETE) (\S+)`", chunk)
        request = re.search(r"Request:\n```json\n(.*?)\n```", chunk, re.S)
        answer = re.search(r"Answer `\d+`:\n```json\n(.*?)\n```", chunk, re.S)
        assert call, mark.group(0)
        found[mark.group(1)] = Example(
            operation=mark.group(1),
            who=mark.group(2),
            status=int(mark.group(3)),
            method=call.group(1).lower(),
            path=call.group(2),
            request=json.loads(request.group(1)) if request else None,
            answer=json.loads(answer.group(1)) if answer else None,
        )
    return found


# --- the checks -------------------------------------------------------------------------


def _validator(openapi: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": openapi["components"]})


def test_every_write_operation_has_a_valid_example(tenant_a: Tenant) -> None:
    """Each request body validates against its operation's request schema and each
    answer against its response schema; no write operation lacks an example."""
    if os.environ.get("SOGLA_WRITE_API_EXAMPLES"):
        write_examples(run_examples(tenant_a, None))
    documented = read_examples()
    openapi, where = _operations(token_client(tenant_a.initiator))
    writes = {op for op, (method, _path) in where.items() if method in WRITE}
    assert writes - documented.keys() == set(), "write operations without an example"
    problems = []
    for op, example in documented.items():
        method, template = where[op]
        spec = openapi["paths"][template][method]
        assert example.method == method, op
        assert re.fullmatch(re.sub(r"\{\w+\}", r"[^/]+", template), example.path), op
        content = spec.get("requestBody", {}).get("content", {})
        if example.request is not None:
            kind = (
                "application/json"
                if "application/json" in content
                else ("multipart/form-data")
            )
            schema = dict(content[kind]["schema"])
            if kind == "multipart/form-data":  # the file itself is not shown
                schema["required"] = [
                    r for r in schema.get("required", []) if r != "file"
                ]
            for error in _validator(openapi, schema).iter_errors(example.request):
                problems.append(f"{op} request: {error.message}")
        else:
            assert "application/json" not in content, f"{op}: the request is missing"
        response = spec["responses"][str(example.status)]
        answer_schema = (
            response.get("content", {}).get("application/json", {}).get("schema")
        )
        if answer_schema is None:
            assert example.answer is None, op
        else:
            for error in _validator(openapi, answer_schema).iter_errors(example.answer):
                problems.append(f"{op} answer: {error.message}")
    assert problems == []


def test_the_examples_run_as_documented(tenant_a: Tenant) -> None:
    """Each documented request, its ids bound to this run, answers the documented
    status, in the documented order."""
    documented = read_examples()
    assert [s.operation for s in STEPS] == list(documented)
    for example, answer in run_examples(tenant_a, documented):
        assert answer.status_code == documented[example.operation].status, (
            example.operation,
            answer.content,
        )
        assert example.who == documented[example.operation].who
