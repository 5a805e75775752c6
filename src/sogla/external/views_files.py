"""The guest's files in the viewer: the viewer part (polled while a preview is
made), the preview PDF for pdf.js and inline images. Each finds the version
through the guest session (``selectors.guest_file``: a current version of the
guest's own document; 404 for anything else) and answers with the download's
headers (``documents.downloads.preview_response``) plus the guest pages' own."""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sogla.core.errors import NotFound
from sogla.documents.downloads import INLINE_IMAGES, preview_response
from sogla.documents.models import FilePreview
from sogla.external import selectors
from sogla.external.viewer import GuestViewerState, guest_viewer
from sogla.external.views import guest_session, guest_view, invalid, no_session

# htmx stops polling when a response has this status (the part is swapped in).
STOP_POLLING = 286


class _NoSession(Exception):
    pass


def _state(request: HttpRequest, version_id: int) -> GuestViewerState:
    session = guest_session(request)
    if session is None:
        raise _NoSession
    return guest_viewer(selectors.guest_file(session, version_id))


def _ready(state: GuestViewerState, kind: str) -> FilePreview:
    preview = state.preview
    if preview is None or preview.state != FilePreview.State.READY:
        raise NotFound("no preview")
    if preview.kind != kind:
        raise NotFound("another kind of preview")
    return preview


@require_GET
@guest_view
def file_viewer(request: HttpRequest, version_id: int) -> HttpResponseBase:
    """The viewer of one of the guest's files ("preparing…" is polled every 3 s)."""
    try:
        state = _state(request, version_id)
    except _NoSession:
        return no_session(request)
    except NotFound:
        return invalid(request)
    htmx = request.headers.get("HX-Request") == "true"
    status = 200 if state.preparing or not htmx else STOP_POLLING
    return render(
        request, "documents/partials/viewer.html", {"viewer": state}, status=status
    )


@require_GET
@guest_view
def file_preview_pdf(request: HttpRequest, version_id: int) -> HttpResponseBase:
    try:
        preview = _ready(_state(request, version_id), FilePreview.Kind.PDF)
    except _NoSession:
        return no_session(request)
    except NotFound:
        return invalid(request)
    return preview_response(
        preview.pdf_key or preview.source_key,
        content_type="application/pdf",
        name=f"preview-{version_id}.pdf",
    )


@require_GET
@guest_view
def file_preview_image(request: HttpRequest, version_id: int) -> HttpResponseBase:
    try:
        preview = _ready(_state(request, version_id), FilePreview.Kind.IMAGE)
    except _NoSession:
        return no_session(request)
    except NotFound:
        return invalid(request)
    if preview.mime_type not in INLINE_IMAGES:
        return invalid(request)
    return preview_response(
        preview.source_key, content_type=preview.mime_type, name=f"image-{version_id}"
    )
