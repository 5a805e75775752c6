"""Making the evidence of a process: the approval sheet on demand, and once the
process has finished the generated files (sheet; stamped copy when approved) with
the public verification code.

``evidence_make`` is idempotent and safe to run twice at once (one row per
process, the loser's transaction rolls back); ``evidence_sweep`` is what the
worker calls. The PDFs are made outside the transaction, which only attaches them.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.documents.models import Document, FileVersion
from sogla.documents.services import file_add_generated
from sogla.evidence import pdfs
from sogla.evidence.models import ProcessEvidence, VerifyHit
from sogla.evidence.selectors import (
    decided_tasks,
    decision_files,
    evidence_of,
    finished_without_evidence,
    generated_file_ids,
    organisation_zone,
    sheet_data,
)
from sogla.workflow.models import Process, ProcessStatus

logger = logging.getLogger("sogla.evidence")

# Crockford's base32: no I, L, O, U; 20 symbols = 100 random bits.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20
PDF = "application/pdf"
LANGUAGES = ("ru", "en")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_display(code: str) -> str:
    """``K7QF-3M9X-…``: the code as printed on the stamp."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(raw: str) -> str:
    """The code as stored, from what a person typed ('' when it cannot be one)."""
    text = raw.upper().replace("-", "").replace(" ", "")
    text = text.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        return ""
    return text


def verify_url(code: str) -> str:
    return settings.SITE_URL + reverse("evidence:verify", args=[code])


def language_for(process: Process, requested: str | None = None) -> str:
    if requested in LANGUAGES:
        return str(requested)
    language = getattr(process.document.organisation, "language", "ru")
    return language if language in LANGUAGES else "ru"


def sheet_pdf(process: Process, *, language: str, code: str = "") -> bytes:
    """The approval sheet as it stands now (any time, also while running)."""
    with translation.override(language):
        data = sheet_data(process)
        zone = data.zone
        context = {
            "s": data,
            "lang": language,
            "zone": str(zone),
            "started": process.started_at.astimezone(zone),
            "finished": process.finished_at.astimezone(zone)
            if process.finished_at
            else None,
            "generated": data.generated_at,
            "code": code_display(code) if code else "",
            "verify_url": verify_url(code) if code else "",
        }
        return pdfs.render_pdf("evidence/sheet.html", context)


def sheet_file_name(document: Document, language: str) -> str:
    with translation.override(language):
        return f"{_('Approval sheet')} {document.number}.pdf"


def stamp_context(process: Process, code: str, language: str) -> dict[str, object]:
    document = process.document
    zone = organisation_zone(document.organisation)
    url = verify_url(code)
    finished = process.finished_at or timezone.now()
    with translation.override(language):
        return {
            "lang": language,
            "organisation": document.organisation.name,
            "number": document.number,
            "finished": finished.astimezone(zone),
            "verify_url": url,
            "code_display": code_display(code),
            "qr_svg": pdfs.qr_svg(url),
        }


def stamp_bytes(process: Process, version: FileVersion, code: str) -> bytes:
    """The stamped copy of ``version`` (raises pdfs.NotAPdf)."""
    with default_storage.open(version.storage_key, "rb") as stream:
        original = stream.read()
    language = language_for(process)
    context = stamp_context(process, code, language)
    with translation.override(language):
        return pdfs.stamp_pdf(original, context)


def main_pdf(process: Process) -> FileVersion | None:
    """The approved main PDF: the first PDF among the files the last decision
    was made on, not counting files Sogla generated."""
    tasks = decided_tasks(process)
    if not tasks:
        return None
    generated_files = generated_file_ids(process.document)
    document = process.document
    for row in decision_files(document, tasks[-1]):
        version = (
            FileVersion.objects.for_org(process.organisation_id)
            .filter(
                file__document_id=document.pk,
                sha256=row.sha256,
                version=row.version,
                original_name=row.name,
            )
            .exclude(file_id__in=generated_files)
            .order_by("file_id")
            .first()
        )
        if version is not None and version.mime_type == PDF:
            return version
    return None


@dataclass
class _Made:
    sheet: bytes
    stamped: bytes | None
    approved: FileVersion | None


