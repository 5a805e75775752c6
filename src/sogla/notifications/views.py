"""The notifications page and read marks (htmx-friendly)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import ValidationFailed
from sogla.notifications import selectors
from sogla.notifications.kinds import preference_kinds
from sogla.notifications.services import notifications_mark_read
from sogla.orgs.models import EmailMode, NotificationMode, NotificationPreference
from sogla.orgs.services import notification_preferences_set
from sogla.web.requests import signed_in_user as _user


def _before(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    unread_only = request.GET.get("unread") == "1"
    page = selectors.notification_page(
        user=user, before=_before(request), unread_only=unread_only
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_only": unread_only},
    )


def _after_change(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    if getattr(request, "htmx", False):
        context: dict[str, object] = {
            "bell_count": selectors.notification_unread_count(user=user),
            "item": None,
        }
        if pk is not None:
            page = selectors.notification_page(user=user, before=pk + 1, limit=1)
            context["item"] = page.items[0] if page.items else None
        return render(request, "notifications/partials/changed.html", context)
    return redirect(reverse("notifications:list"))


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not selectors.notifications_for_user(user=user).filter(pk=pk).exists():
        raise Http404
    notifications_mark_read(actor=user, ids=[pk])
    return _after_change(request, pk)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(actor=_user(request))
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(reverse("notifications:list"))


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """E-mails per kind of notice: at once, in the daily digest, or (for those
    that ask nothing of you) not at all. The bell shows everything anyway."""
    user = _user(request)
    kinds = preference_kinds()
    status = 200
    errors: dict[str, str] = {}
    if request.method == "POST":
        modes = {kind: request.POST.get(kind, "") for kind, _label, _ess in kinds}
        try:
            notification_preferences_set(actor=user, modes=modes, kinds=kinds)
        except ValidationFailed as error:
            errors = {p.field: str(p.message) for p in error.problems}
            status = 400
        else:
            messages.success(request, _("Notification settings saved."))
            return redirect("notifications:settings")
    chosen = dict(
        NotificationPreference.objects.filter(user=user).values_list("kind", "mode")
    )
    rows = [
        {
            "kind": kind,
            "label": label,
            "essential": essential,
            "mode": request.POST.get(kind, "") if errors else chosen.get(kind, ""),
            "error": errors.get(kind, ""),
        }
        for kind, label, essential in kinds
    ]
    return render(
        request,
        "notifications/settings.html",
        {
            "rows": rows,
            "modes": NotificationMode.choices,
            "general": EmailMode(user.email_mode).label,
        },
        status=status,
    )
