"""The report's filters from a query string: a period preset or dates, department,
document type and route. Bad values fall back to the defaults with an error shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from sogla.reports.figures import DEFAULT_DAYS, MAX_DAYS, ReportFilters

PRESETS: dict[str, int] = {"7": 7, "30": 30, "90": 90, "365": 365}


def preset_choices() -> list[tuple[str, str]]:
    return [
        ("7", str(_("Last 7 days"))),
        ("30", str(_("Last 30 days"))),
        ("90", str(_("Last 90 days"))),
        ("365", str(_("Last 12 months"))),
        ("custom", str(_("Dates…"))),
    ]


class ReportFilterForm(forms.Form):
    period = forms.CharField(required=False)
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    department = forms.IntegerField(required=False, min_value=1)
    type = forms.IntegerField(required=False, min_value=1)
    route = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, date) and isinstance(end, date):
            if start > end:
                self.add_error("date_to", _("The end is before the start."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "date_to",
                    _("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS},
                )
        return data


@dataclass(frozen=True)
class ParsedFilters:
    filters: ReportFilters
    preset: str  # a PRESETS key or "custom"
    errors: list[str]


def parse_filters(query: dict[str, str], today: date) -> ParsedFilters:
    """The filters a query string asks for; invalid parts fall back to defaults."""
    form = ReportFilterForm(query)
    form.is_valid()
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    ids = {
        "department_id": data.get("department"),
        "doc_type_id": data.get("type"),
        "route_id": data.get("route"),
    }
    start, end = data.get("date_from"), data.get("date_to")
    preset = query.get("period", "")
    if preset in PRESETS:  # a preset chosen last wins over dates left in the form
        start = end = None
    if "date_from" in form.errors or "date_to" in form.errors:
        start = end = None
    if isinstance(start, date) or isinstance(end, date):
        end = end if isinstance(end, date) else today
        start = start if isinstance(start, date) else end - timedelta(DEFAULT_DAYS - 1)
        return ParsedFilters(ReportFilters(start, end, **ids), "custom", errors)
    days = PRESETS.get(preset, DEFAULT_DAYS)
    filters = ReportFilters(today - timedelta(days=days - 1), today, **ids)
    if preset != "custom":
        preset = preset if preset in PRESETS else str(DEFAULT_DAYS)
    return ParsedFilters(filters, preset, errors)
