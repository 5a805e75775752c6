"""The approval sheet and the stamped copy from the card, and the public
verification page ``/v/<code>`` (no sign-in, rate-limited)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from sogla.core.request_meta import request_meta
from sogla.evidence import pdfs, selectors, services
from sogla.evidence.models import ProcessEvidence
from sogla.evidence.responses import sheet_response, stamped_evidence
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user


@login_required
@require_GET
@app_errors
def sheet(request: HttpRequest, pk: int) -> HttpResponse:
    process = selectors.process_for_user(signed_in_user(request), pk)
    language = request.GET.get("lang") or get_language() or "ru"
    return sheet_response(process, services.language_for(process, language))


@login_required
@require_GET
@app_errors
def stamped(request: HttpRequest, pk: int) -> HttpResponseBase:
    process = selectors.process_for_user(signed_in_user(request), pk)
    evidence = stamped_evidence(process)
    # The file is a version of the document: its download checks access again
    # and hands out a short-lived link.
    return redirect(reverse("documents:download", args=[evidence.stamped_version_id]))


# --- the public page -------------------------------------------------------------------


def _refused(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(
        request, "evidence/verify_limited.html", {"wait": wait}, status=429
    )
    response["Retry-After"] = str(wait)
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "evidence/verify_unknown.html", status=404)


def _public_headers(response: HttpResponse) -> HttpResponse:
    # same-origin, not no-referrer: with no-referrer the browser sends
    # "Origin: null" on the form's POST and the CSRF check refuses it.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET", "POST"])
@csrf_protect
def verify(request: HttpRequest, code: str) -> HttpResponse:
    wait = services.verify_hit(request_meta(request).ip or "unknown")
    if wait:
        return _public_headers(_refused(request, wait))
    normal = services.normalise_code(code)
    evidence = selectors.evidence_by_code(normal) if normal else None
    if evidence is None or evidence.outcome != "approved":
        return _public_headers(_not_found(request))
    if normal != code:
        return redirect(reverse("evidence:verify", args=[normal]))
    result, problem, status = "", "", 200
    if request.method == "POST":
        result, problem, status = _check_upload(request, evidence)
    context = {
        "evidence": evidence,
        "code_display": services.code_display(evidence.code),
        "document": evidence.document,
        "organisation": evidence.organisation,
        "finished": evidence.process.finished_at,
        "zone": str(selectors.organisation_zone(evidence.organisation)),
        "signers": selectors.signers(evidence),
        "chain_intact": selectors.document_chain_intact(evidence),
        "result": result,
        "problem": problem,
        "max_mb": settings.SOGLA_VERIFY_MAX_MB,
    }
    return _public_headers(
        render(request, "evidence/verify.html", context, status=status)
    )


def _check_upload(
    request: HttpRequest, evidence: ProcessEvidence
) -> tuple[str, str, int]:
    """(result, problem, status): what the uploaded file is, or why it was not
    compared."""
    upload = request.FILES.get("file")
    if upload is None:
        return "", _("Choose a PDF file to compare."), 400
    limit = settings.SOGLA_VERIFY_MAX_MB * 1024 * 1024
    if (upload.size or 0) > limit:
        message = _("The file is too large: at most %(mb)d MB.") % {
            "mb": settings.SOGLA_VERIFY_MAX_MB
        }
        return "", message, 413
    head = upload.read(1024)
    upload.seek(0)
    if not pdfs.is_pdf_head(head):
        return "", _("This is not a PDF file. Upload the PDF you received."), 400
    return selectors.compare_upload(evidence, upload.chunks()), "", 200
