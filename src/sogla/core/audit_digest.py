"""The audit log's tail, kept where a database intruder cannot rewrite it.

Two steps, both run by the worker (``audit_housekeeping``) and on demand
(``sogla audit digest``):

- **Anchor** (``audit_anchor``): an ``audit.anchored`` event in each organisation's
  own chain names the head (chain, seq, hash) of every document chain of it that
  moved since its last anchor. The organisation's chain then vouches for its
  documents' chains up to there.
- **Digest** (``audit_digest_write``): anchors, then signs the head of every
  organisation's chain with HMAC-SHA256 under ``SOGLA_AUDIT_KEY`` (never stored in
  the database) and writes the signed digest to a new read-only file under
  ``AUDIT_DIGEST_DIR``, one signed line per organisation to the log (logger
  ``sogla.audit``), and with ``AUDIT_DIGEST_MAIL`` each organisation's line to its
  administrators.

``audit_verify`` checks the chains against the latest digest (``latest_digest``) or
one given (``read_digest``): events it covers cannot be removed or changed, heads
and all, without the verifier noticing. docs/audit.md has the format and the threat
model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sogla.core.audit import ANCHOR_VERB, _locked_head, audit_batch, audit_record
from sogla.core.audit_hash import ORGANISATION_CHAIN, canonical_json, format_time
from sogla.core.models import AuditChainHead

logger = logging.getLogger("sogla.audit")

FORMAT = "sogla-audit-digest"
FORMAT_VERSION = 1
ANCHOR_CHUNK = 500  # document chains named by one audit.anchored event
FILE_PREFIX = "digest-"

# Problems of a digest (Digest.problem).
DIGEST_SIGNATURE = "signature"  # the MAC does not match: changed, or another key
DIGEST_UNREADABLE = "unreadable"  # not a digest at all


# --- anchoring ---------------------------------------------------------------------


def audit_anchor(organisation_id: int | None = None) -> int:
    """Anchor the document chains that moved since their last anchor (of every
    organisation, or one); how many chains were anchored."""
    moved = AuditChainHead.objects.exclude(chain=ORGANISATION_CHAIN).filter(
        last_seq__gt=F("anchored_seq")
    )
    if organisation_id is not None:
        moved = moved.filter(organisation_id=organisation_id)
    org_ids = set(moved.values_list("organisation_id", flat=True).distinct())
    return sum(_anchor_organisation(org_id) for org_id in sorted(org_ids))


@transaction.atomic
def _anchor_organisation(organisation_id: int) -> int:
    # The organisation's chain first, its documents' after: the order every writer
    # takes chains in. Heads a command holds right now are skipped (SKIP LOCKED on
    # PostgreSQL) and anchored next time; nobody waits for the worker.
    _locked_head(organisation_id, ORGANISATION_CHAIN)
    heads = list(
        AuditChainHead.objects.select_for_update(skip_locked=True)
        .filter(organisation_id=organisation_id, last_seq__gt=F("anchored_seq"))
        .exclude(chain=ORGANISATION_CHAIN)
        .order_by("chain")
        .only("chain", "last_seq", "last_hash")
    )
    with audit_batch():
        for first in range(0, len(heads), ANCHOR_CHUNK):
            chunk = heads[first : first + ANCHOR_CHUNK]
            audit_record(
                organisation_id=organisation_id,
                verb=ANCHOR_VERB,
                target_type="audit",
                payload={"chains": [[h.chain, h.last_seq, h.last_hash] for h in chunk]},
            )
    for head in heads:
        head.anchored_seq = head.last_seq
    AuditChainHead.objects.bulk_update(heads, ["anchored_seq"], batch_size=ANCHOR_CHUNK)
    return len(heads)


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


def _write_file(created_at: str, text: str) -> Path:
    folder = Path(settings.AUDIT_DIGEST_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _file_name(created_at)
    with path.open("x", encoding="ascii") as out:  # never over an earlier digest
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o440)
    return path


def audit_digest_write(*, now: datetime | None = None) -> Path:
    """Anchor, then sign every organisation chain's head: a new digest file, one
    log line per organisation and, with AUDIT_DIGEST_MAIL, a mail to each
    organisation's administrators. Returns the file."""
    audit_anchor()
    heads = list(
        AuditChainHead.objects.filter(chain=ORGANISATION_CHAIN, last_seq__gt=0)
        .order_by("organisation_id")
        .values_list("organisation_id", "last_seq", "last_hash")
    )
    created = format_time(now or timezone.now())
    path = _write_file(created, signed_text(created, heads))
    for head in heads:
        logger.info("audit digest %s", signed_text(created, [head]))
    if settings.AUDIT_DIGEST_MAIL:
        _mail_administrators(created, heads)
    logger.info("audit digest of %d organisations written to %s", len(heads), path)
    return path


def _mail_administrators(created: str, heads: list[tuple[int, int, str]]) -> None:
    """Each organisation's signed line to its active administrators, sent directly
    (not through the outbox, which lives in the database)."""
    users = get_user_model().objects.filter(is_staff=True, is_active=True)
    for head in heads:
        text = signed_text(created, [head])
        for admin in users.filter(organisation_id=head[0]).exclude(email=""):
            with translation.override(getattr(admin, "language", "") or None):
                subject = _("Audit log digest of %(time)s") % {"time": created}
                body = _(
                    "Keep this message: it records the state of your organisation's "
                    "audit log at %(time)s (event %(seq)s of its chain), signed by "
                    "the server. `sogla audit verify --digest FILE` checks the log "
                    "against the line below saved as FILE; a log changed or cut "
                    "before that moment no longer matches it."
                ) % {"time": created, "seq": head[1]}
            try:
                send_mail(subject, f"{body}\n\n{text}\n", None, [admin.email])
            except OSError:
                logger.exception("audit digest: could not mail %s", admin.email)


# --- the worker's share ------------------------------------------------------------

_next_tick = 0.0


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


def audit_housekeeping(now: datetime | None = None) -> int:
    """Called by the worker on every sweep: every AUDIT_ANCHOR_SECONDS, anchor the
    moved document chains and write the digest when it is due. Returns how many
    chains were anchored (0 between ticks, and always with AUDIT_ANCHOR_SECONDS 0)."""
    global _next_tick  # one schedule per worker process
    every = int(settings.AUDIT_ANCHOR_SECONDS)
    if every <= 0 or time.monotonic() < _next_tick:
        return 0
    _next_tick = time.monotonic() + every
    try:
        anchored = audit_anchor()
        if digest_due(now):
            audit_digest_write(now=now)
    except Exception:
        # Loud, once a tick, but the worker goes on firing timers and sending mail.
        logger.exception("audit anchor or digest failed; retrying in %s s", every)
        return 0
    return anchored


def organisation_names(ids: Iterable[int]) -> dict[int, str]:
    """Organisation names for reports, through the chain heads' foreign key (the
    shared kernel does not import the tenant app)."""
    model = AuditChainHead._meta.get_field("organisation").related_model
    rows = model._default_manager.filter(pk__in=list(ids)).values_list("pk", "name")
    return {pk: str(name) for pk, name in rows}
