"""A realistic organisation for the page benchmarks, loaded in seconds.

The demo organisations (``demo_load``: Argo with its people, roles, document types,
routes and counterparties, and Beta as a neighbour tenant) come first. Then, through
the real services, one *template* document per shape is created and moved along its
route (a finished six-stage contract, a one-stage contract decided in two rounds, a
confidential absence request, an incoming letter, contracts waiting at their first or
second stage, a draft ...), and the measured user's card: a six-stage contract in its
second round, waiting on them at the deputy's stage (5 of 6).

Everything else is copied from the templates in bulk (harness/copies.py). Audit
events of copies are not chained (their seq numbers start at 10**12): the pages read
them, nobody verifies them.

Sizes: ``users`` people (departments of about 30 with a head), ``counterparties``
with names and tax ids, ``documents`` documents of which ``open_tasks`` are open tasks
(50 for the measured user), the rest finished with about ``tasks_per_document``
decided tasks each; ``grow`` adds older finished documents later (bench/scale.py).
Call after ``django.setup()`` and migrations.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from harness.copies import Copier, local_today

SEED = 14
SEQ_BASE = 10**12  # audit seq numbers of copies: far above the real chain


def _words(text: str) -> list[str]:
    return text.split()


WORDS_A = _words(
    "Северная Балтийская Невская Уральская Волжская Сибирская Приморская "
    "Ладожская Окская Камская Донская Полярная Западная Восточная Южная "
    "Центральная Петровская Городская Речная Лесная Горная Морская Степная "
    "Озёрная"
)
WORDS_B = _words(
    "Строительная Торговая Транспортная Сервисная Проектная Инженерная "
    "Печатная Энергетическая Логистическая Клининговая Охранная Юридическая "
    "Консалтинговая Медицинская Туристическая Ресторанная"
)
WORDS_C = _words(
    "компания группа мануфактура линия служба артель мастерская база фабрика сеть"
)
FORMS = ("ООО", "ООО", "ООО", "АО", "ПАО", "ИП")
FIRST = _words("Анна Иван Мария Пётр Ольга Сергей Елена Дмитрий Наталья Алексей")
LAST = _words(
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков "
    "Фёдоров Морозов Волков Алексеев Лебедев Семёнов Егоров"
)


@dataclass
class Shape:
    """A template document with its process, and what a copy of it changes."""

    key: str
    document_id: int
    process_id: int | None
    ref: datetime  # the template's start: every time of a copy moves with it
    initiator_id: int
    doc_type: Any
    counterparty_field: str | None
    open_tasks: int = 0
    finished_tasks: int = 0
    rows: dict[str, list[list[Any]]] = field(default_factory=dict)


@dataclass
class Organisation:
    org: Any
    measured: Any  # the typical user: not an administrator
    reports: list[Any]  # the people whose approvals wait on the measured user
    card_id: int  # the measured card: six stages, second round, waiting on them
    users: list[int] = field(default_factory=list)
    parties: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, inn
    shapes: dict[str, Shape] = field(default_factory=dict)
    pools: dict[int, list[int]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    numbers: dict[tuple[int, int], int] = field(default_factory=dict)
    next_doc: int = 0
    next_process: int = 0
    next_seq: int = SEQ_BASE
    copies: int = 0
    audit_copied: bool = True

    def sizes(self) -> dict[str, int]:
        """What the organisation holds now (counted in the database)."""
        from sogla.core.models import AuditEvent
        from sogla.documents.models import Counterparty, Document
        from sogla.orgs.models import User
        from sogla.workflow.models import Process, Task, TaskState

        org_id = self.org.pk
        tasks = Task.objects.for_org(org_id)
        return {
            "documents": Document.objects.for_org(org_id).count(),
            "processes": Process.objects.for_org(org_id).count(),
            "users": User.objects.filter(organisation_id=org_id).count(),
            "counterparties": Counterparty.objects.for_org(org_id).count(),
            "finished tasks": tasks.exclude(state=TaskState.OPEN).count(),
            "open tasks": tasks.filter(state=TaskState.OPEN).count(),
            "audit events": AuditEvent.objects.for_org(org_id).count(),
            "open tasks of the measured user": tasks.filter(
                state=TaskState.OPEN, assignee=self.measured
            ).count(),
        }


# --- the real part: demo, people, template processes through the services --------------


def build(
    *,
    documents: int,
    users: int = 1000,
    counterparties: int | None = None,
    open_tasks: int = 5000,
    mine: int = 50,
    tasks_per_document: float = 3.0,
    progress: Callable[[str], None] = lambda _text: None,
) -> Organisation:
    """The organisation at ``documents`` documents (see the module docstring)."""
    from django.db import connection

    from sogla.demo.services import demo_load
    from sogla.orgs.models import Organisation as Org

    open_tasks = min(open_tasks, documents // 2)
    demo_load()
    org = Org.objects.get(slug="argo")
    progress("demo organisations loaded")
    built = _people(org, users)
    progress(f"{users:,} people")
    _counterparties(built, counterparties or max(200, documents // 20))
    progress(f"{len(built.parties):,} counterparties")
    _templates(built)
    progress(f"{len(built.shapes)} template processes through the services")
    from sogla.documents.models import Document

    present = Document.objects.for_org(org).count()
    copier = Copier(built, connection.vendor)
    for shape in built.shapes.values():
        copier.read(shape)
    open_plan = _open_plan(built, open_tasks, mine)
    opened = sum(count for _shape, count, _who in open_plan)
    decided = sum(shape.finished_tasks * count for shape, count, _who in open_plan)
    finished = max(0, documents - present - opened)
    per_document = (tasks_per_document * documents - decided) / max(1, finished)
    now = datetime.now().astimezone()
    for shape, count, who in open_plan:
        copier.copy(shape, count, now - timedelta(days=30), now, open_to=who)
    for shape, count in _finished_plan(built, finished, max(0.5, per_document)):
        copier.copy(shape, count, now - timedelta(days=90), now - timedelta(days=1))
    copier.finish()
    progress(f"{built.copies:,} documents copied")
    return built


def grow(
    built: Organisation,
    documents: int,
    *,
    tasks_per_document: float = 3.0,
    finished_tasks: int | None = None,
) -> None:
    """Add finished documents older than every present one until ``documents``."""
    from django.db import connection

    from sogla.documents.models import Document
    from sogla.workflow.models import Task, TaskState

    have = Document.objects.for_org(built.org).count()
    if documents <= have:
        return
    per_document = tasks_per_document
    if finished_tasks is not None:
        done = Task.objects.for_org(built.org).exclude(state=TaskState.OPEN).count()
        per_document = max(0.5, (finished_tasks - done) / (documents - have))
    _counterparties(built, max(len(built.parties), documents // 20))
    copier = Copier(built, connection.vendor)
    for shape in built.shapes.values():
        copier.read(shape)
    newest = datetime.now().astimezone() - timedelta(days=91)
    oldest = newest - timedelta(days=4 * 365)
    for shape, count in _finished_plan(built, documents - have, per_document):
        copier.copy(shape, count, oldest, newest)
    copier.finish()


def _people(org: Any, total: int) -> Organisation:
    from django.contrib.auth.hashers import make_password

    from sogla.orgs.models import Department, User

    existing = list(User.objects.filter(organisation=org).order_by("id"))
    by_name = {u.username: u for u in existing}
    management = Department.objects.get(organisation=org, code="management")
    password = make_password(None)
    measured = User.objects.create(
        organisation=org,
        username="typical",
        first_name="Ирина",
        last_name="Соколова",
        email="typical@argo.example",
        password=password,
    )
    desk = Department.objects.create(
        organisation=org,
        name="Отдел закупок",
        code="purchasing",
        parent=management,
        head=measured,
    )
    measured.department = desk
    measured.manager = by_name.get("commercial")
    measured.save(update_fields=["department", "manager"])
    count = max(0, total - len(existing) - 1)
    departments = [desk]
    people = []
    for index in range(count):
        if index % 30 == 0 and index >= 30:
            departments.append(
                Department(
                    organisation=org,
                    name=f"Подразделение {index // 30}",
                    code=f"unit-{index // 30}",
                    parent=management,
                )
            )
        people.append(
            User(
                organisation=org,
                username=f"user{index:04d}",
                first_name=FIRST[index % len(FIRST)],
                last_name=LAST[index * 7 % len(LAST)] + ("а" if index % 2 else ""),
                email=f"user{index:04d}@argo.example",
                password=password,
            )
        )
    Department.objects.bulk_create(departments[1:])
    for index, person in enumerate(people):
        person.department = departments[index // 30] if index >= 30 else desk
    people = User.objects.bulk_create(people)
    for department in departments[1:]:
        department.head = people[departments.index(department) * 30]
    Department.objects.bulk_update(departments[1:], ["head"])
    built = Organisation(org=org, measured=measured, reports=people[:20], card_id=0)
    built.users = [u.pk for u in existing] + [u.pk for u in people]
    # Each demo user's tasks in copies go to a pool of people like them; the measured
    # user shares the lawyer's work (so they took part in some finished approvals).
    demo_ids = [u.pk for u in existing if not u.is_staff]
    bulk_ids = [u.pk for u in people[30:]] or [u.pk for u in people]
    for index, demo_id in enumerate(demo_ids):
        share = bulk_ids[index :: len(demo_ids)][:40]
        built.pools[demo_id] = [demo_id, *share]
    lawyer = by_name.get("lawyer")
    if lawyer is not None:
        built.pools[lawyer.pk].append(measured.pk)
    # Copies of approvals that waited on the measured user wait on other heads.
    built.pools[measured.pk] = [u.pk for u in people[30::30]] or [u.pk for u in people]
    return built


def _counterparties(built: Organisation, count: int) -> None:
    from sogla.documents.models import Counterparty
    from sogla.documents.services import normalize_name

    rng = random.Random(SEED + len(built.parties))
    rows = []
    for index in range(len(built.parties), count):
        name = (
            f"{rng.choice(FORMS)} «{rng.choice(WORDS_A)} {rng.choice(WORDS_B)} "
            f"{rng.choice(WORDS_C)}-{index}»"
        )
        rows.append(
            Counterparty(
                organisation=built.org,
                name=name,
                normalized_name=normalize_name(name),
                tax_id=f"{5000000000 + index * 7:010d}",
                category=rng.choice(("customer", "supplier", "contractor", "tenant")),
            )
        )
    Counterparty.objects.bulk_create(rows, batch_size=500)
    built.parties = list(
        Counterparty.objects.for_org(built.org)
        .order_by("id")
        .values_list("id", "name", "tax_id")
    )


def _templates(built: Organisation) -> None:
    """The template processes and the measured card, through the real services."""
    from sogla.orgs.models import User
    from sogla.workflow.models import RouteTemplate

    org = built.org
    routes = {t.key: t for t in RouteTemplate.objects.for_org(org)}
    people = {u.username: u for u in User.objects.filter(organisation=org)}
    samples = _demo_samples()
    start = datetime.now().astimezone() - timedelta(days=20)
    report = built.reports[0]

    def make(key: str, sample: str, initiator: Any, route: str | None) -> Any:
        document = _document(built, samples[sample], initiator)
        process = None
        if route is not None:
            from sogla.workflow.services import process_start

            process = process_start(
                actor=initiator, document=document, template=routes[route], now=start
            )
        shape = Shape(
            key=key,
            document_id=document.pk,
            process_id=process.pk if process else None,
            ref=start,
            initiator_id=initiator.pk,
            doc_type=document.doc_type,
            counterparty_field=_party_field(document),
        )
        built.shapes[key] = shape
        return process

    manager = people["manager"]
    # Finished: the route runs to its end.
    for key, sample, who, route in (
        ("contract_full_done", "contract/contract-full", manager, "contract-full"),
        ("contract_short_done", "contract/contract-short", people["technician"], "contract-short"),
        ("absence_done", "absence/absence", manager, "absence"),
        ("incoming_done", "incoming_letter/incoming-letter", people["office"], "incoming-letter"),
        ("payment_rejected", "payment/payment", people["office"], "payment"),
    ):  # fmt: skip
        process = make(key, sample, who, route)
        first = "reject" if key == "payment_rejected" else None
        _decide_all(process, start, first_outcome=first)
    # Two rounds: returned by the director, sent again, approved.
    process = make(
        "contract_rounds", "contract/contract-short", manager, "contract-short"
    )
    _decide_all(process, start, first_outcome="return", resubmit_by=manager)
    # Open: waiting at the first stage (copies wait on anyone; the measured user's 50
    # are copies of one started by their report) and at the second.
    make("contract_waiting", "contract/contract-full", report, "contract-full")
    process = make(
        "contract_at_lawyer", "contract/contract-full", manager, "contract-full"
    )
    _decide_all(process, start, rounds=1)
    make("absence_waiting", "absence/absence", manager, "absence")
    make("draft", "contract/contract-full", manager, None)
    # The measured card: returned by the lawyer in round 1 and sent again; in round
    # 2 the manager's approval carries over, the department stage is skipped (no step
    # for the initiator's department), and at the deputy's stage (5 of 6) the
    # administrator gave the deputy's task to the measured user.
    from sogla.workflow.models import Task, TaskState
    from sogla.workflow.services import task_reassign

    process = make("card", "contract/contract-full", report, "contract-full")
    _decide_all(process, start, rounds=1)
    _decide_all(process, start, first_outcome="return", resubmit_by=report, rounds=1)
    _decide_all(process, start + timedelta(days=5), keep_step="deputy")
    deputy = Task.objects.get(process=process, step_key="deputy", state=TaskState.OPEN)
    task_reassign(actor=people["admin"], task_id=deputy.pk, to_user=built.measured)
    built.card_id = built.shapes.pop("card").document_id
    for shape in built.shapes.values():
        _count_tasks(shape)


def _demo_samples() -> dict[str, Any]:
    """The Argo demo's sample documents by "type/route" (the first of each)."""
    from sogla.demo.schema import DATA_DIR, read_bundles

    bundle = next(b for b in read_bundles(DATA_DIR) if b.organisation.slug == "argo")
    samples: dict[str, Any] = {}
    for sample in bundle.documents:
        route = sample.process.route if sample.process else "none"
        samples.setdefault(f"{sample.type}/{route}", sample)
    return samples


