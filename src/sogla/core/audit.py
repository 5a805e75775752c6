"""The audit log: append-only, hash-chained events (rule I6).

``audit_record`` appends one event inside the caller's transaction, so an event
exists exactly when the change it describes was committed. An event about a
document goes to that document's chain, any other to its organisation's own chain:
event ``n`` of a chain stores the hash of event ``n - 1``, so commands on different
documents never wait for each other. The worker anchors the documents' chain heads
into the organisation's chain, and signs the organisation chains' heads into a
digest kept outside the database (``sogla.core.audit_anchor``,
``sogla.core.audit_digest``); ``audit_verify``
recomputes every hash and checks the anchors and the latest digest. docs/audit.md
gives the exact hash so that an independent program can check an export.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from sogla.core.audit_digest import Digest, latest_digest
from sogla.core.audit_hash import (
    ANCHOR_VERB,
    GENESIS_HASH,
    ORGANISATION_CHAIN,
    _plain,
    canonical_json,
    chain_of,
    event_body,
    event_hash,
)
from sogla.core.models import AuditChainHead, AuditEvent
from sogla.core.prepared import (
    db,
    insert_rows,
    insert_rows_after,
    insert_rows_sql,
    statement_cursor,
)
from sogla.core.request_meta import RequestMeta, clean_ip, clean_user_agent

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

SYSTEM_LABEL = "system"
VERB_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
VERIFY_BATCH = 2000


# --- writing -------------------------------------------------------------------------


def audit_record(
    *,
    organisation_id: int,
    verb: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: str | int = "",
    document_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    request_meta: RequestMeta | None = None,
) -> AuditEvent:
    """Append an event to its chain, in the caller's transaction.

    ``verb`` is dotted past tense (``document.created``). Without ``actor`` the event
    is the system's (``actor_label`` "system") or a guest's (``actor_label`` their
    e-mail). With ``document_id`` the event goes to the document's chain, without to
    the organisation's. The chain head stays locked until the caller's transaction
    ends, so concurrent writers of one chain queue and it never forks; a rollback
    removes the event.
    """
    if not VERB_PATTERN.fullmatch(verb):
        msg = f"audit verb must be dotted lower case, got {verb!r}"
        raise ValueError(msg)
    meta = request_meta or RequestMeta()
    label = actor_label or (actor.get_username() if actor is not None else "")
    fields: dict[str, Any] = {
        "organisation_id": organisation_id,
        "chain": chain_of(document_id),
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


# The chain heads (seq, hash) this process last wrote or read, per database,
# organisation and chain, the most recent ones only. Each is only a guess: the
# head's UPDATE names it in its WHERE clause (a compare-and-set), so a stale guess
# updates nothing and the locked read follows.
_heads: OrderedDict[tuple[str, int, str], tuple[int, str]] = OrderedDict()
_HEADS_KEPT = 4096
_heads_lock = threading.Lock()
_batch = threading.local()


def _remember(key: tuple[str, int, str], head: tuple[int, str]) -> None:
    with _heads_lock:
        _heads[key] = head
        _heads.move_to_end(key)
        while len(_heads) > _HEADS_KEPT:
            _heads.popitem(last=False)


# Rows a batch inserts with its events: (rows of one model, ignore conflicts).
_Rider = tuple[list[Model], bool]


@contextmanager
def audit_batch() -> Iterator[None]:
    """Append the events recorded inside the block together, when it ends.

    For one command's transaction: the events keep the order they were recorded
    in and each one's hash chains the previous one of its chain as if appended one
    by one, but each chain head is moved once and the events are inserted with one
    statement. ``audit_record`` returns the event unsaved until the block ends (its
    ``seq`` and ``hash`` are set then), and the rows of ``insert_with_events`` go
    in then too. An exception discards both (the caller's transaction rolls back).
    Nested blocks append with the outermost one.
    """
    if getattr(_batch, "events", None) is not None:
        yield
        return
    _batch.events, _batch.riders = [], []
    try:
        yield
        events: list[AuditEvent] = _batch.events
        riders: list[_Rider] = _batch.riders
    finally:
        _batch.events = _batch.riders = None
    if events:
        _append(events, riders)
    else:
        _insert_riders(riders)


def insert_with_events(rows: Sequence[Model], *, ignore_conflicts: bool) -> bool:
    """Inside ``audit_batch``: insert ``rows`` (new rows of one model, whose ids
    nobody reads: they get none) when the batch appends its events, in the same
    transaction; on PostgreSQL in the events' own statement, a round trip fewer
    (a decision's outbox rows). False outside a batch: the caller inserts them."""
    riders: list[_Rider] | None = getattr(_batch, "riders", None)
    if riders is None:
        return False
    if rows:
        riders.append((list(rows), ignore_conflicts))
    return True


def _insert_riders(riders: Iterable[_Rider]) -> None:
    for rows, ignore_conflicts in riders:
        insert_rows(rows, ignore_conflicts=ignore_conflicts)


def _record(fields: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(**fields, created_at=timezone.now())
    pending: list[AuditEvent] | None = getattr(_batch, "events", None)
    if pending is not None:
        pending.append(event)
    else:
        _append([event])
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
            chain=event.chain,
        )
        prev_hash = event.hash = event_hash(prev_hash, body)
    return seq, prev_hash


@transaction.atomic(savepoint=False)
def _append(events: list[AuditEvent], riders: Sequence[_Rider] = ()) -> None:
    """Append ``events`` to their chains, moving each chain's head once.

    Chains are taken in one order (organisation, then chain key: an organisation's
    own chain before its documents'), so two batches never wait for each other in a
    circle (a command writing to several chains records inside ``audit_batch``, as
    the workflow services do). When this process knows a head, one UPDATE ``WHERE
    last_seq = .. AND last_hash = ..`` both checks it and moves it (and holds the
    row lock); otherwise, or when someone else appended meanwhile, the head is read
    under a lock first (and created when the chain is new). ``riders``
    (``insert_with_events``) go in first: on PostgreSQL with one chain whose head
    this process knows, in the same statement as the events.
    """
    chains: dict[tuple[int, str], list[AuditEvent]] = {}
    for event in events:
        chains.setdefault((event.organisation_id, event.chain), []).append(event)
    wrapper = db()
    if len(chains) == 1 and wrapper.vendor == "postgresql":
        appended, riders = _append_one(chains, riders)
        if appended:
            return
    _insert_riders(riders)
    for organisation_id, chain in sorted(chains):
        linked = chains[organisation_id, chain]
        key = (wrapper.alias, organisation_id, chain)
        known = _heads.get(key)
        moved = False
        if known is not None:
            last = _link(linked, *known)
            moved = _move_head(organisation_id, chain, last, known)
        if not moved:
            last = _link(linked, *locked_head(organisation_id, chain))
            _move_head(organisation_id, chain, last)
        _remember(key, last)
    insert_rows(events)  # one INSERT ... RETURNING id


def _append_one(
    chains: dict[tuple[int, str], list[AuditEvent]], riders: Sequence[_Rider]
) -> tuple[bool, Sequence[_Rider]]:
    """PostgreSQL, one chain whose head this process knows: the head's
    compare-and-set, the events' INSERT and the riders' INSERTs as one statement
    (``insert_rows_after``: the events go in only if the head was still the one
    known, and moved; the riders in any case). Whether the events were appended
    (when not, the guess was stale or unknown and ``_append`` goes the long way:
    the locked read), and the riders still to insert."""
    ((organisation_id, chain),) = chains
    key = (connection.alias, organisation_id, chain)
    known = _heads.get(key)
    if known is None:
        return False, riders
    linked = chains[organisation_id, chain]
    last = _link(linked, *known)
    sql, params = _head_update(organisation_id, chain, last, known)
    wrapper = db()
    statements = [
        insert_rows_sql(wrapper, rows, ignore_conflicts=ignore)
        for rows, ignore in riders
    ]
    if not insert_rows_after(linked, sql, params, riders=statements):
        return False, ()
    _remember(key, last)
    return True, ()


def locked_head(organisation_id: int, chain: str) -> tuple[int, str]:
    """The chain's head (seq, hash) under a row lock held to the end of the
    transaction, created at (0, genesis) when the chain is new.

    One upsert: a new row is inserted; an existing one is "updated" to itself, which
    locks it (PostgreSQL; SQLite's IMMEDIATE transaction already serialises) and
    returns it. A concurrent first writer of the same chain waits for the other.
    """
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    sql = (
        f"INSERT INTO {table} (organisation_id, chain, last_seq, last_hash, "  # noqa: S608
        "anchored_seq) VALUES (%s, %s, 0, %s, 0) "
        f"ON CONFLICT (organisation_id, chain) DO UPDATE SET last_seq = {table}.last_seq "
        "RETURNING last_seq, last_hash"
    )
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, [organisation_id, chain, GENESIS_HASH])
        seq, prev = cursor.fetchone()
    return int(seq), str(prev)


def _move_head(
    organisation_id: int,
    chain: str,
    to: tuple[int, str],
    known: tuple[int, str] | None = None,
) -> bool:
    """UPDATE the head to ``to`` (only if it still is ``known``, when given)."""
    sql, params = _head_update(organisation_id, chain, to, known)
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)


