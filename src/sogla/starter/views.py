"""The template library for administrators: the list, and one template's install
form (who holds its roles; another key or skip when its key is taken). Thin: the
selectors read, ``template_install`` does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin
from sogla.core.errors import NotFound, PermissionDenied, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.orgs.models import Organisation, User
from sogla.starter import selectors
from sogla.starter.forms import InstallForm
from sogla.starter.services import template_install
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user


def _admin(request: HttpRequest) -> tuple[User, Organisation]:
    user = signed_in_user(request)
    if not is_org_admin(user) or user.organisation is None:
        raise PermissionDenied(_("Only an administrator can install templates."))
    return user, user.organisation


@login_required
@app_errors
def library(request: HttpRequest) -> HttpResponse:
    _user, org = _admin(request)
    return render(
        request,
        "starter/library.html",
        {
            "entries": selectors.library_entries(org.pk),
            "language": get_language(),
        },
    )


@login_required
@app_errors
def install(request: HttpRequest, key: str) -> HttpResponse:
    user, org = _admin(request)
    entry = selectors.library_entry(org.pk, key)
    if entry is None:
        raise NotFound()
    template = entry.template
    people = selectors.org_people(org.pk)
    holders = selectors.role_holders(org.pk, [r.key for r in template.roles])

    def make_form(data: QueryDict | None = None) -> InstallForm:
        return InstallForm(
            data, template=template, people=people, holders=holders, clash=entry.clash
        )

    status = 200
    if request.method == "POST":
        form = make_form(request.POST)
        if form.is_valid():
            try:
                result = template_install(
                    organisation=org,
                    actor=user,
                    key=key,
                    role_holders=form.holders(),
                    on_clash=form.cleaned_data.get("on_clash") or "ask",
                    new_key=form.cleaned_data.get("new_key") or "",
                    meta=request_meta(request),
                )
            except ValidationFailed as error:
                for field, texts in error.by_field().items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
                status = 400
            else:
                if result.skipped:
                    messages.info(request, _("Skipped: nothing was installed."))
                    return redirect("starter:library")
                for warning in result.warnings:
                    messages.warning(request, warning)
                messages.success(
                    request,
                    _("“%(name)s” is installed: %(routes)d route(s) ready.")
                    % {
                        "name": template.name(get_language()),
                        "routes": len(result.routes_created),
                    },
                )
                if result.doc_type is not None:
                    return redirect(
                        reverse("documents:create", args=[result.doc_type.key])
                    )
                return redirect("starter:library")
        else:
            status = 400
    else:
        form = make_form()
    return render(
        request,
        "starter/install.html",
        {
            "form": form,
            "entry": entry,
            "template": template,
            "language": get_language(),
        },
        status=status,
    )
