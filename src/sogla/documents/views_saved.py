"""The registry's saved views: save the current view, rename or delete one. Picking a view is
a plain link to the registry with the view's parameters (``?…&view=<id>``)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sogla.core.errors import ValidationFailed
from sogla.documents.services.saved_views import (
    saved_view_delete,
    saved_view_rename,
    saved_view_save,
)
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user


def _registry(query: dict[str, str]) -> str:
    base = reverse("documents:registry")
    return f"{base}?{urlencode(query)}" if query else base


@login_required
@require_POST
@app_errors
def saved_view_save_view(request: HttpRequest) -> HttpResponse:
    """Save the registry's current parameters (the form's ``query``) as a view."""
    query = dict(parse_qsl(request.POST.get("query", "")[:4000]))
    query.pop("view", None)
    try:
        view = saved_view_save(
            actor=signed_in_user(request),
            name=request.POST.get("name", ""),
            query=query,
            shared=request.POST.get("shared") == "on",
        )
    except ValidationFailed as error:
        for problem in error.problems:
            messages.error(request, _("View name: %(m)s") % {"m": problem.message})
        return HttpResponseRedirect(_registry(query))
    messages.success(request, _("View «%(name)s» saved.") % {"name": view.name})
    return HttpResponseRedirect(_registry({**view.query, "view": str(view.pk)}))


@login_required
@require_POST
@app_errors
def saved_view_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a view (the form's ``name``); back to the registry showing it (refused:
    showing the registry's parameters the form sent, ``query``)."""
    try:
        view = saved_view_rename(
            actor=signed_in_user(request), pk=pk, name=request.POST.get("name", "")
        )
    except ValidationFailed as error:
        for problem in error.problems:
            messages.error(request, _("View name: %(m)s") % {"m": problem.message})
        back = {
            **dict(parse_qsl(request.POST.get("query", "")[:4000])),
            "view": str(pk),
        }
    else:
        messages.success(
            request, _("View renamed to «%(name)s».") % {"name": view.name}
        )
        back = {**view.query, "view": str(view.pk)}
    return HttpResponseRedirect(_registry(back))


@login_required
@require_POST
@app_errors
def saved_view_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    saved_view_delete(actor=signed_in_user(request), pk=pk)
    messages.success(request, _("View deleted."))
    return HttpResponseRedirect(reverse("documents:registry"))