def _head_update(
    organisation_id: int,
    chain: str,
    to: tuple[int, str],
    known: tuple[int, str] | None = None,
) -> tuple[str, list[Any]]:
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_seq = %s, last_hash = %s "  # noqa: S608
        "WHERE organisation_id = %s AND chain = %s"
    )
    params: list[Any] = [to[0], to[1], organisation_id, chain]
    if known is not None:
        sql += " AND last_seq = %s AND last_hash = %s"
        params += [known[0], known[1]]
    return sql, params


# --- verifying -----------------------------------------------------------------------

# Problem codes in a ChainReport.
SEQ_GAP = "seq_gap"
PREV_HASH_MISMATCH = "prev_hash_mismatch"
HASH_MISMATCH = "hash_mismatch"
HEAD_MISMATCH = "head_mismatch"
ANCHOR_MISMATCH = "anchor_mismatch"  # a document's chain lacks what was anchored
DIGEST_MISMATCH = "digest_mismatch"  # the organisation's chain lacks what was signed

_COLUMNS = (
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
)


@dataclass
class ChainReport:
    """One organisation's chains: how many events, and the first broken one if any
    (``chain`` names its chain: "" the organisation's own, "document:<id>")."""

    organisation_id: int
    organisation_name: str
    events: int = 0
    broken_seq: int | None = None
    problem: str = ""
    chain: str = ORGANISATION_CHAIN
    chains: int = 0

    @property
    def intact(self) -> bool:
        return self.broken_seq is None

    def broken(self, chain: str, seq: int, problem: str) -> None:
        if self.broken_seq is None:
            self.chain, self.broken_seq, self.problem = chain, seq, problem


