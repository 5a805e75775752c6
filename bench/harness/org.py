"""A realistic organisation for the page benchmarks, loaded in seconds.

The demo organisations (``demo_load``: Argo with its people, roles, document types,
routes and counterparties, and Beta as a neighbour tenant) come first. Then, through
the real services, one *template* document per shape is created and moved along its
route (a finished six-stage contract, a one-stage contract decided in two rounds, a
confidential absence request, an incoming letter, contracts waiting at their first or
second stage, a draft ...), and the measured user's card: a six-stage contract in its
second round, waiting on them at the deputy's stage (5 of 6).

Everything else is copied from the templates in bulk: each template's rows
(document, process, stage runs, step runs, tasks, timers, audit events) are read
once, and each copy changes ids, number, title, field values, counterparty, people
and times (all shifted together), written with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL). A copy carries every column its template has, so a column added by a
migration is filled the way the services fill it. Audit events of copies are not
chained (their seq numbers start at 10**12): the pages read them, nobody verifies them.

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
from datetime import date, datetime, timedelta
from typing import Any

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
SUBJECTS = (
    "поставка офисной мебели",
    "ремонт кровли",
    "уборка помещений",
    "аренда конференц-зала",
    "обслуживание лифтов",
    "поставка постельного белья",
    "разработка сайта",
    "охрана объекта",
    "вывоз мусора",
    "поставка продуктов питания",
    "техническое обслуживание вентиляции",
    "печать буклетов",
    "юридическое сопровождение сделки",
    "аудит бухгалтерской отчётности",
    "перевозка оборудования",
)
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
    progress: Callable[[str], None] = lambda text: None,
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
    today = _today()

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
                now=moment,
            )
            if outcome is not None:
                if resubmit_by is None:
                    return  # rejected, or returned and left so
                process_resubmit(
                    actor=resubmit_by, process=process.pk, comment="Исправлено."
                )
                outcome = None
                break


def _dummy(field_def: Any, task: Any) -> Any:
    kind = field_def.kind
    if kind == "bool":
        return False
    if kind in ("user", "users"):
        return [task.assignee_id] if kind == "users" else task.assignee_id
    if kind in ("number", "money"):
        return "1"
    if kind == "date":
        return _today().isoformat()
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


# --- the bulk part: copies of the templates --------------------------------------------


class Copier:
    """Writes copies of the template shapes' rows (see the module docstring)."""

    CHUNK = 5000  # documents per write

    def __init__(self, built: Organisation, vendor: str) -> None:
        from django.db import connection

        from sogla.core.models import AuditEvent
        from sogla.documents.models import Document
        from sogla.workflow.models import Process, StageRun, StepRun, Task, Timer

        self.built = built
        self.vendor = vendor
        self.connection = connection
        self.models = {
            "document": Document,
            "process": Process,
            "stage_run": StageRun,
            "step_run": StepRun,
            "task": Task,
            "timer": Timer,
            "audit": AuditEvent,
        }
        self.specs = {
            name: _Table(model, name in ("document", "process"))
            for name, model in self.models.items()
        }
        self.pending: dict[str, list[list[Any]]] = {name: [] for name in self.models}
        if built.next_doc == 0:
            from django.db.models import Max

            built.next_doc = (Document.objects.aggregate(m=Max("id"))["m"] or 0) + 1000
            built.next_process = (
                Process.objects.aggregate(m=Max("id"))["m"] or 0
            ) + 1000
        self.people: dict[int, tuple[str, int | None]] = {}

    def read(self, shape: Shape) -> None:
        """The template's rows, in each table's column order."""
        if shape.rows:
            return
        models = self.models
        filters: dict[str, dict[str, Any]] = {"document": {"pk": shape.document_id}}
        if shape.process_id is not None:
            by_process = {"process_id": shape.process_id}
            filters |= {
                "process": {"pk": shape.process_id},
                "stage_run": by_process,
                "step_run": by_process,
                "task": by_process,
                # Pending timers only: no page reads the fired or cancelled ones.
                "timer": by_process | {"state": "pending"},
            }
        filters["audit"] = {"document_id": shape.document_id}
        for name, where in filters.items():
            spec = self.specs[name]
            shape.rows[name] = [
                list(row)
                for row in models[name]
                .objects.filter(**where)
                .order_by("pk")
                .values_list(*spec.attnames)
            ]

    def copy(
        self,
        shape: Shape,
        count: int,
        oldest: datetime,
        newest: datetime,
        *,
        open_to: int | None = None,
    ) -> None:
        """``count`` copies starting between ``oldest`` and ``newest``."""
        built = self.built
        rng = built.rng
        span = (newest - oldest).total_seconds()
        for _index in range(count):
            start = oldest + timedelta(seconds=rng.random() * span)
            self._one(shape, start, open_to)
            if len(self.pending["document"]) >= self.CHUNK:
                self.flush()

    def _one(self, shape: Shape, start: datetime, open_to: int | None) -> None:
        built = self.built
        rng = built.rng
        built.copies += 1
        doc_id = built.next_doc
        built.next_doc += 1
        process_id = None
        if shape.process_id is not None:
            process_id = built.next_process
            built.next_process += 1
        if open_to is not None:
            initiator = rng.choice(built.reports).pk
        elif rng.random() < 0.002:  # the measured user starts a few documents too
            initiator = built.measured.pk
        else:
            initiator = rng.choice(built.users)
        # A few counterparties have many documents: the first gets ~1/sqrt(n) of them.
        party = built.parties[int(rng.random() ** 2 * len(built.parties))]
        delta = start - shape.ref
        pools = built.pools
        salt = built.copies

        def person(user_id: int | None, avoid: int = 0) -> int | None:
            if user_id is None:
                return None
            if user_id == shape.initiator_id:
                return initiator
            pool = pools.get(user_id)
            if not pool:
                return user_id
            chosen = pool[(salt + user_id) % len(pool)]
            return pool[(salt + user_id + 1) % len(pool)] if chosen == avoid else chosen

        values = {
            "doc_id": doc_id,
            "process_id": process_id,
            "initiator": initiator,
            "person": person,
            "party": party,
            "open_to": open_to,
            "measured": built.measured.pk,
            "seq": self.next_seq,
        }
        values |= self._document_values(shape, start, doc_id, initiator, party)
        for name, rows in shape.rows.items():
            spec = self.specs[name]
            for row in rows:
                self.pending[name].append(spec.copy(row, delta, values, self))

    def _document_values(
        self,
        shape: Shape,
        start: datetime,
        doc_id: int,
        initiator: int,
        party: tuple[int, str, str],
    ) -> dict[str, Any]:
        from sogla.documents import naming
        from sogla.documents.models import fold

        built = self.built
        doc_type = shape.doc_type
        year = start.year
        key = (doc_type.pk, year)
        seq = built.numbers.get(key, 100 if year == _today().year else 0) + 1
        built.numbers[key] = seq
        number = naming.render(
            doc_type.numbering_pattern,
            {
                "prefix": doc_type.prefix,
                "yyyy": year,
                "yy": year % 100,
                "mm": f"{start.month:02d}",
                "seq": seq,
            },
        )
        rng = built.rng
        subject = rng.choice(SUBJECTS)
        amount = f"{rng.randrange(10, 5000) * 1000}.00"
        name, department = self._person(initiator)
        words = {
            "number": number,
            "type": doc_type.name_ru,
            "counterparty": party[1] if shape.counterparty_field else "",
            "initiator": name,
            "subject": subject,
            "summary": subject,
            "purpose": subject,
        }
        title = naming.render(doc_type.title_template, words) or number
        return {
            "number": number,
            "title": title[:500],
            "search_text": fold(
                " ".join([number, title, words["counterparty"], name, amount])
            ),
            "subject": subject,
            "amount": amount,
            "department": department,
        }

    def _person(self, user_id: int) -> tuple[str, int | None]:
        if not self.people:
            from sogla.orgs.models import User

            for pk, last, first, department in User.objects.filter(
                organisation=self.built.org
            ).values_list("pk", "last_name", "first_name", "department_id"):
                self.people[pk] = (f"{last} {first[:1]}.", department)
        return self.people[user_id]

    def next_seq(self) -> int:
        self.built.next_seq += 1
        return self.built.next_seq

    def flush(self) -> None:
        from django.db import transaction

        if self.vendor == "sqlite":
            # Index pages stay in memory while loading (the default cache is 2 MB);
            # a setting of this connection only, put back in finish().
            self.connection.connection.execute("PRAGMA cache_size = -262144")
        with transaction.atomic():
            for name in (
                "document",
                "process",
                "stage_run",
                "step_run",
                "task",
                "timer",
            ):
                self._write(name)
            if self.pending["audit"] and self.built.audit_copied:
                try:
                    with transaction.atomic():
                        self._write("audit")
                except Exception as error:
                    self.built.audit_copied = False
                    print(
                        f"    audit events not copied ({type(error).__name__}: {error})"
                    )
            self.pending["audit"] = []

    def _write(self, name: str) -> None:
        rows = self.pending[name]
        if not rows:
            return
        spec = self.specs[name]
        raw = self.connection.connection
        columns = ", ".join(f'"{c}"' for c in spec.columns)
        if self.vendor == "postgresql":
            with raw.cursor() as cursor:
                sql = f'COPY "{spec.table}" ({columns}) FROM STDIN'
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in spec.columns)
            raw.executemany(
                f'INSERT INTO "{spec.table}" ({columns}) VALUES ({marks})',  # noqa: S608 - model metadata
                rows,
            )
        self.pending[name] = []

    def finish(self) -> None:
        """Write what is left; numbers, sequences and planner statistics follow."""
        from sogla.documents.models import NumberSequence

        self.flush()
        if self.vendor == "sqlite":
            self.connection.connection.execute("PRAGMA cache_size = -2000")
        org = self.built.org
        for (type_id, year), last in self.built.numbers.items():
            NumberSequence.objects.update_or_create(
                organisation=org,
                doc_type_id=type_id,
                year=year,
                defaults={"last_value": last},
            )
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for model in self.models.values():
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                cursor.execute("ANALYZE")