def _document(built: Organisation, sample: Any, initiator: Any) -> Any:
    from sogla.demo.pdf import simple_pdf
    from sogla.documents.models import Counterparty, DocumentType
    from sogla.documents.services import NewFile, document_create
    from sogla.documents.uploads import bytes_upload
    from sogla.orgs.models import Role, User

    org = built.org
    today = local_today()

    def value(raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        if "user" in raw:
            return User.objects.get(organisation=org, username=raw["user"]).pk
        if "users" in raw:
            return list(
                User.objects.filter(
                    organisation=org, username__in=raw["users"]
                ).values_list("pk", flat=True)
            )
        if "role" in raw:
            role = Role.objects.for_org(org).get(key=raw["role"])
            return sorted(role.members.values_list("pk", flat=True))
        if "counterparty" in raw:
            return Counterparty.objects.for_org(org).get(tax_id=raw["counterparty"]).pk
        return (today + timedelta(days=int(raw["days"]))).isoformat()

    files = [
        NewFile(bytes_upload(f.field, f.name, simple_pdf(f.lines)), f.field)
        for f in sample.files
    ]
    return document_create(
        actor=initiator,
        doc_type=DocumentType.objects.for_org(org).get(key=sample.type),
        values={key: value(raw) for key, raw in sample.values.items()},
        files=files,
    )


def _party_field(document: Any) -> str | None:
    from sogla.documents.models import FieldDef, FieldKind

    return (
        FieldDef.objects.filter(doc_type_id=document.doc_type_id, kind=FieldKind.COUNTERPARTY)
        .values_list("key", flat=True)
        .first()
    )  # fmt: skip


def _decide_all(
    process: Any,
    start: datetime,
    *,
    first_outcome: str | None = None,
    resubmit_by: Any = None,
    rounds: int | None = None,
    keep_step: str = "",
) -> None:
    """Decide the open tasks a day apart, as their assignees would, for at most
    ``rounds`` rounds of decisions: the first with ``first_outcome`` (a return is
    followed by ``resubmit_by`` sending the document again), never a task of
    ``keep_step``."""
    from sogla.workflow.models import Task, TaskState
    from sogla.workflow.selectors import task_get_for_decision
    from sogla.workflow.services import process_resubmit, task_decide

    moment = start
    outcome = first_outcome
    done = 0
    while rounds is None or done < rounds:
        tasks = [
            t
            for t in Task.objects.filter(process=process, state=TaskState.OPEN)
            .select_related("assignee")
            .order_by("id")
            if t.step_key != keep_step
        ]
        if not tasks:
            return
        done += 1
        for task in tasks:
            moment += timedelta(days=1)
            panel = task_get_for_decision(user=task.assignee, task_id=task.pk)
            chosen = outcome or next(
                (o for o in ("approve", "done", "sign") if o in panel.outcomes),
                panel.outcomes[0],
            )
            task_decide(
                actor=task.assignee,
                task_id=task.pk,
                outcome=chosen,
                comment="Проверено." if outcome else "",
                request_id=uuid.uuid4().hex,
                fields={f.key: _dummy(f, task) for f in panel.fields if f.required},
                **(_signed(task, chosen) or {"now": moment}),
            )
            if outcome is not None:
                if resubmit_by is None:
                    return  # rejected, or returned and left so
                process_resubmit(
                    actor=resubmit_by, process=process.pk, comment="Исправлено."
                )
                outcome = None
                break


def _signed(task: Any, outcome: str) -> dict[str, Any]:
    """A signing step asks for a one-time code: send it (to a mailbox in memory),
    check it as the person would, and decide with it; other steps need nothing.
    The code lives ten minutes of real time, so a signature is given now (the
    decision then happens at the real moment, not the harness's invented one)."""
    import re

    from django.core import mail
    from django.test.utils import override_settings

    from sogla.core.request_meta import RequestMeta
    from sogla.external.recipients import recipient_of_user
    from sogla.external.services.codes import challenge_create, challenge_verify
    from sogla.workflow import services
    from sogla.workflow.confirmations import by_code, needs_code
    from sogla.workflow.definitions import definition_for

    step = definition_for(task.process.route_version).step(
        task.stage_key, task.step_key
    )
    if not needs_code(step):
        return {}
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    ):
        challenge = challenge_create(
            task=task,
            recipient=recipient_of_user(task.assignee),
            outcome=outcome,
            files_sha256=services.files_sha256(task.process.document),
            meta=RequestMeta(ip="127.0.0.1", user_agent="bench"),
        )
        code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    if code is None:
        raise RuntimeError("the code mail holds no code")
    challenge_verify(
        task=task,
        participant_ref=f"user:{task.assignee.pk}",
        challenge_id=str(challenge.pk),
        code=code[1],
    )
    return {"confirmation": by_code(str(challenge.pk))}


