"""Comparing two versions of a document's file (issue 12 item 3).

``/documents/<pk>/compare/?file=&old=&new=&since=&mode=``: by default the newest
current version against its predecessor; ``since`` (a Unix time, the moment of a
person's last decision) picks as ``old`` the version that was current then. Access
is the card's (``selectors.document_get``); versions of other documents are ignored.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from lxml.etree import XMLSyntaxError

from sogla.documents import selectors
from sogla.documents.compare import (
    Comparison,
    Paragraph,
    compare_texts,
    docx_paragraphs,
    text_paragraphs,
)
from sogla.documents.models import DocumentFile, FilePreview, FileVersion
from sogla.documents.uploads import DOCX
from sogla.documents.viewer import no_preview_reason
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user


class NoText(Exception):
    def __init__(self, message: str, *, preparing: bool = False) -> None:
        super().__init__(message)
        self.preparing = preparing


def version_paragraphs(version: FileVersion) -> list[Paragraph]:
    """The paragraphs of a version's text; NoText when there is none (yet)."""
    if version.mime_type == DOCX:
        try:
            with default_storage.open(version.storage_key, "rb") as source:
                return docx_paragraphs(source)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, XMLSyntaxError):
            pass  # a broken DOCX: fall back to the preview's text
    preview = selectors.file_preview(version)
    if preview is None or preview.state in (
        FilePreview.State.PENDING,
        FilePreview.State.WORKING,
    ):
        raise NoText(
            _("The text of v%(n)s is being prepared…") % {"n": version.version},
            preparing=True,
        )
    if preview.state != FilePreview.State.READY or preview.kind != "pdf":
        reason = (
            no_preview_reason(preview.reason)
            if preview.reason
            else _("there is no text in an image")
        )
        raise NoText(
            _("v%(n)s has no text to compare: %(reason)s.")
            % {"n": version.version, "reason": reason}
        )
    return text_paragraphs(preview.text)


def _pick(versions: list[FileVersion], raw: str) -> FileVersion | None:
    if raw.isdigit():
        return next((v for v in versions if v.pk == int(raw)), None)
    return None


def _since(versions: list[FileVersion], raw: str) -> FileVersion | None:
    try:
        moment = datetime.fromtimestamp(float(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return next((v for v in versions if v.created_at <= moment), None)


@login_required
@require_GET
@app_errors
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.document_get(user=_user(request), pk=pk)
    files = [f for f in found.files if list(f.versions.all())]
    wanted = request.GET.get("file", "")
    file: DocumentFile | None = next(
        (f for f in files if wanted.isdigit() and f.pk == int(wanted)), None
    )
    if file is None and files:
        file = max(files, key=lambda f: f.versions.all()[0].created_at)
    versions = list(file.versions.all()) if file else []  # newest first
    new = _pick(versions, request.GET.get("new", "")) or (
        versions[0] if versions else None
    )
    old = _pick(versions, request.GET.get("old", ""))
    if old is None and request.GET.get("since"):
        old = _since(versions, request.GET["since"])
    if old is None and new is not None:
        old = next((v for v in versions if v.version < new.version), None)
    mode = "side" if request.GET.get("mode") == "side" else "inline"
    context: dict[str, Any] = {
        "document": found.document,
        "files": files,
        "file": file,
        "versions": versions,
        "old": old,
        "new": new,
        "mode": mode,
        "comparison": None,
        "problem": "",
        "preparing": False,
    }
    if old is None or new is None or old.pk == new.pk:
        context["problem"] = (
            _("This file has only one version: nothing to compare.")
            if len(versions) < 2
            else _("Choose two different versions.")
        )
        return render(request, "documents/compare.html", context)
    try:
        comparison: Comparison = compare_texts(
            version_paragraphs(old), version_paragraphs(new)
        )
    except NoText as missing:
        context["problem"] = str(missing)
        context["preparing"] = missing.preparing
    else:
        context["comparison"] = comparison
    return render(request, "documents/compare.html", context)
