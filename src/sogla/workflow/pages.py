"""The pages that show documents with their approvals: the card (fields, files,
history and the approval); the registry is ``registry_pages``.

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
from sogla.discussion.reading import thread_context
from sogla.discussion.selectors import card_counts
from sogla.documents import selectors
from sogla.documents.access import can_edit
from sogla.documents.selectors import DocumentCard
from sogla.documents.viewer import viewer_state
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user as _user
from sogla.workflow.screens.card import card_approval
from sogla.workflow.screens.history import history_days
from sogla.workflow.selectors import decisions_to_compare

CARD_TABS = ("fields", "files", "discussion", "history")


def card_viewer(found: DocumentCard, tab: str, version_param: str) -> dict[str, Any]:
    """The version the decision panel names (the newest current version) and, on the
    Files tab, the viewer: of ``?version=`` if it is one of this document's, else
    of that one (one query for its preview)."""
    current = [versions[0] for f in found.files if (versions := list(f.versions.all()))]
    decision_version = max(current, key=lambda v: v.version, default=None)
    context: dict[str, Any] = {"decision_version": decision_version, "viewer": None}
    if tab != "files" or decision_version is None:
        return context
    shown = decision_version
    if version_param.isdigit():
        wanted = int(version_param)
        shown = next(
            (v for f in found.files for v in f.versions.all() if v.pk == wanted), shown
        )
    context["viewer"] = viewer_state(shown, selectors.file_preview(shown))
    return context


def compare_since(user: User, found: DocumentCard) -> dict[str, Any]:
    """Unix times for "what changed since": my last decision on this document (the
    decision panel of a later round links to it) and the last return for revision
    (the revision dialog). One query."""
    decided = decisions_to_compare(found.document, user)
    mine = next((row for row in decided if row[0] == user.pk and row[3]), None)
    returned = next((row for row in decided if row[1] == "return" and row[3]), None)
    return {
        "since_mine": mine[3].timestamp() if mine and mine[3] else None,
        "since_mine_round": mine[2] if mine else 0,
        "since_return": returned[3].timestamp() if returned and returned[3] else None,
    }


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
    context.update(card_viewer(found, tab, request.GET.get("version", "")))
    context.update(compare_since(user, found))
    context["discussion_total"], context["discussion_unread"] = card_counts(
        user=user, document=document
    )
    if tab == "discussion":
        context.update(thread_context(user, document))
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
