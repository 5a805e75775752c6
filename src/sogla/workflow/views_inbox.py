"""The inbox screens: the tabs with filters, and deciding several tasks at once.

Thin over ``screens.inbox`` and ``bulk``; bulk decisions go through the same service
as one decision, one command per task.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import selectors as doc_selectors
from sogla.web.errors import app_errors
from sogla.web.requests import page_or_part
from sogla.web.requests import signed_in_user as _user
from sogla.workflow import bulk, selectors, tenant
from sogla.workflow.screens.inbox import inbox_page


@login_required
@require_GET
@app_errors
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tab = request.GET.get("tab", "mine")
    if tab not in selectors.TABS:
        tab = "mine"
    doc_type = request.GET.get("type", "")[:60]
    q = request.GET.get("q", "").strip()[:200]
    page = inbox_page(
        user=user,
        tab=tab,
        cursor=request.GET.get("cursor", ""),
        doc_type=doc_type,
        q=q,
    )
    # the filter's types from the organisation's cache, as the registry reads them
    types = (
        list(tenant.type_lists(user.organisation_id)[0])
        if user.organisation_id is not None
        else []
    )
    context = {
        "tab": tab,
        "page": page,
        "types": types,
        "type_key": doc_type,
        "q": q,
        "filtered": bool(doc_type or q),
        "bulk_limit": bulk.BULK_LIMIT,
        "bulk_possible": tab == "mine"
        and any(row.bulk for group in page.groups for row in group.rows),
        "is_first_page": not request.GET.get("cursor"),
        "tabs": [
            ("mine", _("Mine")),
            ("started", _("Started by me")),
            ("watching", _("Watching")),
            ("done", _("Done")),
        ],
    }
    template = page_or_part(
        request,
        page="workflow/inbox.html",
        part="workflow/partials/inbox_results.html",
        target="inbox-results",
    )
    return render(request, template, context)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()][: bulk.BULK_LIMIT + 1]


@login_required
@require_POST
@app_errors
def inbox_bulk(request: HttpRequest) -> HttpResponseBase:
    """Two steps: the chosen tasks are listed with each document's current file
    version for confirmation; the confirmed form decides them one by one."""
    user = _user(request)
    outcome = request.POST.get("outcome", "")
    try:
        if request.POST.get("confirm") != "1":
            items = bulk.bulk_tasks(
                actor=user, task_ids=_ids(request.POST.getlist("task")), outcome=outcome
            )
            files = doc_selectors.current_files_by_document(
                user=user, document_ids=[i.task.process.document_id for i in items]
            )
            return render(
                request,
                "workflow/inbox_bulk.html",
                {
                    "outcome": outcome,
                    "items": items,
                    "files": files,
                    "ready": any(not i.problem for i in items),
                    "request_id": uuid.uuid4().hex,
                },
            )
        confirmed = {
            pk: request.POST.get(f"sha-{pk}", "")
            for pk in _ids(request.POST.getlist("task"))
        }
        results = bulk.tasks_decide_bulk(
            actor=user,
            outcome=outcome,
            confirmed=confirmed,
            request_id=request.POST.get("request_id", "") or uuid.uuid4().hex,
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        for problems in error.by_field().values():
            for problem in problems:
                messages.error(request, problem)
        return redirect(reverse("workflow:inbox"))
    return render(
        request,
        "workflow/inbox_bulk.html",
        {"outcome": outcome, "results": results, "done": True},
    )
