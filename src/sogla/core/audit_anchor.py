"""The audit log's tail, kept where a database intruder cannot rewrite it.

Two steps, both run by the worker (``audit_housekeeping``) and on demand
(``sogla audit digest``):

- **Anchor** (``audit_anchor``): an ``audit.anchored`` event in each organisation's
  own chain names the head (chain, seq, hash) of every document chain of it that
  moved since its last anchor. The organisation's chain then vouches for its
  documents' chains up to there.
- **Digest** (``audit_digest_write``): anchors, then signs the head of every
  organisation's chain (``sogla.core.audit_digest``) into a new read-only file, one
  signed line per organisation to the log (logger ``sogla.audit``) and, with
  ``AUDIT_DIGEST_MAIL``, each organisation's line to its administrators.

docs/audit.md has the format and the threat model.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sogla.core.audit import audit_batch, audit_record, locked_head
from sogla.core.audit_digest import digest_due, signed_text, write_digest_file
from sogla.core.audit_hash import ANCHOR_VERB, ORGANISATION_CHAIN, format_time
from sogla.core.models import AuditChainHead

logger = logging.getLogger("sogla.audit")

ANCHOR_CHUNK = 500  # document chains named by one audit.anchored event


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
    locked_head(organisation_id, ORGANISATION_CHAIN)
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


# --- the digest ------------------------------------------------------------------


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
    path = write_digest_file(created, signed_text(created, heads))
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
            language = getattr(admin, "language", "") or settings.LANGUAGE_CODE
            with translation.override(language):
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
