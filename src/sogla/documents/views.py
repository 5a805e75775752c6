"""Web screens for documents: create, edit, archive, files. Thin over services and
selectors. The registry and the card, which show approvals too, are
``sogla.workflow.pages``; counterparties are ``views_counterparties``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import pending_uploads, selectors
from sogla.documents.access import access_document
from sogla.documents.downloads import download_link, file_response, version_for_link
from sogla.documents.fields import clean_values
from sogla.documents.forms import (
    FieldWidget,
    build_widgets,
    merge_problems,
    uploads_from_post,
    values_from_post,
)
from sogla.documents.models import Document, DocumentType, FieldDef, FieldKind
from sogla.documents.services import (
    GENERAL_FILES,
    NewFile,
    document_archive,
    document_create,
    document_update_fields,
    file_add,
)
from sogla.documents.uploads import check_upload
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user

# --- new document ----------------------------------------------------------------------


@login_required
@require_GET
def type_picker(request: HttpRequest) -> HttpResponse:
    types = selectors.document_types_for(_user(request))
    return render(request, "documents/type_picker.html", {"types": types})


def _widgets(
    user: User,
    fields: list[FieldDef],
    values: dict[str, Any],
    problems: dict[str, list[str]],
    party_category: str = "",
) -> list[FieldWidget]:
    kinds = {f.kind for f in fields}
    users: list[User] = []
    if kinds & {FieldKind.USER, FieldKind.USERS}:
        users = list(selectors.org_users(user))
    party_ids = set()
    for f in fields:
        if f.kind == FieldKind.COUNTERPARTY:
            try:
                party_ids.add(int(values.get(f.key) or 0))
            except (TypeError, ValueError):
                continue
    parties = selectors.counterparties_by_id(user, party_ids - {0})
    return build_widgets(
        fields,
        values,
        problems,
        users=users,
        parties=parties,
        party_category=party_category,
    )


def _summary(
    problems: dict[str, list[str]], widgets: list[FieldWidget]
) -> list[dict[str, str]]:
    """One line per field for the error summary at the top of the form."""
    by_key = {w.key: w for w in widgets}
    lines = []
    for key, texts in problems.items():
        widget = by_key.get(key)
        if widget is not None:
            anchor = widget.input_id
            if widget.kind == FieldKind.COUNTERPARTY:
                anchor = f"{widget.input_id}-search"
            elif widget.as_radios or widget.kind == FieldKind.BOOL:
                anchor = f"{widget.input_id}-0" if widget.as_radios else widget.input_id
            label = widget.definition.label
        elif key == GENERAL_FILES:
            anchor, label = "id_files", _("Files")
        else:
            anchor, label = "", ""
        lines.append({"anchor": anchor, "label": label, "message": " ".join(texts)})
    return lines


def _form_context(
    request: HttpRequest,
    *,
    doc_type: DocumentType,
    fields: list[FieldDef],
    values: dict[str, Any],
    problems: dict[str, list[str]],
    document: Document | None = None,
) -> dict[str, Any]:
    widgets = _widgets(
        _user(request), fields, values, problems, doc_type.counterparty_category
    )
    summary = _summary(problems, widgets)
    return {
        "doc_type": doc_type,
        "document": document,
        "widgets": widgets,
        "problems": problems,
        "summary": summary,
        "summary_title": ngettext(
            "Fix %(count)d field", "Fix %(count)d fields", len(summary)
        )
        % {"count": len(summary)},
        "show_files": document is None,
        "general_errors": problems.get(GENERAL_FILES, []),
    }


@login_required
@app_errors
def document_create_view(request: HttpRequest, key: str) -> HttpResponse:
    user = _user(request)
    found = selectors.document_type_with_fields(user, key)
    doc_type, fields = found.doc_type, found.field_defs
    if request.method != "POST":
        context = _form_context(
            request, doc_type=doc_type, fields=fields, values={}, problems={}
        )
        return render(request, "documents/form.html", context)

    values = values_from_post(fields, request.POST)
    problems: list[FieldProblem] = []
    new_files: list[NewFile] = []
    chosen = uploads_from_post(fields, request.FILES, has_files=doc_type.has_files)
    for field_key, upload in chosen:
        try:
            checked = check_upload(
                field_key or GENERAL_FILES, upload.name, upload, upload.size
            )
        except ValidationFailed as error:
            problems += error.problems
        else:
            new_files.append(NewFile(upload=checked, field_key=field_key))
    # Files kept from a refused submit (documents.pending_uploads): used unless the
    # person removed one or chose another file for the same field.
    dropped = set(request.POST.getlist("pending_drop"))
    tokens = [t for t in request.POST.getlist("pending_files") if t not in dropped]
    pending_uploads.release(user, dropped)
    replaced = {key for key, _upload in chosen if key}
    held: list[pending_uploads.PendingFile] = []
    for kept, checked in pending_uploads.take(user, tokens):
        if kept.field_key in replaced:
            pending_uploads.release(user, [kept.token])
            continue
        held.append(kept)
        new_files.append(NewFile(upload=checked, field_key=kept.field_key))
    if problems:
        # Some uploads are refused: check the values too, but save nothing.
        try:
            clean_values(
                organisation_id=doc_type.organisation_id,
                fields=fields,
                raw=values,
                present_files={f.field_key for f in new_files if f.field_key},
            )
        except ValidationFailed as error:
            problems += error.problems
    else:
        try:
            document = document_create(
                actor=user,
                doc_type=doc_type,
                values=values,
                files=new_files,
                meta=request_meta(request),
            )
        except ValidationFailed as error:
            problems += error.problems
        else:
            pending_uploads.release(user, [kept.token for kept in held])
            messages.success(
                request, _("Created: %(number)s") % {"number": document.number}
            )
            return redirect("documents:card", pk=document.pk)
    # Refused: keep the accepted new files for the next submit, with the kept ones
    # (``new_files`` holds the new uploads first, then the kept ones).
    kept_now = [
        pending_uploads.hold(user, new.field_key, new.upload)
        for new in new_files[: len(new_files) - len(held)]
    ] + held
    context = _form_context(
        request,
        doc_type=doc_type,
        fields=fields,
        values=values,
        problems=merge_problems(problems),
    )
    labels = {f.key: f.label for f in fields}
    context["pending_files"] = [
        (kept, labels.get(kept.field_key, _("Files"))) for kept in kept_now
    ]
    return render(request, "documents/form.html", context, status=422)


@login_required
@app_errors
def document_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = access_document(user, pk, for_write=True)
    found = selectors.document_type_with_fields(user, document.doc_type.key)
    doc_type = found.doc_type
    fields = [f for f in found.field_defs if f.kind != FieldKind.FILE]
    if request.method != "POST":
        context = _form_context(
            request,
            doc_type=doc_type,
            fields=fields,
            values=dict(document.fields),
            problems={},
            document=document,
        )
        return render(request, "documents/form.html", context)
    values = values_from_post(fields, request.POST)
    try:
        document_update_fields(
            actor=user, document=document, values=values, meta=request_meta(request)
        )
    except ValidationFailed as error:
        context = _form_context(
            request,
            doc_type=doc_type,
            fields=fields,
            values=values,
            problems=merge_problems(error.problems),
            document=document,
        )
        return render(request, "documents/form.html", context, status=422)
    messages.success(request, _("Saved: %(number)s") % {"number": document.number})
    return redirect("documents:card", pk=document.pk)


# --- archive, files ---------------------------------------------------------------------


@login_required
@require_POST
@app_errors
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = access_document(user, pk)
    document_archive(actor=user, document=document, meta=request_meta(request))
    messages.success(request, _("Archived: %(number)s") % {"number": document.number})
    return redirect("documents:registry")


@login_required
@require_POST
@app_errors
def file_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A new file, or a new version of ``file_id``; errors come back as messages."""
    user = _user(request)
    document = access_document(user, pk, for_write=True)
    target = None
    if request.POST.get("file_id"):
        target = selectors.document_file_get(
            document=document, pk=request.POST["file_id"]
        )
    field_key = target.field_key if target else request.POST.get("field_key", "")
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed.single("file", "required", _("Choose a file."))
        checked = check_upload(
            field_key or GENERAL_FILES, upload.name or "", upload, upload.size or 0
        )
        version = file_add(
            actor=user,
            document=document,
            new=NewFile(upload=checked, field_key=field_key),
            file=target,
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        for problem in error.problems:
            messages.error(request, str(problem.message))
    else:
        messages.success(
            request,
            _("Uploaded: %(name)s, version %(version)d")
            % {"name": version.original_name, "version": version.version},
        )
    return redirect(f"{document_url(document)}?tab=files")


def document_url(document: Document) -> str:
    return reverse("documents:card", args=[document.pk])


@login_required
@require_GET
@app_errors
def download(request: HttpRequest, version_pk: int) -> HttpResponseBase:
    """Check access, then send the browser to a short-lived link (T37)."""
    user = _user(request)
    version = selectors.file_version_get(user=user, pk=version_pk)
    response = redirect(download_link(version, user_id=user.pk))
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@app_errors
def signed_download(_request: HttpRequest, token: str) -> HttpResponseBase:
    """The bytes behind a link ``download`` minted (no session needed: the
    signature and its age are the permission)."""
    response = file_response(version_for_link(token))
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
