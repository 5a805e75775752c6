"""«Замещение / I'm away»: a person names a deputy for a period (administrators
for anyone); open tasks move at once and come back when it ends."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from sogla.core.access import is_org_admin, organisation_id_of
from sogla.core.errors import ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.orgs.delegations import delegation_cancel, delegation_set, delegations_of
from sogla.orgs.models import Delegation, User
from sogla.web.errors import app_errors
from sogla.web.forms import BootstrapForm
from sogla.web.requests import signed_in_user as _user
from sogla.workflow.services import delegations_sync


class AwayForm(BootstrapForm):
    person = forms.TypedChoiceField(label=gettext_lazy("Who is away"), coerce=int)
    deputy = forms.TypedChoiceField(label=gettext_lazy("Deputy"), coerce=int)
    starts_on = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("To (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For example: vacation, business trip."),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = list(
            User.objects.filter(
                organisation_id=organisation_id_of(actor), is_active=True
            )
            .order_by("last_name", "first_name", "username")
            .only("pk", "first_name", "last_name", "username")
        )
        names = [(u.pk, u.get_full_name() or u.get_username()) for u in people]
        self._choices("deputy", [("", "—"), *[c for c in names if c[0] != actor.pk]])
        if is_org_admin(actor):
            self._choices("person", names)
            self.fields["person"].initial = actor.pk
        else:
            self._choices(
                "person", [(actor.pk, actor.get_full_name() or actor.username)]
            )
            self.fields["person"].widget = forms.HiddenInput()
            self.fields["person"].initial = actor.pk

    def _choices(self, name: str, choices: list[tuple[Any, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101
        field.choices = choices


def _moved_message(request: HttpRequest, delegated: int, returned: int) -> None:
    if delegated:
        messages.success(
            request,
            ngettext(
                "%(count)d open task moved to the deputy.",
                "%(count)d open tasks moved to the deputy.",
                delegated,
            )
            % {"count": delegated},
        )
    if returned:
        messages.success(
            request,
            ngettext(
                "%(count)d task came back.", "%(count)d tasks came back.", returned
            )
            % {"count": returned},
        )


@login_required
@app_errors
def away(request: HttpRequest) -> HttpResponse:
    actor = _user(request)
    status = 200
    if request.method == "POST":
        form = AwayForm(request.POST, actor=actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                delegation = delegation_set(
                    actor=actor,
                    person_id=data["person"],
                    deputy_id=data["deputy"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    reason=data["reason"],
                    request_meta=request_meta(request),
                )
            except ValidationFailed as error:
                for field, texts in error.by_field().items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
                status = 400
            else:
                messages.success(
                    request,
                    _("%(deputy)s stands in from %(start)s to %(end)s.")
                    % {
                        "deputy": delegation.to_user.get_full_name()
                        or delegation.to_user.username,
                        "start": delegation.starts_on.strftime("%d.%m.%Y"),
                        "end": delegation.ends_on.strftime("%d.%m.%Y"),
                    },
                )
                synced = delegations_sync(actor.organisation_id or 0, actor=actor)
                _moved_message(request, synced.delegated, synced.returned)
                return redirect("workflow:away")
        else:
            status = 400
    else:
        form = AwayForm(actor=actor)
    periods = _periods(actor)
    return render(
        request,
        "workflow/away.html",
        {"form": form, "periods": periods, "is_admin": is_org_admin(actor)},
        status=status,
    )


def _periods(actor: User) -> list[Delegation]:
    if is_org_admin(actor):
        return list(
            Delegation.objects.for_org(actor.organisation_id or 0)
            .filter(cancelled_at=None, ends_on__gte=timezone.localdate())
            .select_related("from_user", "to_user")
            .order_by("starts_on", "pk")
        )
    return delegations_of(actor)


@login_required
@require_POST
@app_errors
def away_end(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _user(request)
    delegation_cancel(actor=actor, delegation_id=pk, request_meta=request_meta(request))
    messages.success(request, _("The away period has ended."))
    synced = delegations_sync(actor.organisation_id or 0, actor=actor)
    _moved_message(request, synced.delegated, synced.returned)
    return redirect("workflow:away")
