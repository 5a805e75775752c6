"""Copies of the template processes, written in bulk (see harness/org.py).

Each template's rows (document, process, stage runs, step runs, tasks, pending timers,
audit events) are read once; each copy changes ids, number, title, field values,
counterparty, the people of its tasks and every time (all shifted together), and is
written with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL). A copy carries every
column its template has, so a column a migration adds is filled the way the services
fill it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.org import Organisation, Shape

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
        values |= self._document_values(shape, start, initiator, party)
        for name, rows in shape.rows.items():
            spec = self.specs[name]
            for row in rows:
                self.pending[name].append(spec.copy(row, delta, values))

    def _document_values(
        self,
        shape: Shape,
        start: datetime,
        initiator: int,
        party: tuple[int, str, str],
    ) -> dict[str, Any]:
        from sogla.documents import naming
        from sogla.documents.models import fold

        built = self.built
        doc_type = shape.doc_type
        year = start.year
        key = (doc_type.pk, year)
        seq = built.numbers.get(key, 100 if year == local_today().year else 0) + 1
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
                # Blind on purpose: the bench goes on without the audit copy and
                # says why (whatever the database refused).
                except Exception as error:  # noqa: BLE001
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
        self, row: list[Any], delta: timedelta, values: dict[str, Any]
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
    values: dict[str, Any], old: Any, _row: list[Any], _table: _Table
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
    ("document", "id"): lambda v, _o, _r, _c: v["doc_id"],
    ("document", "number"): lambda v, _o, _r, _c: v["number"],
    ("document", "title"): lambda v, _o, _r, _c: v["title"],
    ("document", "search_text"): lambda v, _o, _r, _c: v["search_text"],
    ("document", "fields"): _fields,
    ("document", "initiator_id"): lambda v, _o, _r, _c: v["initiator"],
    ("document", "department_id"): lambda v, _o, _r, _c: v["department"],
    ("document", "counterparty_id"): lambda v, o, _r, _c: v["party"][0] if o else None,
    ("document", "folder_id"): lambda _v, _o, _r, _c: None,
    ("process", "id"): lambda v, _o, _r, _c: v["process_id"],
    ("process", "document_id"): lambda v, _o, _r, _c: v["doc_id"],
    ("process", "initiator_id"): lambda v, _o, _r, _c: v["initiator"],
    ("stagerun", "process_id"): lambda v, _o, _r, _c: v["process_id"],
    ("steprun", "process_id"): lambda v, _o, _r, _c: v["process_id"],
    ("timer", "process_id"): lambda v, _o, _r, _c: v["process_id"],
    ("task", "process_id"): lambda v, _o, _r, _c: v["process_id"],
    ("task", "assignee_id"): _task_person,
    ("task", "decided_by_id"): lambda v, o, _r, _c: v["person"](o),
    ("task", "on_behalf_of_id"): lambda v, o, _r, _c: v["person"](o),
    ("auditevent", "seq"): lambda v, _o, _r, _c: v["seq"](),
    ("auditevent", "document_id"): lambda v, _o, _r, _c: v["doc_id"],
    ("auditevent", "actor_id"): lambda v, o, _r, _c: v["person"](o),
    ("auditevent", "target_id"): _target,
}


def local_today() -> date:
    from django.utils import timezone

    return timezone.localdate()
