"""The audit log: append-only, hash-chained events per organisation (rule I6).

``audit_record`` appends one event inside the caller's transaction, so an event
exists exactly when the change it describes was committed. Each organisation has
one chain: event ``n`` stores the hash of event ``n - 1``; ``audit_verify``
recomputes every hash. docs/audit.md gives the exact hash so that an independent
program can check an export.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from sogla.core.models import AuditChainHead, AuditEvent
from sogla.core.prepared import insert_rows
from sogla.core.request_meta import RequestMeta, clean_ip, clean_user_agent
from sogla.orgs.models import Organisation

if TYPE_CHECKING:
    from sogla.orgs.models import User

GENESIS_HASH = "0" * 64
HASH_VERSION = 1
SYSTEM_LABEL = "system"
VERB_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
VERIFY_BATCH = 2000
_SAFE_INT = 2**53


# --- the hash ----------------------------------------------------------------------


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, ASCII only: one text for one value.

    The same as ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=True, allow_nan=False)``.
    """
    return _CANONICAL.encode(value)


def _plain(value: Any) -> Any:
    """JSON types that read back from any database exactly as they were written.

    Floats become integers when whole and strings otherwise (PostgreSQL's jsonb would
    print 1e20 as 100000000000000000000); NUL characters, which PostgreSQL refuses
    in text, become U+FFFD.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < _SAFE_INT:
            return int(value)
        return repr(value)
    if isinstance(value, Mapping):
        return {_plain(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _plain(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def format_time(moment: datetime) -> str:
    """UTC with microseconds and a Z: ``2025-03-01T09:30:00.000000Z``."""
    if moment.utcoffset() is None:
        msg = "audit times must be time-zone aware"
        raise ValueError(msg)
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def event_body(
    *,
    organisation_id: int,
    seq: int,
    created_at: datetime,
    actor_id: int | None,
    actor_label: str,
    verb: str,
    target_type: str,
    target_id: str,
    document_id: int | None,
    payload: Any,
    ip: str,
    user_agent: str,
    prev_hash: str,
) -> dict[str, Any]:
    """Everything an event's hash covers (all its columns but ``hash`` itself)."""
    return {
        "v": HASH_VERSION,
        "organisation": organisation_id,
        "seq": seq,
        "created_at": format_time(created_at),
        "actor": actor_id,
        "actor_label": actor_label,
        "verb": verb,
        "target_type": target_type,
        "target_id": target_id,
        "document": document_id,
        "payload": payload,
        "ip": ip,
        "user_agent": user_agent,
        "prev_hash": prev_hash,
    }