@dataclass
class VerifyReport:
    chains: list[ChainReport] = field(default_factory=list)
    digest: Digest | None = None  # the signed digest checked against, if any

    @property
    def events(self) -> int:
        return sum(chain.events for chain in self.chains)

    @property
    def intact(self) -> bool:
        digest_ok = self.digest is None or not self.digest.problem
        return digest_ok and all(chain.intact for chain in self.chains)

    @property
    def broken(self) -> list[ChainReport]:
        return [chain for chain in self.chains if not chain.intact]


def _rows(organisation_id: int) -> Iterator[dict[str, Any]]:
    """The organisation's events by chain ("" first) and seq, in keyset batches."""
    table = AuditEvent._meta.db_table
    after: tuple[str, int] | None = None
    while True:
        rows = AuditEvent.objects.for_org(organisation_id)
        if after is not None:
            rows = rows.extra(  # noqa: S610 - constant SQL, values as parameters
                where=[
                    f"({table}.organisation_id, {table}.chain, {table}.seq) > (%s, %s, %s)"
                ],
                params=[organisation_id, *after],
            )
        batch = list(rows.order_by("chain", "seq").values(*_COLUMNS)[:VERIFY_BATCH])
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        after = (batch[-1]["chain"], batch[-1]["seq"])


class _Walk:
    """One chain walked in seq order, checked link by link; ``mark`` is a (seq,
    hash) it must hold (what an anchor or the digest recorded) and ``head`` its
    head row."""

    def __init__(
        self,
        report: ChainReport,
        chain: str,
        mark: tuple[int, str] | None,
        problem: str,
    ) -> None:
        self.report, self.chain, self.mark, self.mark_problem = (
            report,
            chain,
            mark,
            problem,
        )
        self.seq, self.hash = 0, GENESIS_HASH

    def step(self, row: dict[str, Any]) -> bool:
        """Check one event; whether its own hash is right."""
        report, chain = self.report, self.chain
        report.events += 1
        seq = row["seq"]
        if seq != self.seq + 1:
            report.broken(chain, self.seq + 1, SEQ_GAP)
        if row["prev_hash"] != self.hash:
            report.broken(chain, seq, PREV_HASH_MISMATCH)
        stored = row.pop("hash")
        body = event_body(organisation_id=report.organisation_id, **row)
        sound = bool(event_hash(row["prev_hash"], body) == stored)
        if not sound:
            report.broken(chain, seq, HASH_MISMATCH)
        if self.mark is not None and seq == self.mark[0] and stored != self.mark[1]:
            report.broken(chain, seq, self.mark_problem)
        self.seq, self.hash = seq, stored
        return sound

    def finish(self, head: tuple[int, str] | None) -> None:
        head_seq, head_hash = head or (0, GENESIS_HASH)
        if (head_seq, head_hash) != (self.seq, self.hash):
            # Events cut from the end, or appended without moving the head.
            self.report.broken(self.chain, min(head_seq, self.seq) + 1, HEAD_MISMATCH)
        if self.mark is not None and self.mark[0] > self.seq:
            # Events anchored or signed earlier were cut, head and all.
            self.report.broken(self.chain, self.seq + 1, self.mark_problem)


