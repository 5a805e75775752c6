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
