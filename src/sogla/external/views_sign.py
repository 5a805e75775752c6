"""An internal user's decision that needs a one-time code (``sign`` steps,
``confirm: otp``) on the web: the card's panel posts here; the first POST sends
a code and shows the code form, the second checks it and records the decision
through ``workflow.services.task_decide`` (channel web)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sogla.core.errors import ApplicationError, NotFound, RateLimited, ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.external.recipients import recipient_of_user
from sogla.external.services.codes import challenge_create
from sogla.external.services.decisions import check_answer
from sogla.orgs.models import User
from sogla.workflow import selectors as workflow_selectors
from sogla.workflow import services as workflow
from sogla.workflow.confirmations import by_code, code_verify


@login_required
@require_POST
def task_sign(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required
    try:
        panel = workflow_selectors.task_get_for_decision(user=user, task_id=pk)
    except NotFound:
        raise Http404 from None
    form: dict[str, Any] = {
        "outcome": request.POST.get("outcome", "")[:30],
        "comment": request.POST.get("comment", ""),
        "request_id": request.POST.get("request_id", "")[:100] or uuid.uuid4().hex,
        "challenge": request.POST.get("challenge", "")[:20],
        "errors": {},
    }
    context: dict[str, Any] = {"panel": panel, "form": form, "sent_to": ""}
    meta = request_meta(request)
    card = reverse("documents:card", args=[panel.document.pk])
    status = 200
    try:
        if not form["challenge"] or "resend" in request.POST:
            check_answer(panel.step, form["outcome"], form["comment"])
            challenge = challenge_create(
                task=panel.task,
                recipient=recipient_of_user(user),
                outcome=form["outcome"],
                files_sha256=workflow.files_sha256(panel.document),
                meta=meta,
            )
            form["challenge"], context["sent_to"] = str(challenge.pk), challenge.sent_to
        else:
            code_verify(
                panel.task,
                f"user:{user.pk}",
                form["challenge"],
                request.POST.get("code", "")[:20],
            )
            workflow.task_decide(
                actor=user,
                task_id=panel.task.pk,
                outcome=form["outcome"],
                comment=form["comment"],
                request_id=form["request_id"],
                confirmation=by_code(form["challenge"]),
                meta=meta,
            )
            return redirect(f"{card}?decided={panel.task.pk}")
    except ValidationFailed as error:
        form["errors"] = error.by_field()
        status = 422
    except RateLimited as error:
        form["errors"] = {"general": [str(error.message)]}
        status = 429
    except ApplicationError as error:
        form["errors"] = {"general": [str(error.message)]}
        status = 409
    context["card"] = card
    return render(request, "external/sign.html", context, status=status)
