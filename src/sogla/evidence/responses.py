"""The PDFs of the evidence as HTTP answers, for the card's views and the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from sogla.core.errors import NotFound
from sogla.evidence import selectors, services
from sogla.evidence.models import ProcessEvidence

PDF_CSP = "default-src 'none'; sandbox"


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PDF_CSP
    response["Cache-Control"] = "private, no-store"
    return response


def sheet_response(user_process: Any, language: str) -> HttpResponse:
    evidence = selectors.evidence_of(user_process)
    code = evidence.code if evidence and evidence.approved_version_id else ""
    data = services.sheet_pdf(user_process, language=language, code=code)
    name = services.sheet_file_name(user_process.document, language)
    return pdf_response(data, name)


def stamped_evidence(process: Any) -> ProcessEvidence:
    """The evidence with a stamped copy, made now if the worker has not yet."""
    if process.status != "approved":
        raise NotFound(
            _("There is no stamped copy: the approval has not ended approved.")
        )
    evidence = selectors.evidence_of(process) or services.evidence_make(process)
    if evidence.stamped_version_id is None:
        raise NotFound(_("There is no stamped copy: the document had no PDF file."))
    return evidence