def _anchored(payload: Any) -> list[tuple[str, int, str]]:
    """The (chain, seq, hash) entries of an ``audit.anchored`` event's payload."""
    try:
        return [(str(c), int(s), str(h)) for c, s, h in payload["chains"]]
    except (KeyError, TypeError, ValueError):
        return []


def _verify_organisation(report: ChainReport, signed: tuple[int, str] | None) -> None:
    """Walk every chain of the organisation: its own first (collecting what it
    anchored), then each document's."""
    heads = {
        chain: (seq, hash_)
        for chain, seq, hash_ in AuditChainHead.objects.filter(
            organisation_id=report.organisation_id
        ).values_list("chain", "last_seq", "last_hash")
    }
    anchors: dict[str, tuple[int, str]] = {}
    walk: _Walk | None = None
    walked: set[str] = set()

    def start(chain: str) -> _Walk:
        if chain == ORGANISATION_CHAIN:
            return _Walk(report, chain, signed, DIGEST_MISMATCH)
        return _Walk(report, chain, anchors.get(chain), ANCHOR_MISMATCH)

    for row in _rows(report.organisation_id):
        chain = row["chain"]
        if walk is None or walk.chain != chain:
            if walk is not None:
                walk.finish(heads.get(walk.chain))
            walk = start(chain)
            walked.add(chain)
        if walk.step(row) and not chain and row["verb"] == ANCHOR_VERB:
            for key, seq, hash_ in _anchored(row["payload"]):
                if seq > anchors.get(key, (0, ""))[0]:
                    anchors[key] = (seq, hash_)
    if walk is not None:
        walk.finish(heads.get(walk.chain))
    # Chains with a head, an anchor or a signature but no event left at all.
    missing = {ORGANISATION_CHAIN} if signed else set()
    for chain in sorted((set(heads) | set(anchors) | missing) - walked):
        start(chain).finish(heads.get(chain))
    report.chains = len(walked | set(heads))