class _Table:
    """One table's columns and what a copy changes in them."""

    def __init__(self, model: Any, explicit_id: bool) -> None:
        from django.db import connection, models

        self.model = model
        self.table = model._meta.db_table
        self.fields = [
            f for f in model._meta.concrete_fields if explicit_id or not f.primary_key
        ]
        self.attnames = [f.attname for f in self.fields]
        self.columns = [f.column for f in self.fields]
        self.index = {name: i for i, name in enumerate(self.attnames)}
        self.times = [
            i for i, f in enumerate(self.fields) if isinstance(f, models.DateTimeField)
        ]
        name = model._meta.model_name
        self.changes = [
            (i, _CHANGES[(name, attname)])
            for i, attname in enumerate(self.attnames)
            if (name, attname) in _CHANGES
        ]
        self.prepared: dict[int, tuple[list[Any], list[tuple[int, Any]]]] = {}
        # SQLite keeps naive UTC text (what adapt_datetimefield_value writes).
        self.text_times = connection.vendor == "sqlite"
        self.connection = connection

    def copy(
        self, row: list[Any], delta: timedelta, values: dict[str, Any], copier: Copier
    ) -> list[Any]:
        base, times = self._prepared(row)
        out = list(base)
        if self.text_times:
            for i, at in times:
                out[i] = str(at + delta)
        else:
            for i, at in times:
                out[i] = at + delta
        for i, change in self.changes:
            new = change(values, row[i], row, self)
            if isinstance(new, dict):
                new = self.fields[i].get_db_prep_save(new, self.connection)
            out[i] = new
        return out

    def _prepared(self, row: list[Any]) -> tuple[list[Any], list[tuple[int, Any]]]:
        """The template row as the database takes it, and its times (naive UTC on
        SQLite), computed once per template row."""
        found = self.prepared.get(id(row))
        if found is None:
            from datetime import UTC

            base = [
                f.get_db_prep_save(v, self.connection)
                for f, v in zip(self.fields, row, strict=True)
            ]
            times = [
                (
                    i,
                    row[i].astimezone(UTC).replace(tzinfo=None)
                    if self.text_times
                    else row[i],
                )
                for i in self.times
                if row[i] is not None
            ]
            found = self.prepared[id(row)] = (base, times)
        return found