def _dummy(field_def: Any, task: Any) -> Any:
    kind = field_def.kind
    if kind == "bool":
        return False
    if kind in ("user", "users"):
        return [task.assignee_id] if kind == "users" else task.assignee_id
    if kind in ("number", "money"):
        return "1"
    if kind == "date":
        return local_today().isoformat()
    if kind == "choice":
        return (field_def.choices or [{"value": ""}])[0]["value"]
    if kind == "url":
        return "https://example.test/"
    return "Готово"


def _count_tasks(shape: Shape) -> None:
    from sogla.workflow.models import Task, TaskState

    if shape.process_id is None:
        return
    states = list(
        Task.objects.filter(process_id=shape.process_id).values_list("state", flat=True)
    )
    shape.open_tasks = sum(s == TaskState.OPEN for s in states)
    shape.finished_tasks = len(states) - shape.open_tasks


def _open_plan(
    built: Organisation, total: int, mine: int
) -> list[tuple[Shape, int, int | None]]:
    """Copies of the waiting shapes: the measured user ends with ``mine`` open
    tasks (the templates and the card hold some), the rest wait on pools of people,
    about ``total`` open tasks in all."""
    from sogla.workflow.models import Task, TaskState

    shapes = built.shapes
    held = Task.objects.filter(assignee=built.measured, state=TaskState.OPEN).count()
    plan: list[tuple[Shape, int, int | None]] = [
        (shapes["contract_waiting"], max(0, min(mine, total) - held), built.measured.pk)
    ]
    rest = max(0, total - mine)
    waiting = [
        shapes[k] for k in ("contract_waiting", "contract_at_lawyer", "absence_waiting")
    ]
    per_shape = rest // len(waiting)
    for index, shape in enumerate(waiting):
        count = per_shape + (rest % len(waiting) if index == 0 else 0)
        plan.append((shape, count // max(1, shape.open_tasks), None))
    return plan


def _finished_plan(
    built: Organisation, count: int, per_document: float
) -> list[tuple[Shape, int]]:
    """How many copies of each finished shape (drafts 5%): the six-stage contract's
    share is chosen so that documents average ``per_document`` decided tasks."""
    shapes = built.shapes
    light = [
        (shapes["contract_short_done"], 0.30),
        (shapes["contract_rounds"], 0.08),
        (shapes["absence_done"], 0.22),
        (shapes["incoming_done"], 0.30),
        (shapes["payment_rejected"], 0.10),
    ]
    heavy = shapes["contract_full_done"]
    light_mean = sum(s.finished_tasks * w for s, w in light)
    drafts = count // 20
    rest = count - drafts
    target = per_document * count / max(1, rest)
    share = (target - light_mean) / max(0.1, heavy.finished_tasks - light_mean)
    share = min(0.9, max(0.05, share))
    plan = [(shapes["draft"], drafts), (heavy, round(rest * share))]
    left = rest - plan[-1][1]
    plan += [(shape, round(left * weight)) for shape, weight in light]
    return plan
