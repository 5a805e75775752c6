"""The initiator's buttons on the card: re-send a guest's link, revoke a link,
unlock a person locked out of one-time codes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sogla.core.errors import ApplicationError, NotFound
from sogla.core.request_meta import request_meta
from sogla.external.services.codes import codes_unlock
from sogla.external.services.links import (
    guest_links_revoke,
    guest_task_for,
    link_resend,
    managed_task_for,
)
from sogla.orgs.models import User


def _card(document_id: int) -> str:
    return reverse("documents:card", args=[document_id])


@login_required
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required
    try:
        task = guest_task_for(user, pk)
    except NotFound:
        raise Http404 from None
    try:
        link_resend(actor=user, task=task, meta=request_meta(request))
    except ApplicationError as error:
        messages.error(request, str(error.message) or _("Nothing was sent."))
    else:
        messages.success(
            request,
            _("A new link was sent to %(email)s.") % {"email": task.guest_email},
        )
    return redirect(_card(task.process.document_id))


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Revoke every link of a guest's task (``pk`` is the task)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required
    try:
        task = guest_task_for(user, pk)
    except NotFound:
        raise Http404 from None
    guest_links_revoke(actor=user, task=task, meta=request_meta(request))
    messages.success(request, _("The guest's links were revoked."))
    return redirect(_card(task.process.document_id))


@login_required
@require_POST
def unlock(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Let a person locked out of codes on task ``pk`` try again (initiator, route
    owner, administrator); audited as ``code.unlocked``."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required
    try:
        task = managed_task_for(user, pk)
    except NotFound:
        raise Http404 from None
    person = request.POST.get("person", "")[:300]
    if codes_unlock(
        actor=user, task=task, participant_ref=person, meta=request_meta(request)
    ):
        messages.success(
            request, _("Confirmation unlocked: a new code may be asked for.")
        )
    else:
        messages.info(request, _("Nobody was locked out of codes on this task."))
    return redirect(_card(task.process.document_id))
