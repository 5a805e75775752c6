"""The registry (UI.md screen 3): the table, the compact table and the kanban of
one document type, their columns and sort, the saved views, and the export of
the current view. The parameters are ``documents.registry_query``'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from sogla.core import spreadsheets
from sogla.core.access import is_org_admin
from sogla.documents import registry_query, selectors
from sogla.documents.forms import RegistryFilterForm
from sogla.documents.models import DocumentType, StatusDef
from sogla.documents.registry_query import COLUMNS, SORTS, RegistryView, view_from
from sogla.documents.searching import decode_offset, encode_offset
from sogla.orgs.models import User
from sogla.web.errors import app_errors
from sogla.web.requests import page_or_part
from sogla.web.requests import signed_in_user as _user
from sogla.workflow import tenant
from sogla.workflow.screens.traffic_light import StageSummary, stage_summaries
from sogla.workflow.selectors import kanban

# Columns that give their room to the title below 1400 px (the number cell then
# names the type); a person who wants them sees them on a wider screen.
WIDE_ONLY = {"type", "initiator", "created"}


@dataclass(frozen=True)
class Header:
    key: str
    label: str
    href: str  # the link that sorts by this column ("" if it does not sort)
    aria_sort: str
    wide_only: bool


def _filter_form(
    request: HttpRequest, user: User, types: list[DocumentType] | None = None
) -> RegistryFilterForm:
    all_types, all_statuses = _type_lists(user)
    if types is None:
        types = all_types
    statuses: dict[str, str] = {}
    for status in all_statuses:
        statuses.setdefault(status.key, status.name)
    # only the counterparty a link names (by id); others are found by the search box
    chosen = request.GET.get("counterparty", "")
    parties = (
        [
            (c.pk, c.name)
            for c in selectors.counterparties_by_id(user, {int(chosen)}).values()
        ]
        if chosen.isdigit() and len(chosen) < 12
        else []
    )
    return RegistryFilterForm(
        request.GET,
        types=[(t.key, t.name) for t in types],
        statuses=list(statuses.items()),
        counterparties=parties,
    )


def _type_lists(user: User) -> tuple[list[DocumentType], tuple[StatusDef, ...]]:
    """The organisation's active document types and all its types' statuses, from
    the tenant cache (``tenant.type_lists``): no statement on most requests."""
    if user.organisation_id is None:
        return [], ()
    types, statuses = tenant.type_lists(user.organisation_id)
    return list(types), statuses


def _query(request: HttpRequest, **changes: str | None) -> str:
    """The current query string without the cursor, with ``changes`` (None drops)."""
    query = request.GET.copy()
    query.pop("cursor", None)
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return query.urlencode()


def _headers(request: HttpRequest, view: RegistryView) -> list[Header]:
    base = reverse("documents:registry")
    headers = []
    for key, label in [("number", _("Number")), ("title", _("Title"))] + [
        (k, str(COLUMNS[k])) for k in view.columns
    ]:
        sortable = key in SORTS
        headers.append(
            Header(
                key=key,
                label=str(label),
                href=(
                    f"{base}?{_query(request, sort=view.sort_link(key))}"
                    if sortable
                    else ""
                ),
                aria_sort=view.aria_sort(key) if sortable else "",
                wide_only=key in WIDE_ONLY,
            )
        )
    return headers


def _saved_views(request: HttpRequest, user: User) -> dict[str, Any]:
    views = selectors.saved_views_for(user)
    chosen = request.GET.get("view", "")
    current = next((v for v in views if str(v.pk) == chosen), None)
    admin = is_org_admin(user)
    items = [
        {
            "view": v,
            "href": f"{reverse('documents:registry')}?"
            f"{urlencode({**v.query, 'view': v.pk})}",
            "may_change": v.owner_id == user.pk or (v.shared and admin),
        }
        for v in views
    ]
    return {
        "saved_views": items,
        "current_view": current,
        "current_view_may_change": any(
            i["may_change"] for i in items if i["view"] is current
        ),
        "save_query": _query(request, view=None),
    }


@login_required
@require_GET
@app_errors
def registry(request: HttpRequest) -> HttpResponse:
    if "colset" in request.GET:  # the column chooser's form: one ``cols`` parameter
        cols = ",".join(c for c in request.GET.getlist("col") if c in COLUMNS)
        query = request.GET.copy()
        for name in ("col", "colset", "cursor"):
            query.pop(name, None)
        query["cols"] = cols
        return HttpResponseRedirect(
            f"{reverse('documents:registry')}?{query.urlencode()}"
        )
    user = _user(request)
    types = _type_lists(user)[0]
    form = _filter_form(request, user, types)
    form.is_valid()
    filters = form.to_filter()
    view = view_from(request.GET)
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "active_filters": form.active_filters(),
        "has_types": bool(types),
        "types": types,
        "is_first_page": not request.GET.get("cursor"),
        "export_query": _query(request),
        "view": view,
        "modes": [
            (mode, str(label), _query(request, mode=mode))
            for mode, label in registry_query.MODE_LABELS.items()
        ],
        "column_choices": [
            (key, str(label), view.shows(key)) for key, label in COLUMNS.items()
        ],
        "hidden_params": [
            (k, v)
            for k in request.GET
            if k not in ("cols", "col", "colset", "cursor")
            for v in request.GET.getlist(k)
        ],
    }
    context.update(_saved_views(request, user))
    if view.mode == "kanban":
        context.update(_kanban_context(request, user, types, filters))
        part = "workflow/partials/kanban_board.html"
    else:
        page = selectors.document_list(
            user=user,
            filters=filters,
            cursor=request.GET.get("cursor", ""),
            sort=view.sort,
        )
        context.update(
            page=page,
            lights=stage_summaries(user=user, document_ids=[d.pk for d in page.items]),
            values=(
                selectors.registry_row_values(page.items)
                if view.shows("amount") or view.shows("control_date")
                else {}
            ),
            headers=_headers(request, view),
        )
        part = "workflow/partials/registry_results.html"
    template = page_or_part(
        request, page="workflow/registry.html", part=part, target="results"
    )
    return render(request, template, context)


def _kanban_context(
    request: HttpRequest,
    user: User,
    types: list[DocumentType],
    filters: selectors.DocumentFilter,
) -> dict[str, Any]:
    doc_type = next((t for t in types if t.key == filters.doc_type), None)
    if doc_type is None:
        return {
            "kanban_type": None,
            "type_links": [(t, _query(request, type=t.key)) for t in types],
        }
    return {
        "kanban_type": doc_type,
        "columns": kanban.kanban_columns(user=user, doc_type=doc_type, filters=filters),
        "column_query": _query(request, view=None),
    }


@login_required
@require_GET
@app_errors
def kanban_column(request: HttpRequest) -> HttpResponse:
    """One page (20 cards) of one kanban column, loaded when the column is revealed
    and by its «Show more» button."""
    user = _user(request)
    form = _filter_form(request, user)
    form.is_valid()
    filters = form.to_filter()
    if not filters.doc_type:
        raise Http404()
    column = request.GET.get("column", "")[:80]
    cursor = request.GET.get("offset", "")
    offset = decode_offset(cursor) if cursor else 0
    cards = kanban.kanban_cards(
        user=user, filters=filters, column=column, offset=offset
    )
    ids = [d.pk for d in cards.documents]
    lights: dict[int, StageSummary] = stage_summaries(user=user, document_ids=ids)
    return render(
        request,
        "workflow/partials/kanban_cards.html",
        {
            "cards": cards.documents,
            "lights": lights,
            "values": selectors.registry_row_values(cards.documents),
            "more_query": (
                _query(request, offset=encode_offset(cards.next_offset))
                if cards.next_offset is not None
                else ""
            ),
            "column": column,
        },
    )


EXPORT_FORMATS = ("csv", "xlsx")


def _export_cells(
    view: RegistryView,
    document: Any,
    light: StageSummary | None,
    values: selectors.RowValues | None,
) -> list[spreadsheets.Cell]:
    row: list[spreadsheets.Cell] = [document.number, document.title]
    for key in view.columns:
        if key == "type":
            row.append(document.doc_type.name)
        elif key == "status":
            row.append(document.status.name)
        elif key == "route":
            row.append(
                f"{light.position}/{light.total} {light.current_name}" if light else ""
            )
        elif key == "holder":
            holder = ""
            if light and light.holder:
                holder = light.holder.short_name
            elif light and light.holder_email:
                holder = light.holder_email
            row.append(
                f"{holder} · {light.waiting}"
                if holder and light and light.waiting
                else holder
            )
        elif key == "counterparty":
            party = document.counterparty
            row.append(party.name if party else "")
            row.append(party.tax_id if party else "")
        elif key == "initiator":
            row.append(document.initiator.short_name)
        elif key == "created":
            row.append(
                timezone.localtime(document.created_at).strftime("%Y-%m-%d %H:%M")
            )
        elif key == "control_date":
            raw = document.fields.get(registry_query.CONTROL_DATE_FIELD)
            row.append(str(raw) if raw else "")
        elif key == "amount":
            row.append(values.amount if values else "")
    return row


@login_required
@require_GET
@app_errors
def registry_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The registry's current view (its filters, search, columns and sort) as CSV
    or XLSX; text that a spreadsheet would run as a formula is defused."""
    if fmt not in EXPORT_FORMATS:
        raise Http404()
    user = _user(request)
    form = _filter_form(request, user)
    form.is_valid()
    view = view_from(request.GET)
    documents = selectors.document_export(
        user=user, filters=form.to_filter(), sort=view.sort
    )
    header = [_("Number"), _("Title")]
    for key in view.columns:
        header.append(str(COLUMNS[key]))
        if key == "counterparty":
            header.append(_("Tax id (INN)"))
    lights = (
        stage_summaries(user=user, document_ids=[d.pk for d in documents])
        if view.shows("route") or view.shows("holder")
        else {}
    )
    values = selectors.registry_row_values(documents) if view.shows("amount") else {}
    rows = (
        _export_cells(view, d, lights.get(d.pk), values.get(d.pk)) for d in documents
    )
    if fmt == "csv":
        body, content_type = spreadsheets.to_csv(header, rows), spreadsheets.CSV_TYPE
    else:
        body = spreadsheets.to_xlsx(str(_("Documents")), header, rows)
        content_type = spreadsheets.XLSX_TYPE
    response = HttpResponse(body, content_type=content_type)
    name = f"sogla-documents-{timezone.localdate().isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
