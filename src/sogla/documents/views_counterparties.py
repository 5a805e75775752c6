"""Web screens for counterparties: the list, the card, creating one, and the combobox
that document forms use to pick or create one. Thin over services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sogla.core.errors import ValidationFailed
from sogla.core.request_meta import request_meta
from sogla.documents import selectors
from sogla.documents.forms import CounterpartyForm
from sogla.documents.models import Counterparty, CounterpartyCategory
from sogla.documents.services import CounterpartyData, counterparty_create
from sogla.web.errors import app_errors
from sogla.web.requests import page_or_part
from sogla.web.requests import signed_in_user as _user


@login_required
@require_GET
def counterparty_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    parties = selectors.counterparty_search(user=_user(request), q=q, limit=200)
    context = {"parties": parties, "q": q}
    template = page_or_part(
        request,
        page="documents/counterparty_list.html",
        part="documents/partials/counterparty_rows.html",
        target="party-results",
    )
    return render(request, template, context)


@login_required
def counterparty_create_view(request: HttpRequest) -> HttpResponse:
    form = CounterpartyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            party = counterparty_create(
                actor=_user(request),
                data=form.to_data(),
                meta=request_meta(request),
            )
        except ValidationFailed as error:
            form.add_problems(error.problems)
        else:
            messages.success(
                request, _("Counterparty created: %(name)s") % {"name": party.name}
            )
            return redirect("documents:counterparty_detail", pk=party.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "documents/counterparty_form.html", {"form": form}, status=status
    )


@login_required
@require_GET
@app_errors
def counterparty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    party = selectors.counterparty_get(user=user, pk=pk)
    page = selectors.document_list(
        user=user, filters=selectors.DocumentFilter(counterparty=party.pk)
    )
    return render(
        request, "documents/counterparty_detail.html", {"party": party, "page": page}
    )


def _combobox(
    request: HttpRequest,
    *,
    field_key: str,
    selected: Counterparty | None,
    create_open: bool = False,
    create_values: dict[str, str] | None = None,
    create_errors: dict[str, list[str]] | None = None,
    category: str = CounterpartyCategory.CUSTOMER,
) -> HttpResponse:
    name = f"f-{field_key}"
    return render(
        request,
        "documents/partials/counterparty_combobox.html",
        {
            "name": name,
            "input_id": f"id_{name}",
            "selected": selected,
            "create_open": create_open,
            "create_values": create_values or {},
            "create_errors": create_errors or {},
            "category": category,
            "categories": CounterpartyCategory.choices,
        },
    )


def _field_key(request: HttpRequest) -> str:
    key = (request.GET.get("field") or request.POST.get("field") or "counterparty")[:60]
    return "".join(ch for ch in key if ch.isalnum() or ch in "-_") or "counterparty"


@login_required
@require_GET
def counterparty_search_view(request: HttpRequest) -> HttpResponse:
    """Options for the combobox: matches plus «+ Create «…»» (htmx partial)."""
    q = (request.GET.get("q") or "").strip()[:200]
    parties = list(selectors.counterparty_search(user=_user(request), q=q, limit=10))
    return render(
        request,
        "documents/partials/counterparty_options.html",
        {"parties": parties, "q": q, "field_key": _field_key(request)},
    )


@login_required
@require_POST
def counterparty_quick_create(request: HttpRequest) -> HttpResponse:
    """Create a counterparty from the combobox; answers with the combobox, selected."""
    field_key = _field_key(request)
    values = {
        "name": request.POST.get("cp_name", ""),
        "tax_id": request.POST.get("cp_tax_id", ""),
    }
    category = request.POST.get("cp_category", "")
    if category not in CounterpartyCategory.values:
        category = CounterpartyCategory.CUSTOMER
    try:
        party = counterparty_create(
            actor=_user(request),
            data=CounterpartyData(
                name=values["name"], tax_id=values["tax_id"], category=category
            ),
            meta=request_meta(request),
        )
    except ValidationFailed as error:
        return _combobox(
            request,
            field_key=field_key,
            selected=None,
            create_open=True,
            create_values=values,
            create_errors=error.by_field(),
            category=category,
        )
    return _combobox(request, field_key=field_key, selected=party)