def event_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash followed by the canonical JSON of the body."""
    data = (prev_hash + canonical_json(body)).encode("ascii")
    return hashlib.sha256(data).hexdigest()


# --- writing -------------------------------------------------------------------------


def _locked_head(organisation_id: int) -> AuditChainHead:
    """The organisation's chain head under a row lock held to the end of the
    transaction (PostgreSQL; SQLite's IMMEDIATE transaction already serialises)."""
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(pk=organisation_id).first()
    if head is None:
        # A concurrent first writer may insert the same head: ON CONFLICT DO NOTHING
        # waits for it, then the locked read below sees its row.
        AuditChainHead.objects.bulk_create(
            [
                AuditChainHead(
                    organisation_id=organisation_id, last_seq=0, last_hash=GENESIS_HASH
                )
            ],
            ignore_conflicts=True,
        )
        head = heads.get(pk=organisation_id)
    return head


def audit_record(
    *,
    organisation_id: int,
    verb: str,
    actor: User | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: str | int = "",
    document_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    request_meta: RequestMeta | None = None,
) -> AuditEvent:
    """Append an event to the organisation's chain, in the caller's transaction.

    ``verb`` is dotted past tense (``document.created``). Without ``actor`` the event
    is the system's (``actor_label`` "system") or a guest's (``actor_label`` their
    e-mail). The chain head stays locked until the caller's transaction ends, so
    concurrent writers queue and the chain never forks; a rollback removes the event.
    """
    if not VERB_PATTERN.fullmatch(verb):
        msg = f"audit verb must be dotted lower case, got {verb!r}"
        raise ValueError(msg)
    meta = request_meta or RequestMeta()
    label = actor_label or (actor.get_username() if actor is not None else "")
    fields: dict[str, Any] = {
        "organisation_id": organisation_id,
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": _plain(label or SYSTEM_LABEL)[:300],
        "verb": verb,
        "target_type": _plain(target_type)[:60],
        "target_id": _plain(str(target_id))[:64],
        "document_id": document_id,
        "payload": _plain(dict(payload or {})),
        "ip": clean_ip(meta.ip) if meta.ip else "",
        "user_agent": clean_user_agent(meta.user_agent),
    }
    canonical_json(fields["payload"])  # refuse what cannot be hashed before writing
    return _record(fields)


# The chain head (seq, hash) this process last wrote or read, per database and
# organisation. It is only a guess: the head's UPDATE names it in its WHERE clause
# (a compare-and-set), so a stale guess updates nothing and the locked read follows.
_heads: dict[tuple[str, int], tuple[int, str]] = {}
_batch = threading.local()


@contextmanager
def audit_batch() -> Iterator[None]:
    """Append the events recorded inside the block together, when it ends.

    For one command's transaction: the events keep the order they were recorded
    in and each one's hash chains the previous one as if appended one by one, but
    the chain head is moved once and the events are inserted with one statement.
    ``audit_record`` returns the event unsaved until the block ends (its ``seq``
    and ``hash`` are set then). An exception discards the events (the caller's
    transaction rolls back). Nested blocks append with the outermost one.
    """
    if getattr(_batch, "events", None) is not None:
        yield
        return
    _batch.events = []
    try:
        yield
        events: list[AuditEvent] = _batch.events
    finally:
        _batch.events = None
    if events:
        by_org: dict[int, list[AuditEvent]] = {}
        for event in events:
            by_org.setdefault(event.organisation_id, []).append(event)
        for organisation_id, chain in by_org.items():
            _append(organisation_id, chain)


def _record(fields: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(**fields, created_at=timezone.now())
    pending: list[AuditEvent] | None = getattr(_batch, "events", None)
    if pending is not None:
        pending.append(event)
    else:
        _append(fields["organisation_id"], [event])
    return event


def _link(chain: list[AuditEvent], seq: int, prev_hash: str) -> tuple[int, str]:
    """Number and hash the events after (seq, prev_hash); the new head."""
    for event in chain:
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        body = event_body(
            organisation_id=event.organisation_id,
            seq=seq,
            created_at=event.created_at,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            verb=event.verb,
            target_type=event.target_type,
            target_id=event.target_id,
            document_id=event.document_id,
            payload=event.payload,
            ip=event.ip,
            user_agent=event.user_agent,
            prev_hash=prev_hash,
        )
        prev_hash = event.hash = event_hash(prev_hash, body)
    return seq, prev_hash


@transaction.atomic(savepoint=False)
def _append(organisation_id: int, chain: list[AuditEvent]) -> None:
    """Append ``chain`` to the organisation's log and move its head.

    When this process knows the head, one UPDATE ``WHERE last_seq = .. AND
    last_hash = ..`` both checks it and moves it (and holds the row lock, as
    ``_locked_head`` does); otherwise, or when someone else appended meanwhile,
    the head is read under a lock first.
    """
    key = (connection.alias, organisation_id)
    known = _heads.get(key)
    moved = False
    if known is not None:
        last = _link(chain, *known)
        moved = _move_head(organisation_id, last, known)
    if not moved:
        head = _locked_head(organisation_id)
        last = _link(chain, head.last_seq, head.last_hash)
        _move_head(organisation_id, last)
    insert_rows(chain)  # one INSERT ... RETURNING id
    _heads[key] = last


def _move_head(
    organisation_id: int, to: tuple[int, str], known: tuple[int, str] | None = None
) -> bool:
    """UPDATE the head to ``to`` (only if it still is ``known``, when given)."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_seq = %s, last_hash = %s "  # noqa: S608
        "WHERE organisation_id = %s"
    )
    params: list[Any] = [to[0], to[1], organisation_id]
    if known is not None:
        sql += " AND last_seq = %s AND last_hash = %s"
        params += [known[0], known[1]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)


# --- verifying -----------------------------------------------------------------------

# Problem codes in a ChainReport.
SEQ_GAP = "seq_gap"
PREV_HASH_MISMATCH = "prev_hash_mismatch"
HASH_MISMATCH = "hash_mismatch"
HEAD_MISMATCH = "head_mismatch"

_COLUMNS = (
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
)


@dataclass
class ChainReport:
    """One organisation's chain: how many events, and the first broken one if any."""

    organisation_id: int
    organisation_name: str
    events: int = 0
    broken_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


@dataclass
class VerifyReport:
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(chain.events for chain in self.chains)

    @property
    def intact(self) -> bool:
        return all(chain.intact for chain in self.chains)

    @property
    def broken(self) -> list[ChainReport]:
        return [chain for chain in self.chains if not chain.intact]


def _rows(organisation_id: int) -> Iterator[dict[str, Any]]:
    """The organisation's events in seq order, read in keyset batches."""
    last = -1
    while True:
        batch = list(
            AuditEvent.objects.for_org(organisation_id)
            .filter(seq__gt=last)
            .order_by("seq")
            .values(*_COLUMNS)[:VERIFY_BATCH]
        )
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        last = batch[-1]["seq"]


def _verify_chain(report: ChainReport, head: AuditChainHead | None) -> None:
    def broken(seq: int, problem: str) -> None:
        if report.broken_seq is None:
            report.broken_seq, report.problem = seq, problem

    expected_seq, prev_hash = 1, GENESIS_HASH
    for row in _rows(report.organisation_id):
        report.events += 1
        seq = row["seq"]
        if seq != expected_seq:
            broken(expected_seq, SEQ_GAP)
        if row["prev_hash"] != prev_hash:
            broken(seq, PREV_HASH_MISMATCH)
        stored = row.pop("hash")
        body = event_body(organisation_id=report.organisation_id, **row)
        if event_hash(row["prev_hash"], body) != stored:
            broken(seq, HASH_MISMATCH)
        expected_seq, prev_hash = seq + 1, stored
    head_seq = head.last_seq if head is not None else 0
    head_hash = head.last_hash if head is not None else GENESIS_HASH
    if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
        # Events cut from the end, or appended without moving the head.
        broken(min(head_seq, expected_seq - 1) + 1, HEAD_MISMATCH)


def audit_verify(organisation_id: int | None = None) -> VerifyReport:
    """Recompute every chain (or one organisation's): hashes, links, seq continuity.

    Detects any change to a hashed column, deleted, reordered or inserted events, and
    events removed from (or added at) the end without the chain head. A chain rewritten
    from some point on, head included, verifies: export the head hashes off the
    server to catch that (docs/audit.md).
    """
    organisations = Organisation.objects.order_by("pk")
    if organisation_id is not None:
        organisations = organisations.filter(pk=organisation_id)
    heads = {
        h.organisation_id: h
        for h in AuditChainHead.objects.filter(
            organisation_id__in=organisations.values("pk")
        )
    }
    report = VerifyReport()
    for org_id, name in organisations.values_list("pk", "name"):
        chain = ChainReport(organisation_id=org_id, organisation_name=name)
        _verify_chain(chain, heads.get(org_id))
        report.chains.append(chain)
    return report


VERIFY_CACHE_SECONDS = 300


def audit_chain_intact(organisation_id: int) -> bool:
    """``audit_verify`` for one organisation, remembered while its chain head stays.

    Pages that show "log intact" call this on every view; a full walk costs time in
    proportion to the whole log, so the result is cached per head (seq and hash) for
    five minutes. A new event moves the head and forces a fresh walk; a change that
    leaves the head alone shows up within the five minutes (``sogla audit verify``
    never uses the cache).
    """
    head = (
        AuditChainHead.objects.filter(organisation_id=organisation_id)
        .values_list("last_seq", "last_hash")
        .first()
    )
    key = f"sogla:audit-intact:{organisation_id}:{head[0] if head else 0}:" + (
        head[1] if head else ""
    )
    cached = cache.get(key)
    if cached is None:
        cached = audit_verify(organisation_id).intact
        cache.set(key, cached, VERIFY_CACHE_SECONDS)
    return bool(cached)