def _fields(
    values: dict[str, Any], old: Any, row: list[Any], table: _Table
) -> dict[str, Any]:
    fields = dict(old or {})
    for key in ("subject", "summary", "purpose"):
        if key in fields:
            fields[key] = values["subject"]
    if "amount" in fields:
        fields["amount"] = values["amount"]
    for key in ("counterparty", "payee", "sender", "recipient"):
        if key in fields:
            fields[key] = values["party"][0]
    return fields


def _task_person(
    values: dict[str, Any], old: Any, row: list[Any], table: _Table
) -> Any:
    if old is None or row[table.index["state"]] != "open":
        return values["person"](old)
    if values["open_to"] is not None:
        return values["open_to"]
    # An open task of a copy never waits on the measured user unless asked to.
    return values["person"](old, avoid=values["measured"])


def _target(values: dict[str, Any], old: Any, row: list[Any], table: _Table) -> Any:
    kind = row[table.index["target_type"]] if "target_type" in table.index else ""
    if kind == "document":
        return str(values["doc_id"])
    if kind == "process" and values["process_id"] is not None:
        return str(values["process_id"])
    return old


_Change = Callable[[dict[str, Any], Any, list[Any], _Table], Any]
_CHANGES: dict[tuple[str, str], _Change] = {
    ("document", "id"): lambda v, o, r, c: v["doc_id"],
    ("document", "number"): lambda v, o, r, c: v["number"],
    ("document", "title"): lambda v, o, r, c: v["title"],
    ("document", "search_text"): lambda v, o, r, c: v["search_text"],
    ("document", "fields"): _fields,
    ("document", "initiator_id"): lambda v, o, r, c: v["initiator"],
    ("document", "department_id"): lambda v, o, r, c: v["department"],
    ("document", "counterparty_id"): lambda v, o, r, c: v["party"][0] if o else None,
    ("document", "folder_id"): lambda v, o, r, c: None,
    ("process", "id"): lambda v, o, r, c: v["process_id"],
    ("process", "document_id"): lambda v, o, r, c: v["doc_id"],
    ("process", "initiator_id"): lambda v, o, r, c: v["initiator"],
    ("stagerun", "process_id"): lambda v, o, r, c: v["process_id"],
    ("steprun", "process_id"): lambda v, o, r, c: v["process_id"],
    ("timer", "process_id"): lambda v, o, r, c: v["process_id"],
    ("task", "process_id"): lambda v, o, r, c: v["process_id"],
    ("task", "assignee_id"): _task_person,
    ("task", "decided_by_id"): lambda v, o, r, c: v["person"](o),
    ("task", "on_behalf_of_id"): lambda v, o, r, c: v["person"](o),
    ("auditevent", "seq"): lambda v, o, r, c: v["seq"](),
    ("auditevent", "document_id"): lambda v, o, r, c: v["doc_id"],
    ("auditevent", "actor_id"): lambda v, o, r, c: v["person"](o),
    ("auditevent", "target_id"): _target,
}


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()
