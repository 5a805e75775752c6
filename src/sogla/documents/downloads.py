"""Serving a stored file version safely (design rule I8).

Always an attachment with an RFC 6266 file name (no bidirectional controls), the type read from the content at
upload, ``nosniff``, a CSP that sandboxes anything a browser might still render, and
no caching. The web download view and the API both use :func:`file_response`.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse

from sogla.core.text import strip_bidi
from sogla.documents.models import FileVersion

DOWNLOAD_CSP = "default-src 'none'; sandbox"
INLINE_IMAGES = frozenset({"image/png", "image/jpeg"})


def file_response(version: FileVersion) -> FileResponse:
    stream = default_storage.open(version.storage_key, "rb")
    response = FileResponse(
        stream,
        as_attachment=True,
        # Names are cleaned at upload; rows written before that, or by another
        # path, still never show reordered text in the browser's save dialog.
        filename=strip_bidi(version.original_name),
        content_type=version.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def preview_response(key: str, *, content_type: str, name: str) -> FileResponse:
    """Preview bytes (a PDF for pdf.js, a thumbnail, an inline image) with the
    download's guards.

    A PDF goes out as ``application/octet-stream`` and an attachment: pdf.js reads
    the bytes with ``fetch``, and a person who opens the address gets a file to
    save, never a same-origin document the browser would render with its own
    viewer. PNG and JPEG (types read from the content) are shown inline in a
    sandbox with ``nosniff``; nothing else is ever served inline.
    """
    inline = content_type in INLINE_IMAGES
    response = FileResponse(
        default_storage.open(key, "rb"),
        as_attachment=not inline,
        filename=strip_bidi(name),
        content_type=content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
