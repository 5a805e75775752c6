"""The document type settings screens for administrators: the list with a form for
a new type, and one type's settings, fields and statuses. Thin: the services check
and write (the same checks as the API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sogla.core.access import is_org_admin
from sogla.core.errors import PermissionDenied, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import selectors, services
from sogla.documents.forms_types import FieldForm, StatusForm, TypeForm
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.forms import BootstrapForm
from sogla.web.requests import signed_in_user


def _admin(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not is_org_admin(user):
        raise PermissionDenied(_("Only an administrator can change document types."))
    return user


def _attempt(form: BootstrapForm, command: Callable[[], Any]) -> bool:
    try:
        command()
    except ValidationFailed as error:
        for field, texts in error.by_field().items():
            name = field.split(".")[-1]
            for text in texts:
                form.add_error(name if name in form.fields else None, text)
        return False
    return True


@login_required
@app_errors
def types(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = TypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        spec = services.TypeSpec(**form.cleaned_data)
        if _attempt(
            form,
            lambda: services.document_type_create(
                actor=user, spec=spec, meta=request_meta(request)
            ),
        ):
            messages.success(
                request,
                _("Type created with the usual statuses. Add its fields below."),
            )
            return redirect("settings:type_edit", key=spec.key)
    return render(
        request,
        "documents/settings/types.html",
        {
            "tab": "types",
            "types": selectors.document_types_for_admin(user),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@app_errors
def type_edit(request: HttpRequest, key: str) -> HttpResponse:
    user = _admin(request)
    doc_type = selectors.document_type_for_admin(user, key)
    which = request.POST.get("form") if request.method == "POST" else None
    initial = {
        name: getattr(doc_type, name)
        for name in (
            "name_ru", "name_en", "prefix", "numbering_pattern", "title_template",
            "folder_rule", "has_files", "is_active",
        )
    }  # fmt: skip
    form = TypeForm(
        request.POST if which == "type" else None, initial=initial, editing=True
    )
    field_form = FieldForm(request.POST if which == "field" else None)
    status_form = StatusForm(request.POST if which == "status" else None)
    meta = request_meta(request)
    done = False
    if which == "type" and form.is_valid():
        done = _attempt(
            form,
            lambda: services.document_type_update(
                actor=user, doc_type=doc_type, changes=form.cleaned_data, meta=meta
            ),
        )
    elif which == "field" and field_form.is_valid():
        data = field_form.cleaned_data
        done = _attempt(
            field_form,
            lambda: services.document_type_field_add(
                actor=user,
                doc_type=doc_type,
                spec=services.FieldSpec(
                    key=data["key"],
                    label_ru=data["label_ru"],
                    label_en=data["label_en"],
                    kind=data["kind"],
                    required=data["required"],
                    choices=field_form.choice_list(),
                ),
                meta=meta,
            ),
        )
    elif which == "status" and status_form.is_valid():
        data = status_form.cleaned_data
        done = _attempt(
            status_form,
            lambda: services.document_type_status_add(
                actor=user,
                doc_type=doc_type,
                spec=services.StatusSpec(**data),
                meta=meta,
            ),
        )
    if done:
        messages.success(request, _("Saved."))
        return redirect("settings:type_edit", key=key)
    invalid = form.errors or field_form.errors or status_form.errors
    return render(
        request,
        "documents/settings/type_edit.html",
        {
            "tab": "types",
            "doc_type": doc_type,
            "fields": list(doc_type.fields.all()),
            "statuses": list(doc_type.statuses.all()),
            "form": form,
            "field_form": field_form,
            "status_form": status_form,
        },
        status=400 if invalid else 200,
    )


@login_required
@require_POST
@app_errors
def status_remove(request: HttpRequest, key: str, status: str) -> HttpResponse:
    user = _admin(request)
    doc_type = selectors.document_type_for_admin(user, key)
    try:
        services.document_type_status_remove(
            actor=user, doc_type=doc_type, key=status, meta=request_meta(request)
        )
    except ValidationFailed as error:
        for texts in error.by_field().values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(request, _("Status removed."))
    return redirect("settings:type_edit", key=key)