def _make_files(process: Process, code: str) -> _Made:
    language = language_for(process)
    approved = main_pdf(process) if process.status == ProcessStatus.APPROVED else None
    stamped = None
    if approved is not None:
        try:
            stamped = stamp_bytes(process, approved, code)
        except pdfs.NotAPdf:
            logger.warning("process %s: main PDF unreadable, no stamp", process.pk)
    sheet = sheet_pdf(
        process, language=language, code=code if approved is not None else ""
    )
    return _Made(sheet, stamped, approved)


def evidence_make(process: Process) -> ProcessEvidence:
    """The finished process's evidence, made now if it was not yet."""
    existing = evidence_of(process)
    if existing is not None:
        return existing
    process = Process.objects.select_related(
        "document__organisation", "initiator", "route_version__template"
    ).get(pk=process.pk, organisation_id=process.organisation_id)
    if process.is_active or process.finished_at is None:
        raise ValueError("the process has not finished")
    code = new_code()
    made = _make_files(process, code)
    document = process.document
    language = language_for(process)
    try:
        with transaction.atomic():
            Process.objects.select_for_update().filter(pk=process.pk).first()
            if ProcessEvidence.objects.filter(process=process).exists():
                raise IntegrityError("made by someone else")
            context = {"process": process.pk}
            sheet = file_add_generated(
                author=process.initiator,
                document=document,
                name=sheet_file_name(document, language),
                data=made.sheet,
                context={**context, "kind": "approval_sheet"},
            )
            stamped = None
            if made.stamped is not None and made.approved is not None:
                stem = PurePath(made.approved.original_name).stem
                with translation.override(language):
                    name = _("%(name)s (stamped).pdf") % {"name": stem}
                stamped = file_add_generated(
                    author=process.initiator,
                    document=document,
                    name=name,
                    data=made.stamped,
                    context={**context, "kind": "stamped_copy"},
                )
            evidence = ProcessEvidence.objects.create(
                organisation_id=process.organisation_id,
                process=process,
                document=document,
                code=code,
                outcome=process.status,
                approved_version=made.approved,
                stamped_version=stamped,
                sheet_version=sheet,
            )
            audit_record(
                organisation_id=process.organisation_id,
                verb="evidence.made",
                target_type="process",
                target_id=process.pk,
                document_id=document.pk,
                payload={
                    "outcome": process.status,
                    "code": code if made.approved is not None else "",
                    "sheet_sha256": sheet.sha256,
                    "approved_sha256": made.approved.sha256 if made.approved else "",
                    "stamped_sha256": stamped.sha256 if stamped else "",
                },
            )
            return evidence
    except IntegrityError:
        found = evidence_of(process)
        if found is None:
            raise
        return found


def evidence_sweep(*, limit: int = 20) -> int:
    """Make the evidence of processes that finished since the last sweep; how many."""
    made = 0
    for process in finished_without_evidence(limit):
        try:
            evidence_make(process)
        except Exception:
            # One broken document must not stop the others (or the worker).
            logger.exception("evidence for process %s failed", process.pk)
            continue
        made += 1
    return made


# --- the public page's rate limit ------------------------------------------------------


def verify_hit(client: str, *, now: datetime | None = None) -> int:
    """Count one request of ``client`` (an address) to the verification page; the
    seconds to wait when it is over ``SOGLA_VERIFY_PER_MINUTE`` this minute, else 0."""
    moment = now or timezone.now()
    window = moment.replace(second=0, microsecond=0)
    key = hashlib.sha256(f"verify:{client}".encode()).hexdigest()
    with transaction.atomic():
        updated = VerifyHit.objects.filter(key=key, window=window).update(
            hits=F("hits") + 1
        )
        if not updated:
            try:
                with transaction.atomic():
                    VerifyHit.objects.create(key=key, window=window, hits=1)
            except IntegrityError:
                VerifyHit.objects.filter(key=key, window=window).update(
                    hits=F("hits") + 1
                )
        hits = VerifyHit.objects.get(key=key, window=window).hits
    if window.minute % 10 == 0 and hits == 1:  # now and then, forget old minutes
        VerifyHit.objects.filter(window__lt=window - timedelta(hours=1)).delete()
    if hits > settings.SOGLA_VERIFY_PER_MINUTE:
        return 60 - moment.second
    return 0
