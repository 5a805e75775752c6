"""The registry's query parameters: its filters, its mode (table, compact table,
kanban), its columns and its sort. A saved view stores them; the registry, its
kanban and its export read them. Pure: no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The filters (documents.forms.RegistryFilterForm) and their longest accepted value.
FILTER_PARAMS: dict[str, int] = {
    "q": 2000,
    "type": 60,
    "status": 60,
    "party": 300,
    "counterparty": 12,
    "created_from": 10,
    "created_to": 10,
    "control_from": 10,
    "control_to": 10,
    "mine": 5,
}
VIEW_PARAMS: dict[str, int] = {"mode": 10, "cols": 200, "sort": 20}

MODES = ("table", "compact", "kanban")
MODE_LABELS = {
    "table": _("Table"),
    "compact": _("Compact table"),
    "kanban": _("Kanban"),
}

# The columns a person may show besides the number and title (always shown), in
# the table's order, with their headers.
COLUMNS: dict[str, object] = {
    "type": _("Type"),
    "status": _("Status"),
    "route": _("Route"),
    "holder": _("Now with"),
    "counterparty": _("Counterparty"),
    "initiator": _("Initiator"),
    "created": _("Created"),
    "control_date": _("Control date"),
    "amount": _("Amount"),
}
DEFAULT_COLUMNS = ("type", "status", "route", "holder", "counterparty", "created")

# sort key -> the column that shows it; a leading "-" means descending.
SORTS = {
    "created": "created",
    "number": "number",
    "title": "title",
    "control_date": "control_date",
}
DEFAULT_SORT = "-created"

# The document field that holds a letter's control date (incoming and outgoing
# correspondence of the starter library: ``control_date``, a date field).
CONTROL_DATE_FIELD = "control_date"


@dataclass(frozen=True)
class RegistryView:
    """How the registry shows its documents."""

    mode: str = "table"
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    sort: str = DEFAULT_SORT

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def shows(self, column: str) -> bool:
        return column in self.columns

    @property
    def shows_type(self) -> bool:
        return "type" in self.columns

    @property
    def shows_amount(self) -> bool:
        return "amount" in self.columns

    @property
    def shows_control_date(self) -> bool:
        return "control_date" in self.columns

    def sort_link(self, key: str) -> str:
        """The sort a header's link asks for: the other direction if the table is
        sorted by this key already, else ascending (dates: newest first)."""
        if self.sort_key == key:
            return key if self.descending else f"-{key}"
        return f"-{key}" if key in ("created", "control_date") else key

    def aria_sort(self, key: str) -> str:
        if self.sort_key != key:
            return "none"
        return "descending" if self.descending else "ascending"


def view_from(params: Mapping[str, str]) -> RegistryView:
    """The view the parameters ask for; an unknown mode, column or sort is ignored."""
    mode = params.get("mode", "")
    raw_columns = params.get("cols")
    if raw_columns is None:
        columns: tuple[str, ...] = DEFAULT_COLUMNS
    else:
        wanted = {c for c in raw_columns.split(",") if c in COLUMNS}
        columns = tuple(c for c in COLUMNS if c in wanted)
    sort = params.get("sort", "")
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    return RegistryView(
        mode=mode if mode in MODES else "table", columns=columns, sort=sort
    )


def clean_query(params: Mapping[str, str]) -> dict[str, str]:
    """The registry parameters a saved view keeps: known names only, non-empty,
    each cut to its longest accepted length; nothing else (no cursor, no page)."""
    kept: dict[str, str] = {}
    for name, limit in (FILTER_PARAMS | VIEW_PARAMS).items():
        value = str(params.get(name, "") or "").replace("\x00", "").strip()
        if value or (name == "cols" and name in params):
            kept[name] = value[:limit]
    return kept