def audit_verify(
    organisation_id: int | None = None, *, digest: Digest | None = None
) -> VerifyReport:
    """Recompute every chain (or one organisation's): hashes, links, seq continuity,
    heads, anchors, and the organisation chains' heads in the signed digest.

    ``digest`` is the latest one the worker wrote unless given (``--digest FILE``).
    Detects any change to a hashed column; deleted, reordered or inserted events;
    events removed from (or added at) the end without the head; and, up to the
    latest digest, any rewrite or removal of events, heads included. What was
    written since the digest can still be cut or rewritten with its heads by
    someone who can write to the database (docs/audit.md).
    """
    signed = digest if digest is not None else latest_digest()
    trusted = signed.heads if signed is not None and not signed.problem else {}
    if organisation_id is not None:
        ids = {organisation_id}
    else:
        heads = AuditChainHead.objects.values_list("organisation_id", flat=True)
        events = AuditEvent.objects.values_list("organisation_id", flat=True)
        ids = set(heads.distinct()) | set(events.distinct()) | set(trusted)
    names = organisation_names(ids)
    report = VerifyReport(digest=signed)
    for org_id in sorted(ids):
        chain = ChainReport(
            organisation_id=org_id, organisation_name=names.get(org_id, "")
        )
        _verify_organisation(chain, trusted.get(org_id))
        report.chains.append(chain)
    return report


def audit_verify_document(organisation_id: int, document_id: int) -> ChainReport:
    """Recompute one document's chain: hashes, links, seq continuity and its head
    (what the public verification page shows; anchors are checked by
    ``audit_verify``)."""
    chain = chain_of(document_id)
    report = ChainReport(organisation_id=organisation_id, organisation_name="")
    head = (
        AuditChainHead.objects.filter(organisation_id=organisation_id, chain=chain)
        .values_list("last_seq", "last_hash")
        .first()
    )
    walk = _Walk(report, chain, None, ANCHOR_MISMATCH)
    rows = (
        AuditEvent.objects.for_org(organisation_id)
        .filter(chain=chain)
        .order_by("seq")
        .values(*_COLUMNS)
    )
    for row in rows.iterator(chunk_size=VERIFY_BATCH):
        walk.step(row)
    walk.finish(head)
    report.chains = 1
    return report


def organisation_names(ids: Iterable[int]) -> dict[int, str]:
    """Organisation names for reports, through the chain heads' foreign key (the
    shared kernel does not import the tenant app)."""
    model = AuditChainHead._meta.get_field("organisation").related_model
    rows = model._default_manager.filter(pk__in=list(ids)).values_list("pk", "name")
    return {pk: str(name) for pk, name in rows}


VERIFY_CACHE_SECONDS = 300


def audit_chain_intact(organisation_id: int) -> bool:
    """``audit_verify`` for one organisation, remembered while its own chain's head
    stays.

    Pages that show "log intact" call this on every view; a full walk costs time in
    proportion to the whole log, so the result is cached per head (seq and hash) for
    five minutes. A new event of the organisation's chain, or the worker's next
    anchor of its documents' chains (every minute), moves the head and forces a
    fresh walk; a change that leaves the head alone shows up within the five
    minutes (``sogla audit verify`` never uses the cache).
    """
    head = (
        AuditChainHead.objects.filter(
            organisation_id=organisation_id, chain=ORGANISATION_CHAIN
        )
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
