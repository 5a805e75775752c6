"""audit_verify and ``sogla audit verify``: every kind of tampering is found (T24)."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from sogla.core.audit import (
    HASH_MISMATCH,
    HEAD_MISMATCH,
    PREV_HASH_MISMATCH,
    SEQ_GAP,
    audit_record,
    audit_verify,
)
from sogla.core.audit_anchor import audit_digest_write
from sogla.core.audit_hash import GENESIS_HASH, event_body, event_hash
from sogla.core.management.commands.audit import Command as AuditCommand
from sogla.core.models import AuditEvent
from sogla.core.request_meta import RequestMeta
from sogla.documents.models import Document
from sogla.documents.services import document_create
from sogla.orgs.models import User
from tests.conftest import Tenant
from tests.factories import OrganisationFactory

TAMPER_ATTEMPTS = 1000
CHAIN_LENGTH = 200

HASHED_COLUMNS = [
    "organisation_id",
    "chain",
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "verb",
    "target_type",
    "target_id",
    "document_id",
    "payload",
    "ip",
    "user_agent",
    "prev_hash",
    "hash",
]


def _sql(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _triggers_off() -> None:
    """Let raw SQL change audit rows, as an intruder with database access could.
    The test's transaction is rolled back at its end, which restores the trigger."""
    if connection.vendor == "postgresql":
        # Deferred foreign-key checks of this transaction's inserts must run first.
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
        _sql("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
    else:
        _sql("DROP TRIGGER core_auditevent_no_update")


def _build_chain(tenant: Tenant, length: int) -> list[Document]:
    docs = [
        document_create(
            actor=tenant.initiator,
            doc_type=tenant.contract,
            values={"subject": f"Договор {n}", "amount": str(1000 * n)},
            meta=RequestMeta(ip="203.0.113.1", user_agent="Browser/1"),
        )
        for n in range(1, 4)
    ]
    rng = random.Random(7)
    users = [tenant.initiator, tenant.colleague, tenant.admin, None]
    while AuditEvent.objects.for_org(tenant.org).count() < length:
        actor = rng.choice(users)
        doc = rng.choice([*docs, None])
        audit_record(
            organisation_id=tenant.org.pk,
            verb=rng.choice(["task.decided", "process.started", "document.viewed"]),
            actor=actor,
            actor_label="" if actor else "guest@example.com",
            target_type="document" if doc else "task",
            target_id=doc.pk if doc else rng.randint(1, 10_000),
            document_id=doc.pk if doc else None,
            payload={
                "decision": rng.choice(["approve", "reject"]),
                "comment": "Согласовано" * rng.randint(0, 3),
                "round": rng.randint(1, 3),
                "sha256": f"{rng.getrandbits(256):064x}",
                "flags": [True, None, 1],
            },
            request_meta=RequestMeta(
                ip=rng.choice(["198.51.100.7", "2001:db8::7", ""]),
                user_agent=rng.choice(["Mozilla/5.0", "Telegram", ""]),
            ),
        )
    return docs


def test_intact_chains_verify(tenant_a: Tenant, tenant_b: Tenant) -> None:
    _build_chain(tenant_a, 30)
    audit_record(organisation_id=tenant_b.org.pk, verb="x.done")
    report = audit_verify()
    assert report.intact
    assert report.events == 31
    assert report.broken == []
    by_org = {c.organisation_id: c for c in report.chains}
    assert by_org[tenant_a.org.pk].events == 30
    assert by_org[tenant_b.org.pk].events == 1
    assert audit_verify(tenant_b.org.pk).events == 1


def test_reads_long_chains_in_batches(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sogla.core.audit.VERIFY_BATCH", 7)
    for _ in range(30):
        audit_record(organisation_id=tenant_a.org.pk, verb="x.done")
    assert audit_verify(tenant_a.org.pk).events == 30
    assert audit_verify(tenant_a.org.pk).intact


@pytest.mark.parametrize(
    "key", [k for k in event_body.__annotations__ if k != "return"]
)
def test_the_hash_covers_every_field(key: str) -> None:
    from datetime import UTC, datetime

    body: dict[str, Any] = {
        "organisation_id": 1,
        "seq": 5,
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "actor_id": 3,
        "actor_label": "ivanov",
        "verb": "task.decided",
        "target_type": "task",
        "target_id": "9",
        "document_id": 4,
        "payload": {"decision": "approve"},
        "ip": "192.0.2.1",
        "user_agent": "UA",
        "prev_hash": GENESIS_HASH,
        "chain": "document:4",
    }
    changed = dict(body)
    changed[key] = {
        "created_at": body["created_at"] + timedelta(microseconds=1),
        "payload": {"decision": "reject"},
        "prev_hash": "1" * 64,
    }.get(key, 99 if isinstance(body[key], int) else f"{body[key]}x")
    original = event_hash(body["prev_hash"], event_body(**body))
    assert event_hash(changed["prev_hash"], event_body(**changed)) != original


# --- T24: tamper attempts ----------------------------------------------------------------


class Tamperer:
    """Random single changes to the audit table through raw SQL, each inside one
    chain (the organisation's own or a document's) unless it moves an event."""

    def __init__(self, tenant: Tenant, rng: random.Random) -> None:
        self.org_id = tenant.org.pk
        self.rng = rng
        self.spare_org_id = OrganisationFactory(name="Spare", slug="spare").pk
        self.user_ids = list(User.objects.values_list("pk", flat=True))
        self.doc_ids = list(Document.objects.values_list("pk", flat=True))
        self.rows = list(
            AuditEvent.objects.for_org(self.org_id)
            .order_by("chain", "seq")
            .values("id", *HASHED_COLUMNS)
        )
        self.chains: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows:
            self.chains.setdefault(row["chain"], []).append(row)
        self.kinds: dict[str, Callable[[], None]] = {
            **{f"edit {c}": self._editor(c) for c in HASHED_COLUMNS},
            "delete an event": self._delete,
            "delete the last events": self._truncate,
            "swap two events": self._swap,
            "insert a forged event in the middle": self._insert_middle,
            "append an event without the head": self._append,
            "edit the chain head": self._edit_head,
            # Beyond what a hash chain alone shows: the signed digest's part.
            "delete the last events and roll the head back": self._cut_tail,
            "rewrite the chain from an event on, head included": self._rewrite_tail,
        }

    def _row(self) -> dict[str, Any]:
        return self.rng.choice(self.rows)

    def _chain(self, at_least: int = 1) -> list[dict[str, Any]]:
        """The rows of a random chain with at least that many events."""
        chains = [rows for rows in self.chains.values() if len(rows) >= at_least]
        return self.rng.choice(chains)

    def _set(self, row_id: int, column: str, value: Any) -> None:
        placeholder = "%s"
        if column == "payload" and connection.vendor == "postgresql":
            placeholder = "CAST(%s AS jsonb)"
        _sql(
            f"UPDATE core_auditevent SET {column} = {placeholder} WHERE id = %s",  # noqa: S608
            [value, row_id],
        )

    def _new_value(self, column: str, old: Any) -> Any:
        rng = self.rng
        if column == "organisation_id":
            return self.spare_org_id
        if column == "chain":  # moved to a chain of its own
            return f"document:{rng.randint(10**6, 10**7)}"
        if column == "seq":
            return old + rng.randint(1000, 10**6)
        if column == "created_at":
            shift = timedelta(microseconds=rng.choice([1, 1000, 10**6, 86_400 * 10**6]))
            return connection.ops.adapt_datetimefield_value(
                old + rng.choice([shift, -shift])
            )
        if column in ("actor_id", "document_id"):
            ids = self.user_ids if column == "actor_id" else self.doc_ids
            return rng.choice([None, *[i for i in ids if i != old]])
        if column == "payload":
            payload = json.loads(json.dumps(old))
            mutation = rng.randrange(4)
            if mutation == 0:
                payload["injected"] = rng.randint(0, 9)
            elif mutation == 1 and payload:
                payload.pop(rng.choice(sorted(payload)))
            elif mutation == 2 and payload:
                key = rng.choice(sorted(payload))
                payload[key] = str(payload[key]) + "!"
            else:
                payload = {**payload, "decision": "approve-forged"}
            return json.dumps(payload)
        if column == "ip":
            return rng.choice(["10.9.9.9", "", "2001:db8::99"])
        text = str(old)
        if column in ("prev_hash", "hash"):
            pos = rng.randrange(64)
            digit = rng.choice([d for d in "0123456789abcdef" if d != text[pos]])
            return text[:pos] + digit + text[pos + 1 :]
        return rng.choice([text + "x", text[:-1], "X" + text[1:], ""])

    def _editor(self, column: str) -> Callable[[], None]:
        def edit() -> None:
            row = self._row()
            old = row[column]
            value = self._new_value(column, old)
            for _ in range(20):
                if not self._same(column, old, value):
                    break
                value = self._new_value(column, old)
            else:
                msg = f"no different value for {column}"
                raise AssertionError(msg)
            self._set(row["id"], column, value)

        return edit

    @staticmethod
    def _same(column: str, old: Any, value: Any) -> bool:
        if column == "payload":
            return bool(json.loads(value) == old)
        if column == "created_at":
            return False
        return bool(value == old)

    def _delete(self) -> None:
        _sql("DELETE FROM core_auditevent WHERE id = %s", [self._row()["id"]])

    def _truncate(self) -> None:
        count = self.rng.randint(1, 5)
        for row in self._chain()[-count:]:
            _sql("DELETE FROM core_auditevent WHERE id = %s", [row["id"]])

    def _swap(self) -> None:
        first, second = self.rng.sample(self._chain(at_least=2), 2)
        _sql("UPDATE core_auditevent SET seq = %s WHERE id = %s", [10**12, first["id"]])
        _sql(
            "UPDATE core_auditevent SET seq = %s WHERE id = %s",
            [first["seq"], second["id"]],
        )
        _sql(
            "UPDATE core_auditevent SET seq = %s WHERE id = %s",
            [second["seq"], first["id"]],
        )

    def _forged(
        self,
        chain: str,
        seq: int,
        prev_hash: str,
        template: dict[str, Any] | None = None,
    ) -> list[Any]:
        """A row whose own hash is correct: only its place in the chain betrays it
        (a random event made a decision, or ``template`` as it is)."""
        source = template or {**self._row(), "verb": "task.decided"}
        fields = {
            k: source[k] for k in HASHED_COLUMNS if k not in ("hash", "organisation_id")
        }
        fields.update(chain=chain, seq=seq, prev_hash=prev_hash)
        digest = event_hash(
            prev_hash, event_body(organisation_id=self.org_id, **fields)
        )
        created = connection.ops.adapt_datetimefield_value(fields["created_at"])
        return [
            self.org_id,
            chain,
            seq,
            created,
            fields["actor_id"],
            fields["actor_label"],
            fields["verb"],
            fields["target_type"],
            fields["target_id"],
            fields["document_id"],
            json.dumps(fields["payload"]),
            fields["ip"],
            fields["user_agent"],
            prev_hash,
            digest,
        ]

    def _insert(self, values: list[Any]) -> None:
        payload = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        marks = ", ".join(["%s"] * 10 + [payload] + ["%s"] * 4)
        _sql(
            f"INSERT INTO core_auditevent ({', '.join(HASHED_COLUMNS)}) "  # noqa: S608
            f"VALUES ({marks})",
            values,
        )

    def _insert_middle(self) -> None:
        rows = self._chain(at_least=3)
        index = self.rng.randrange(1, len(rows) - 1)
        at = rows[index]
        where = "WHERE organisation_id = %s AND chain = %s AND seq >= %s"
        _sql(
            f"UPDATE core_auditevent SET seq = seq + %s {where}",  # noqa: S608
            [10**9, self.org_id, at["chain"], at["seq"]],
        )
        _sql(
            f"UPDATE core_auditevent SET seq = seq - %s {where}",  # noqa: S608
            [10**9 - 1, self.org_id, at["chain"], 10**9],
        )
        self._insert(self._forged(at["chain"], at["seq"], rows[index - 1]["hash"]))

    def _append(self) -> None:
        last = self._chain()[-1]
        self._insert(self._forged(last["chain"], last["seq"] + 1, last["hash"]))

    def _edit_head(self) -> None:
        _sql(
            "UPDATE core_auditchainhead SET last_seq = last_seq + %s "
            "WHERE organisation_id = %s AND chain = %s",
            [self.rng.choice([-3, -1, 1, 5]), self.org_id, self._chain()[0]["chain"]],
        )

    def _set_head(self, chain: str, seq: int, hash_: str) -> None:
        _sql(
            "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s "
            "WHERE organisation_id = %s AND chain = %s",
            [seq, hash_, self.org_id, chain],
        )

    def _cut_tail(self) -> None:
        """What a hash chain alone cannot show (issue: the chain's tail): the last
        events deleted and the head rolled back to the event before them."""
        rows = self._chain()
        count = self.rng.randint(1, min(5, len(rows)))
        for row in rows[-count:]:
            _sql("DELETE FROM core_auditevent WHERE id = %s", [row["id"]])
        kept = rows[: len(rows) - count]
        last: dict[str, Any] = kept[-1] if kept else {"seq": 0, "hash": GENESIS_HASH}
        self._set_head(rows[0]["chain"], last["seq"], last["hash"])

    def _rewrite_tail(self) -> None:
        """Every event from one on replaced by a forged one with correct hashes and
        links, and the head moved to the forged end: a consistent, false chain."""
        rows = self._chain()
        index = self.rng.randrange(len(rows))
        prev = rows[index - 1]["hash"] if index else GENESIS_HASH
        for row in rows[index:]:
            _sql("DELETE FROM core_auditevent WHERE id = %s", [row["id"]])
        for row in rows[index:]:
            forged = {**row, "actor_label": f"{row['actor_label']}-forged"}
            values = self._forged(row["chain"], row["seq"], prev, forged)
            self._insert(values)
            prev = values[-1]
        self._set_head(rows[0]["chain"], rows[-1]["seq"], prev)


@pytest.mark.slow  # a stress test (random tampering)
def test_t24_every_tampering_is_detected(
    tenant_a: Tenant,
    tenant_b: Tenant,
    capsys: pytest.CaptureFixture[str],
    settings: Any,
    tmp_path: Path,
) -> None:
    _build_chain(tenant_a, CHAIN_LENGTH)
    audit_record(organisation_id=tenant_b.org.pk, verb="x.done")
    # The worker's daily step: documents' chains anchored, every head signed.
    settings.AUDIT_DIGEST_DIR = tmp_path
    audit_digest_write()
    report = audit_verify()
    assert report.intact
    assert report.digest is not None
    assert not report.digest.problem
    _triggers_off()
    rng = random.Random(24)
    tamperer = Tamperer(tenant_a, rng)
    attempted: Counter[str] = Counter()
    detected: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    started = time.perf_counter()

    for _ in range(TAMPER_ATTEMPTS):
        kind = rng.choice(sorted(tamperer.kinds))
        savepoint = transaction.savepoint()
        try:
            tamperer.kinds[kind]()
            report = audit_verify(tenant_a.org.pk)
            other = audit_verify(tenant_b.org.pk)
        finally:
            transaction.savepoint_rollback(savepoint)
        attempted[kind] += 1
        if not report.intact:
            detected[kind] += 1
            problems[report.chains[0].problem] += 1
        assert other.intact, kind  # tampering stays inside its chain

    elapsed = time.perf_counter() - started
    assert audit_verify().intact  # every attempt was undone
    with capsys.disabled():
        print(
            f"\nT24: tamper attempts {sum(attempted.values())}, detected "
            f"{sum(detected.values())} ({len(attempted)} kinds over a chain of "
            f"{CHAIN_LENGTH} events, {elapsed:.1f} s; first problems "
            f"{dict(sorted(problems.items()))})"
        )
    assert {
        k: attempted[k] - detected[k] for k in attempted if detected[k] != attempted[k]
    } == {}
    assert sum(detected.values()) == TAMPER_ATTEMPTS
    assert set(attempted) == set(tamperer.kinds)


def test_report_names_the_first_broken_event_and_problem(tenant_a: Tenant) -> None:
    events = [
        audit_record(organisation_id=tenant_a.org.pk, verb="x.done") for _ in range(6)
    ]
    _triggers_off()

    def first_problem() -> tuple[int | None, str]:
        chain = audit_verify(tenant_a.org.pk).chains[0]
        return chain.broken_seq, chain.problem

    def attempt(sql: str, params: list[Any]) -> tuple[int | None, str]:
        savepoint = transaction.savepoint()
        _sql(sql, params)
        result = first_problem()
        transaction.savepoint_rollback(savepoint)
        return result

    update = "UPDATE core_auditevent SET {} WHERE id = %s"
    assert attempt(update.format("verb = 'x.forged'"), [events[2].pk]) == (
        3,
        HASH_MISMATCH,
    )
    assert attempt(update.format("prev_hash = %s"), ["f" * 64, events[3].pk]) == (
        4,
        PREV_HASH_MISMATCH,
    )
    assert attempt("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk]) == (
        2,
        SEQ_GAP,
    )
    assert attempt("DELETE FROM core_auditevent WHERE id = %s", [events[5].pk]) == (
        6,
        HEAD_MISMATCH,
    )
    assert first_problem() == (None, "")


# --- the command -----------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str, str]:
    """Run ``sogla audit ...`` as from the command line: exit code, stdout, stderr."""
    out, err = StringIO(), StringIO()
    command = AuditCommand(stdout=out, stderr=err)
    try:
        command.run_from_argv(["sogla", "audit", *args])
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def _no_connection_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_from_argv closes the connection at the end; keep the test's transaction."""
    monkeypatch.setattr(
        "django.core.management.base.connections.close_all", lambda: None
    )


NO_DIGEST = (
    "No signed digest yet: events written since the last one could be removed "
    "unnoticed (the worker writes one daily; `sogla audit digest` writes one now).\n"
)


@pytest.mark.usefixtures("_no_connection_close")
def test_command_exit_codes(tenant_a: Tenant, tenant_b: Tenant) -> None:
    for _ in range(3):
        audit_record(organisation_id=tenant_a.org.pk, verb="x.done")
    audit_record(organisation_id=tenant_b.org.pk, verb="x.done")

    assert _run("verify") == (0, "4 events, chain intact\n" + NO_DIGEST, "")
    assert _run("verify", "--organisation", str(tenant_b.org.pk)) == (
        0,
        "1 event, chain intact\n" + NO_DIGEST,
        "",
    )

    _triggers_off()
    _sql(
        "UPDATE core_auditevent SET actor_label = 'someone' "
        "WHERE organisation_id = %s AND seq = 2",
        [tenant_a.org.pk],
    )
    code, out, err = _run("verify")
    assert (code, out) == (1, NO_DIGEST)
    assert (
        f"Organisation “Alpha” (id {tenant_a.org.pk}): the audit chain is broken at "
        "event 2: the event was changed after it was written." in err
    )
    assert "1 organisation has a broken audit chain." in err
    assert _run("verify", "--organisation", str(tenant_b.org.pk))[0] == 0


def test_call_command_raises_with_exit_code_one(tenant_a: Tenant) -> None:
    audit_record(organisation_id=tenant_a.org.pk, verb="x.done")
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue() == "1 event, chain intact\n" + NO_DIGEST
    _triggers_off()
    _sql("UPDATE core_auditchainhead SET last_seq = 7")
    with pytest.raises(CommandError) as error:
        call_command("audit", "verify", stderr=StringIO())
    assert error.value.returncode == 1


def test_chain_intact_check_is_cached_per_chain_head(
    tenant_a: Tenant, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    from django.core.cache import cache

    from sogla.core.audit import audit_chain_intact

    cache.clear()
    for _ in range(30):
        audit_record(organisation_id=tenant_a.org.pk, verb="x.done")
    assert audit_chain_intact(tenant_a.org.pk) is True
    with django_assert_max_num_queries(1):  # the head only; no walk of the log
        assert audit_chain_intact(tenant_a.org.pk) is True
    event = AuditEvent.objects.filter(organisation=tenant_a.org).order_by("seq")[3]
    _triggers_off()
    _sql("UPDATE core_auditevent SET verb = 'x.forged' WHERE id = %s", [event.pk])
    audit_record(organisation_id=tenant_a.org.pk, verb="x.done")  # the head moves
    assert audit_chain_intact(tenant_a.org.pk) is False
