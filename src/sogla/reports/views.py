"""The reports page (KPI and cycle time) and its exports.

Thin: parse the filters, ask ``selectors.report_for`` (which applies the viewer's
access to the cached figures), render the page, the ``#report`` partial for htmx, or a
CSV/XLSX file.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from sogla.core.errors import NOT_FOUND_MESSAGE
from sogla.orgs.models import Organisation, User
from sogla.reports import charts, exports, formatting, selectors
from sogla.reports.figures import MIN_TASKS, Report
from sogla.reports.forms import ParsedFilters, parse_filters, preset_choices
from sogla.web.errors import app_errors
from sogla.web.requests import signed_in_user


def _organisation(user: User) -> Organisation:
    if user.organisation is None:  # platform staff have no reports
        raise Http404(NOT_FOUND_MESSAGE)
    return user.organisation


def _parsed(request: HttpRequest, organisation: Organisation) -> ParsedFilters:
    return parse_filters(request.GET.dict(), selectors.org_today(organisation))


def _context(
    request: HttpRequest, report: Report, parsed: ParsedFilters
) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("_", None)
    return {
        "report": report,
        "filters": parsed.filters,
        "preset": parsed.preset,
        "presets": preset_choices(),
        "errors": parsed.errors,
        "min_tasks": MIN_TASKS,
        "query": query.urlencode(),
        "department_bars": charts.department_bars(
            report.departments, _("No department")
        ),
        "histogram": charts.histogram_bars(report.cycle),
        "bar_chart_height": max(len(report.departments), 1) * charts.BAR_ROW,
        "deltas": {
            "on_time": formatting.pp_delta_text(report.on_time_delta),
            "late": formatting.count_delta_text(report.late_delta),
            "cycle": formatting.duration_delta_text(report.cycle_delta_seconds),
        },
        "previous": report.filters.previous(),
    }


@login_required
@require_GET
@app_errors
def page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    organisation = _organisation(user)
    parsed = _parsed(request, organisation)
    report = selectors.report_for(user=user, filters=parsed.filters)
    htmx = getattr(request, "htmx", None)
    template = (
        "reports/partials/report.html"
        if htmx and htmx.target == "report" and not htmx.history_restore_request
        else "reports/page.html"
    )
    return render(request, template, _context(request, report, parsed))


@login_required
@require_GET
@app_errors
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    user = signed_in_user(request)
    organisation = _organisation(user)
    if table not in exports.TABLES or fmt not in exports.FORMATS:
        raise Http404(NOT_FOUND_MESSAGE)
    parsed = _parsed(request, organisation)
    report = selectors.report_for(user=user, filters=parsed.filters)
    if table == "people" and not report.people_visible:
        raise Http404(NOT_FOUND_MESSAGE)
    header, rows = exports.table(report, table)
    if fmt == "csv":
        body = exports.to_csv(header, rows)
        content_type = "text/csv; charset=utf-8"
    else:
        title = _("People") if table == "people" else _("Stages")
        body = exports.to_xlsx(title, header, rows)
        content_type = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response = HttpResponse(body, content_type=content_type)
    name = exports.filename(report, table, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
