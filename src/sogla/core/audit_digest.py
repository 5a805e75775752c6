"""The signed digest of the audit chains' heads: signing, reading, the files.

A digest signs the head (seq, hash) of every organisation's own chain with
HMAC-SHA256 under ``SOGLA_AUDIT_KEY``, which is never stored in the database; the
worker writes one to a new read-only file under ``AUDIT_DIGEST_DIR``
(``sogla.core.audit_anchor``). ``audit_verify`` checks the chains against the
latest one (``latest_digest``) or one given (``read_digest``). docs/audit.md has
the format and the threat model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from sogla.core.audit_hash import canonical_json

FORMAT = "sogla-audit-digest"
FORMAT_VERSION = 1
FILE_PREFIX = "digest-"

# Problems of a digest (Digest.problem).
DIGEST_SIGNATURE = "signature"  # the MAC does not match: changed, or another key
DIGEST_UNREADABLE = "unreadable"  # not a digest at all


# --- the signed digest -------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """A signed digest as read back: where from, when, and each organisation's
    chain head (seq, hash) it vouches for; ``problem`` is set when it cannot be
    trusted (its heads are then not used)."""

    source: str
    created_at: str = ""
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)
    problem: str = ""


def _key() -> bytes:
    return str(settings.AUDIT_KEY).encode()


def key_id() -> str:
    """A name for the key that gives nothing of it away (to tell keys apart)."""
    return hmac.new(_key(), b"sogla-audit-key-id", hashlib.sha256).hexdigest()[:16]


def _mac(document: dict[str, Any]) -> str:
    data = canonical_json(document).encode("ascii")
    return hmac.new(_key(), data, hashlib.sha256).hexdigest()


def signed_text(created_at: str, heads: Iterable[tuple[int, int, str]]) -> str:
    """The digest of these (organisation, seq, hash) heads as one signed JSON line."""
    document = {
        "format": FORMAT,
        "v": FORMAT_VERSION,
        "created_at": created_at,
        "key": key_id(),
        "organisations": [
            {"organisation": org, "seq": seq, "hash": hash_}
            for org, seq, hash_ in heads
        ],
    }
    return canonical_json({"digest": document, "mac": _mac(document)})


def parse_digest(text: str, source: str) -> Digest:
    """A digest from its signed text (a file, a log line or a mail's attachment)."""
    try:
        outer = json.loads(text)
        document, mac = outer["digest"], str(outer["mac"])
        if document["format"] != FORMAT:
            raise ValueError(document["format"])
        heads = {
            int(entry["organisation"]): (int(entry["seq"]), str(entry["hash"]))
            for entry in document["organisations"]
        }
        created = str(document["created_at"])
    except (ValueError, KeyError, TypeError):
        return Digest(source=source, problem=DIGEST_UNREADABLE)
    if not hmac.compare_digest(_mac(document), mac):
        return Digest(source=source, created_at=created, problem=DIGEST_SIGNATURE)
    return Digest(source=source, created_at=created, heads=heads)


def read_digest(path: Path) -> Digest:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return Digest(source=str(path), problem=DIGEST_UNREADABLE)
    return parse_digest(text, str(path))


def _digest_files() -> list[Path]:
    folder = Path(settings.AUDIT_DIGEST_DIR)
    return sorted(folder.glob(f"{FILE_PREFIX}*.json")) if folder.is_dir() else []


def latest_digest() -> Digest | None:
    """The newest digest file (names sort by time), or None before the first."""
    files = _digest_files()
    return read_digest(files[-1]) if files else None


def _file_name(created_at: str) -> str:
    compact = created_at.replace("-", "").replace(":", "")
    return f"{FILE_PREFIX}{compact}.json"  # digest-20250301T093000.000000Z.json


def write_digest_file(created_at: str, text: str) -> Path:
    folder = Path(settings.AUDIT_DIGEST_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _file_name(created_at)
    with path.open("x", encoding="ascii") as out:  # never over an earlier digest
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o440)
    return path


def digest_due(now: datetime | None = None) -> bool:
    """Whether the latest digest is older than AUDIT_DIGEST_HOURS (or missing)."""
    hours = int(settings.AUDIT_DIGEST_HOURS)
    if hours <= 0:
        return False
    files = _digest_files()
    if not files:
        return True
    stamp = files[-1].name.removeprefix(FILE_PREFIX).removesuffix(".json")
    try:
        written = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return True
    return (now or timezone.now()) - written >= timedelta(hours=hours)
