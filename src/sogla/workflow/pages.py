"""The pages that show documents with their approvals: the registry (each document
with its traffic light) and the card (fields, files, history and the approval).

They sit on workflow's floor because they combine both apps; their URLs keep the
``documents:`` names. Approval commands re-render the card with ``render_card``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_chain_intact
from sogla.documents import selectors
from sogla.documents.access import can_edit
from sogla.documents.forms import RegistryFilterForm
from sogla.web.errors import app_errors
from sogla.web.requests import page_or_part
from sogla.web.requests import signed_in_user as _user
from sogla.workflow.screens.card import card_approval
from sogla.workflow.screens.history import history_days
from sogla.workflow.screens.traffic_light import stage_summaries

CARD_TABS = ("fields", "files", "history")


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
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "lights": stage_summaries(user=user, document_ids=[d.pk for d in page.items]),
        "filters": filters,
        "active_filters": form.active_filters(),
        "has_types": bool(types),
        "is_first_page": not request.GET.get("cursor"),
    }
    template = page_or_part(
        request,
        page="workflow/registry.html",
        part="workflow/partials/registry_results.html",
        target="results",
    )
    return render(request, template, context)


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
    """The card; approval commands re-render it with their errors in place
    (``approval`` goes to ``screens.card.card_approval``)."""
    user = _user(request)
    found = selectors.document_get(user=user, pk=pk)
    document = found.document
    rows = selectors.document_field_rows(user=user, card=found)
    tab = request.GET.get("tab", "fields")
    if tab not in CARD_TABS:
        tab = "fields"
    admin = is_org_admin(user)
    context = {
        "document": document,
        "rows": rows,
        "money": [row for row in rows if row.is_money],
        "files": found.files,
        "file_labels": found.field_labels(),
        "tab": tab,
        "can_edit": can_edit(user, document),
        "can_archive": document.archived_at is None
        and (document.initiator_id == user.pk or admin),
        "free_file_fields": found.free_file_fields(),
        "upload_errors": [],
        "approval": card_approval(user=user, card=found, **approval),
        "history": [],
        "chain_intact": None,
        "is_admin": admin,
    }
    if tab == "history":
        context["history"] = history_days(
            events=selectors.document_history(user=user, document=document),
            show_ip=admin,
        )
        if admin and document.organisation_id is not None:
            context["chain_intact"] = audit_chain_intact(document.organisation_id)
    response = render(request, "workflow/card.html", context, status=status)
    if request.method == "POST":
        # A command re-rendering the card with its errors: the address bar shows the
        # card, not the command's URL (whose reload would be a GET it does not take).
        response["HX-Push-Url"] = reverse("documents:card", args=[pk])
    return response
