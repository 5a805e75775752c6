"""The hash of an audit event: what an independent verifier recomputes.

docs/audit.md gives the same definition in words; ``sogla.core.audit`` writes and
verifies with these functions.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS_HASH = "0" * 64
HASH_VERSION = 1  # the organisation's chain
CHAIN_HASH_VERSION = 2  # a document's chain: the body also names the chain
ORGANISATION_CHAIN = ""
ANCHOR_VERB = "audit.anchored"  # an organisation's event naming its documents' heads
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
    chain: str = ORGANISATION_CHAIN,
) -> dict[str, Any]:
    """Everything an event's hash covers (all its columns but ``hash`` itself).

    An event of the organisation's chain has the body of version 1, as before
    documents had chains; one of a document's chain has version 2 and ``chain``.
    """
    body = {
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
    if chain:
        body.update(v=CHAIN_HASH_VERSION, chain=chain)
    return body


def event_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash followed by the canonical JSON of the body."""
    data = (prev_hash + canonical_json(body)).encode("ascii")
    return hashlib.sha256(data).hexdigest()


def chain_of(document_id: int | None) -> str:
    """The chain an event goes to: its document's, else its organisation's."""
    return ORGANISATION_CHAIN if document_id is None else f"document:{document_id}"


def chain_document(chain: str) -> int | None:
    """The document id a chain key names (None for the organisation's chain)."""
    return int(chain.removeprefix("document:")) if chain else None
