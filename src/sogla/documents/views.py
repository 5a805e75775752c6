"""Web screens for documents and counterparties: thin over services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import FieldProblem, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import selectors
from sogla.documents.access import access_document, can_edit
from sogla.documents.downloads import file_response
from sogla.documents.fields import clean_values, display_value
from sogla.documents.forms import (
    CounterpartyForm,
    FieldWidget,
    RegistryFilterForm,
    build_widgets,
    merge_problems,
    uploads_from_post,
    values_from_post,
)
from sogla.documents.models import (
    Counterparty,
    Document,
    DocumentType,
    FieldDef,
    FieldKind,
)
from sogla.documents.services import (
    GENERAL_FILES,
    CounterpartyData,
    NewFile,
    counterparty_create,
    document_archive,
    document_create,
    document_update_fields,
    file_add,
)
from sogla.documents.uploads import check_upload
from sogla.orgs.access import is_org_admin
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return bool(htmx.target == target and not htmx.history_restore_request)


# --- registry ------------------------------------------------------------------------


@login_required
@require_GET
@app_errors
def registry(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    types = list(selectors.document_types_for(user))
    statuses: dict[str, str] = {}
    for status in selectors.statuses_for(user).order_by("order", "id"):
        statuses.setdefault(status.key, status.name)
    parties = [
        (c.pk, c.name) for c in selectors.counterparty_search(user=user, limit=200)
    ]
    form = RegistryFilterForm(
        request.GET,
        types=[(t.key, t.name) for t in types],
        statuses=list(statuses.items()),
        counterparties=parties,
    )
    form.is_valid()
    filters = form.to_filter()
    page = selectors.document_list(
        user=user, filters=filters, cursor=request.GET.get("cursor", "")
    )
    from sogla.workflow.views_support import stage_summaries

    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "lights": stage_summaries(user=user, documents=page.items),
        "filters": filters,
        "active_filters": form.active_filters(),
        "has_types": bool(types),
        "is_first_page": not request.GET.get("cursor"),
    }
    template = (
        "documents/partials/registry_results.html"
        if _is_partial(request, "results")
        else "documents/registry.html"
    )
    return render(request, template, context)


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
    return build_widgets(fields, values, problems, users=users, parties=parties)


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
    widgets = _widgets(_user(request), fields, values, problems)
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
    for field_key, upload in uploads_from_post(
        fields, request.FILES, has_files=doc_type.has_files
    ):
        try:
            checked = check_upload(
                field_key or GENERAL_FILES, upload.name, upload, upload.size
            )
        except ValidationFailed as error:
            problems += error.problems
        else:
            new_files.append(NewFile(upload=checked, field_key=field_key))
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
            messages.success(
                request, _("Created: %(number)s") % {"number": document.number}
            )
            return redirect("documents:card", pk=document.pk)
    context = _form_context(
        request,
        doc_type=doc_type,
        fields=fields,
        values=values,
        problems=merge_problems(problems),
    )
    context["files_lost"] = bool(request.FILES)
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


# --- card ------------------------------------------------------------------------------


def _field_rows(
    user: User, document: Document, fields: list[FieldDef]
) -> list[dict[str, Any]]:
    """Label and display text of every filled non-file field; names in 2 queries."""
    user_ids: set[int] = set()
    party_ids: set[int] = set()
    for f in fields:
        value = document.fields.get(f.key)
        if value in (None, "", []):
            continue
        if f.kind == FieldKind.USER:
            user_ids.add(int(value))
        elif f.kind == FieldKind.USERS:
            user_ids.update(int(v) for v in value)
        elif f.kind == FieldKind.COUNTERPARTY:
            party_ids.add(int(value))
    if document.counterparty_id is not None and document.counterparty is not None:
        party_ids.discard(document.counterparty_id)
    users = selectors.users_by_id(user, user_ids)
    parties = selectors.counterparties_by_id(user, party_ids)
    if document.counterparty is not None:
        parties[document.counterparty.pk] = document.counterparty
    rows = []
    for f in fields:
        if f.kind == FieldKind.FILE:
            continue
        value = document.fields.get(f.key)
        row: dict[str, Any] = {"field": f, "text": "", "link": ""}
        if value in (None, "", []):
            row["text"] = ""
        elif f.kind == FieldKind.USER:
            person = users.get(int(value))
            row["text"] = person.get_full_name() if person else "—"
        elif f.kind == FieldKind.USERS:
            row["text"] = ", ".join(
                users[int(v)].get_full_name() for v in value if int(v) in users
            )
        elif f.kind == FieldKind.COUNTERPARTY:
            party = parties.get(int(value))
            row["text"] = party.name if party else "—"
            if party:
                row["party"] = party
        elif f.kind == FieldKind.URL:
            row["text"] = str(value)
            row["link"] = str(value)
        else:
            row["text"] = display_value(f, value)
        rows.append(row)
    return rows


@login_required
@require_GET
@app_errors
def card(request: HttpRequest, pk: int) -> HttpResponse:
    return render_card(
        request,
        pk,
        round_param=request.GET.get("round", ""),
        route_key=request.GET.get("route", "")[:60],
        decided_id=request.GET.get("decided", ""),
    )


def render_card(
    request: HttpRequest, pk: int, *, status: int = 200, **approval: Any
) -> HttpResponse:
    """The card; approval commands re-render it with their errors in place."""
    from sogla.core.audit import audit_chain_intact
    from sogla.workflow.views_support import card_approval, history_days

    user = _user(request)
    card = selectors.document_get(user=user, pk=pk)
    document, fields, files = card.document, card.field_defs, card.files
    rows = _field_rows(user, document, fields)
    labels = {f.key: f.label for f in fields}
    money = [r for r in rows if r["field"].kind == FieldKind.MONEY and r["text"]]
    tab = request.GET.get("tab", "fields")
    if tab not in {"fields", "files", "history"}:
        tab = "fields"
    editable = can_edit(user, document)
    free_file_fields = [
        f
        for f in fields
        if f.kind == FieldKind.FILE and not any(x.field_key == f.key for x in files)
    ]
    admin = is_org_admin(user)
    history = []
    chain_intact = None
    if tab == "history":
        history = history_days(
            events=selectors.document_history(user=user, document=document),
            show_ip=admin,
        )
        if admin and document.organisation_id is not None:
            chain_intact = audit_chain_intact(document.organisation_id)
    context = {
        "document": document,
        "rows": rows,
        "money": money,
        "files": files,
        "file_labels": labels,
        "tab": tab,
        "can_edit": editable,
        "can_archive": document.archived_at is None
        and (document.initiator_id == user.pk or admin),
        "free_file_fields": free_file_fields,
        "upload_errors": [],
        "approval": card_approval(
            user=user, document=document, fields=fields, files=files, **approval
        ),
        "history": history,
        "chain_intact": chain_intact,
        "is_admin": admin,
    }
    return render(request, "documents/card.html", context, status=status)


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
    from django.urls import reverse

    return reverse("documents:card", args=[document.pk])


@login_required
@require_GET
@app_errors
def download(request: HttpRequest, version_pk: int) -> HttpResponseBase:
    version = selectors.file_version_get(user=_user(request), pk=version_pk)
    response = file_response(version)
    response["Cache-Control"] = "private, no-store"
    return response


# --- counterparties ----------------------------------------------------------------------


@login_required
@require_GET
def counterparty_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    parties = selectors.counterparty_search(user=_user(request), q=q, limit=200)
    context = {"parties": parties, "q": q}
    template = (
        "documents/partials/counterparty_rows.html"
        if _is_partial(request, "party-results")
        else "documents/counterparty_list.html"
    )
    return render(request, template, context)


@login_required
def counterparty_create_view(request: HttpRequest) -> HttpResponse:
    form = CounterpartyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            party = counterparty_create(
                actor=_user(request),
                data=form.to_data(),
                meta=request_meta(request),
            )
        except ValidationFailed as error:
            form.add_problems(error.problems)
        else:
            messages.success(
                request, _("Counterparty created: %(name)s") % {"name": party.name}
            )
            return redirect("documents:counterparty_detail", pk=party.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "documents/counterparty_form.html", {"form": form}, status=status
    )


@login_required
@require_GET
@app_errors
def counterparty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    party = selectors.counterparty_get(user=user, pk=pk)
    page = selectors.document_list(
        user=user, filters=selectors.DocumentFilter(counterparty=party.pk)
    )
    return render(
        request, "documents/counterparty_detail.html", {"party": party, "page": page}
    )


def _combobox(
    request: HttpRequest,
    *,
    field_key: str,
    selected: Counterparty | None,
    create_open: bool = False,
    create_values: dict[str, str] | None = None,
    create_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    name = f"f-{field_key}"
    return render(
        request,
        "documents/partials/counterparty_combobox.html",
        {
            "name": name,
            "input_id": f"id_{name}",
            "selected": selected,
            "create_open": create_open,
            "create_values": create_values or {},
            "create_errors": create_errors or {},
        },
    )


def _field_key(request: HttpRequest) -> str:
    key = (request.GET.get("field") or request.POST.get("field") or "counterparty")[:60]
    return "".join(ch for ch in key if ch.isalnum() or ch in "-_") or "counterparty"


@login_required
@require_GET
def counterparty_search_view(request: HttpRequest) -> HttpResponse:
    """Options for the combobox: matches plus «+ Create «…»» (htmx partial)."""
    q = (request.GET.get("q") or "").strip()[:200]
    parties = list(selectors.counterparty_search(user=_user(request), q=q, limit=10))
    return render(
        request,
        "documents/partials/counterparty_options.html",
        {"parties": parties, "q": q, "field_key": _field_key(request)},
    )


@login_required
@require_POST
def counterparty_quick_create(request: HttpRequest) -> HttpResponse:
    """Create a counterparty from the combobox; answers with the combobox, selected."""
    field_key = _field_key(request)
    values = {
        "name": request.POST.get("cp_name", ""),
        "tax_id": request.POST.get("cp_tax_id", ""),
    }
    try:
        party = counterparty_create(
            actor=_user(request),
            data=CounterpartyData(name=values["name"], tax_id=values["tax_id"]),
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        return _combobox(
            request,
            field_key=field_key,
            selected=None,
            create_open=True,
            create_values=values,
            create_errors=error.by_field(),
        )
    return _combobox(request, field_key=field_key, selected=party)
