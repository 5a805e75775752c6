"""Previews in the card: the viewer part (polled while the worker converts), the
preview bytes for pdf.js, the thumbnail and inline images.

Every view finds the version through ``selectors.file_version_get`` (the same
access rules as the download: tenant, confidential types, participants) and
serves bytes through ``downloads.preview_response`` (the download's headers).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sogla.core.errors import NotFound
from sogla.documents import selectors
from sogla.documents.access import access_document
from sogla.documents.downloads import INLINE_IMAGES, preview_response
from sogla.documents.models import FilePreview
from sogla.documents.viewer import viewer_state
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user

# htmx stops polling when a response has this status (the part is swapped in).
STOP_POLLING = 286


@login_required
@require_GET
@app_errors
def preview_part(request: HttpRequest, version_pk: int) -> HttpResponse:
    """The viewer of one version: "preparing…" (polled every 3 s), or the viewer."""
    version, preview = selectors.file_version_with_preview(
        user=_user(request), pk=version_pk
    )
    state = viewer_state(version, preview)
    htmx = request.headers.get("HX-Request") == "true"
    status = 200 if state.preparing or not htmx else STOP_POLLING
    return render(
        request, "documents/partials/viewer.html", {"viewer": state}, status=status
    )


def _ready(request: HttpRequest, version_pk: int) -> FilePreview:
    _version, preview = selectors.file_version_with_preview(
        user=_user(request), pk=version_pk
    )
    if preview is None or preview.state != FilePreview.State.READY:
        raise NotFound("no preview")
    return preview


@login_required
@require_GET
@app_errors
def preview_pdf(request: HttpRequest, version_pk: int) -> HttpResponseBase:
    preview = _ready(request, version_pk)
    if preview.kind != FilePreview.Kind.PDF:
        raise NotFound("no PDF preview")
    key = preview.pdf_key or preview.source_key
    return preview_response(
        key, content_type="application/pdf", name=f"preview-{version_pk}.pdf"
    )


@login_required
@require_GET
@app_errors
def preview_thumbnail(request: HttpRequest, version_pk: int) -> HttpResponseBase:
    preview = _ready(request, version_pk)
    if not preview.thumb_key:
        raise NotFound("no thumbnail")
    return preview_response(
        preview.thumb_key, content_type="image/png", name=f"page-1-{version_pk}.png"
    )


# A transparent pixel for documents without a thumbnail (the card keeps its layout).
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


@login_required
@require_GET
@app_errors
def document_thumbnail(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The first page of a document's first file, for the registry's cards; loaded
    lazily by the browser so the registry page itself makes no query for it."""
    document = access_document(_user(request), pk)
    version_pk = selectors.first_page_thumbnails(document_ids=[document.pk]).get(
        document.pk
    )
    if version_pk is not None:
        version, preview = selectors.file_version_with_preview(
            user=_user(request), pk=version_pk
        )
        if preview is not None and preview.thumb_key:
            return preview_response(
                preview.thumb_key,
                content_type="image/png",
                name=f"page-1-{version.pk}.png",
            )
    response = HttpResponse(BLANK_PNG, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
@app_errors
def preview_image(request: HttpRequest, version_pk: int) -> HttpResponseBase:
    preview = _ready(request, version_pk)
    if preview.kind != FilePreview.Kind.IMAGE or preview.mime_type not in INLINE_IMAGES:
        raise NotFound("not an image")
    return preview_response(
        preview.source_key,
        content_type=preview.mime_type,
        name=f"image-{version_pk}",
    )
