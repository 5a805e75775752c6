"""CSV and XLSX of the report's person table and stage table.

Durations are in days (two decimals), percentages in percent; a cell is empty where
the page shows «—» or «Мало данных». Written by ``core.spreadsheets`` (formula
injection guarded).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from sogla.core import spreadsheets
from sogla.reports.figures import DAY, Figures, Report

TABLES = ("people", "stages")
FORMATS = ("csv", "xlsx")
Cell = spreadsheets.Cell
guard = spreadsheets.guard
to_csv = spreadsheets.to_csv
to_xlsx = spreadsheets.to_xlsx


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY, 2)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _figures(f: Figures) -> list[Cell]:
    return [
        f.decided,
        f.on_time,
        f.late,
        f.no_deadline,
        _pct(f.on_time_pct),
        f.open_now,
        f.overdue_now,
        _days(f.median_seconds),
        _days(f.p90_seconds),
    ]


def _figure_headers() -> list[str]:
    return [
        _("Tasks decided"),
        _("On time"),
        _("Late"),
        _("Without a deadline"),
        _("On time, %"),
        _("Open now"),
        _("Overdue now"),
        _("Median time to decide, days"),
        _("p90 time to decide, days"),
    ]


def table(report: Report, name: str) -> tuple[list[str], list[list[Cell]]]:
    """The header and rows of the ``people`` or ``stages`` table."""
    if name == "people":
        header = [_("Person"), _("Department"), *_figure_headers()]
        rows = [
            [p.name, p.department_name, *_figures(p.figures)] for p in report.people
        ]
        return header, rows
    header = [
        _("Route"),
        _("Stage"),
        *_figure_headers(),
        _("Waiting, days"),
        _("Share of waiting, %"),
    ]
    rows = [
        [
            s.route_name,
            s.name,
            *_figures(s.figures),
            _days(s.wait_seconds),
            None if s.share is None else round(s.share * 100, 1),
        ]
        for s in report.stages
    ]
    return header, rows


def filename(report: Report, name: str, fmt: str) -> str:
    f = report.filters
    return f"sogla-{name}-{f.date_from.isoformat()}_{f.date_to.isoformat()}.{fmt}"
