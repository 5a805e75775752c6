"""Serving a stored file version safely (design rule I8), through short-lived
signed links (RELIABILITY.md T37).

A download is two steps. The download URL (web ``documents:download``, API
``file_download``) checks that the caller may see the version, then answers with a
redirect to a link minted at that moment and valid for ``SOGLA_DOWNLOAD_LINK_SECONDS``
(at most 300):

- on the local file system, ``/files/s/<token>/``: the token is the version, its
  organisation and the person, signed with the secret key and a timestamp
  (``TimestampSigner``); a changed, foreign or expired token answers 404;
- on S3 (``SOGLA_STORAGE=s3``), a presigned GET of the object with the same
  lifetime, the attachment file name and the type as response parameters; the
  object store refuses it once expired.

Links are never stored nor mailed: each click mints a new one. The file is always
an attachment with an RFC 6266 file name (no bidirectional controls), the type read
from the content at upload, ``nosniff``, a CSP that sandboxes anything a browser
might still render, and no caching.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from django.utils.http import content_disposition_header

from sogla.core.errors import NotFound
from sogla.core.text import strip_bidi
from sogla.documents.models import FileVersion

DOWNLOAD_CSP = "default-src 'none'; sandbox"
LINK_SALT = "sogla.documents.download"
MAX_LINK_SECONDS = 300


def link_seconds() -> int:
    configured = int(getattr(settings, "SOGLA_DOWNLOAD_LINK_SECONDS", 120))
    return max(1, min(configured, MAX_LINK_SECONDS))


def uses_s3() -> bool:
    storages: Any = settings.STORAGES
    return str(storages["default"]["BACKEND"]).startswith("storages.backends.s3")


def download_link(version: FileVersion, *, user_id: int | None) -> str:
    """A link to ``version``'s bytes, living ``link_seconds()``. Call it only after
    checking that the person may see the version."""
    if uses_s3():
        parameters = {
            "ResponseContentDisposition": content_disposition_header(
                True, strip_bidi(version.original_name)
            ),
            "ResponseContentType": version.mime_type,
            "ResponseCacheControl": "no-store",
        }
        storage: Any = default_storage  # django-storages' S3Storage.url
        return str(
            storage.url(
                version.storage_key, parameters=parameters, expire=link_seconds()
            )
        )
    token = signing.TimestampSigner(salt=LINK_SALT).sign_object(
        {"v": version.pk, "o": version.organisation_id, "u": user_id}
    )
    return reverse("documents:signed_download", args=[token])


def version_for_link(token: str) -> FileVersion:
    """The version a local link names; NotFound when the token was changed, has
    expired or names nothing (whatever the reason)."""
    try:
        data: Any = signing.TimestampSigner(salt=LINK_SALT).unsign_object(
            token, max_age=link_seconds()
        )
        return FileVersion.objects.for_org(int(data["o"])).get(pk=int(data["v"]))
    except (
        signing.BadSignature,
        FileVersion.DoesNotExist,
        KeyError,
        TypeError,
        ValueError,
    ):
        raise NotFound("no such file") from None


INLINE_IMAGES = frozenset({"image/png", "image/jpeg"})


def file_response(version: FileVersion) -> FileResponse:
    return stored_file_response(
        version.storage_key, name=version.original_name, content_type=version.mime_type
    )


def stored_file_response(key: str, *, name: str, content_type: str) -> FileResponse:
    """A stored file (a document's file version, a message's attachment) to save:
    an attachment of its type read at upload, sandboxed, never cached."""
    stream = default_storage.open(key, "rb")
    response = FileResponse(
        stream,
        as_attachment=True,
        # Names are cleaned at upload; rows written before that, or by another
        # path, still never show reordered text in the browser's save dialog.
        filename=strip_bidi(name),
        content_type=content_type,
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
