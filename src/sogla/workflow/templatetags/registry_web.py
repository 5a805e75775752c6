"""The registry's table rows, written here rather than as template nodes: a page
has fifty documents, and the template engine spent most of the page's time on
their few hundred nodes (the way Django's admin writes its list's cells, as the
inbox's ``inbox_row`` does). One markup for every width: under 768 px main.css
lays each row out as the phone's card.

What rows share is worked out once per page (the card's URL pattern,
the date format, a status chip, a traffic light of the same route in the same
state, a date); the markup is the templates' it replaces, without the blank lines
their loops left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from sogla.core.text import without_number
from sogla.documents.registry_query import RegistryView
from sogla.documents.selectors import RowValues
from sogla.web.links import id_link
from sogla.web.templatetags.sogla_web import status_chip
from sogla.workflow.screens.traffic_light import StageSummary

register = template.Library()

_DASH = "—"


def _cell(column: str, html: str) -> str:
    """A column's cell (classed by its column for main.css), or its dash when empty."""
    if html:
        return f'<td class="{column}">{html}</td>'
    return f'<td class="{column} none">{_DASH}</td>'


# the two commonest segments of a traffic light, drawn by main.css (.tl > b, .tl > i)
_BARE = {"tl-done": "<b></b>", "tl-future": "<i></i>"}


class _Page:
    """What the rows of one page share."""

    def __init__(
        self,
        view: RegistryView,
        lights: Mapping[int, StageSummary],
        values: Mapping[int, RowValues],
        snippets: Mapping[int, str],
    ) -> None:
        self.view = view
        self.lights = lights
        self.values = values
        self.snippets = snippets
        self.card = id_link("documents:card")
        self.zone = timezone.get_current_timezone()
        self.memo: dict[Any, str] = {}
        self.overdue = _("overdue")
        self.control = escape(_("Control date"))

    def day(self, value: datetime | None) -> str:
        """``value|date:"SHORT_DATE_FORMAT"`` in the current time zone."""
        if value is None:
            return ""
        local: date = timezone.localtime(value, self.zone).date()
        found = self.memo.get(local)
        if found is None:
            found = self.memo[local] = escape(
                formats.date_format(local, "SHORT_DATE_FORMAT")
            )
        return found

    def chip(self, status: Any) -> str:
        """``{% status_chip %}`` (web/status_chip.html): main.css draws a status
        cell's ``span`` as the chip, with its icon (``.registry-table .status``)."""
        key = ("chip", status.pk)
        found = self.memo.get(key)
        if found is None:
            data = status_chip(status)
            found = self.memo[key] = (
                f'<span class="status-{escape(data["token"])}">'
                f"{escape(data['name'])}</span>"
            )
        return found

    def light(self, light: StageSummary) -> str:
        """The traffic light: one segment per stage and "2/7", drawn as one image
        whose name (and tooltip) says where the document stands: "Stage 2 of 7,
        Lawyer, waiting". Each stage's own name and state are on the document's
        card (its route map), not in a tooltip per segment: fifty rows of seven
        tooltips weighed half the page. A stage done is a bare ``<b>``, one not
        started a bare ``<i>`` (main.css draws them). The same route in the same state on many rows is
        written once."""
        key = (
            "light",
            tuple(s.colour for s in light.segments),
            light.position,
            light.total,
            light.current_name,
            light.current_word,
        )
        found = self.memo.get(key)
        if found is None:
            segments = "".join(
                _BARE.get(s.css) or f'<i class="{s.css}"></i>' for s in light.segments
            )
            found = self.memo[key] = (
                f'<span role="img" title="{escape(light.hidden_text)}">'
                f"{segments}{light.position}/{light.total}</span>"
            )
        return found

    def now_with(self, light: StageSummary) -> str:
        """workflow/partials/now_with.html."""
        alarm = (
            ' <span class="text-danger fw-semibold"><i class="bi bi-alarm-fill" '
            'aria-hidden="true"></i><span class="visually-hidden"> '
            f"{escape(self.overdue)}</span></span>"
        )
        more = f" (+{light.more_holders})" if light.more_holders else ""
        if light.holder or light.holder_email:
            if light.holder:
                who = f"<span>{escape(light.holder.short_name)}{more}</span>"
            else:
                who = (
                    '<span class="now-with-email"><i class="bi bi-globe2" '
                    f'aria-hidden="true"></i> {escape(light.holder_email)}{more}'
                    "</span>"
                )
            if light.waiting:
                when = (
                    f" · <span>{escape(light.waiting)}"
                    f"{alarm if light.overdue else ''}</span>"
                )
            else:
                when = alarm if light.overdue else ""
            return f"{who}{when}"
        if light.process.finished_at:
            return (
                f'<span class="num text-nowrap">— · '
                f"{self.day(light.process.finished_at)}</span>"
            )
        return _DASH

    def title(self, document: Any) -> str:
        return escape(without_number(document.title, document.number))

    def row(self, document: Any) -> str:
        """One ``<tr>`` of the table, for every width: main.css lays it out as a
        card under 768 px (and main.js adds the document's thumbnail to the cards
        there). Each optional cell is classed by its column, which main.css
        styles."""
        pk = document.pk
        view = self.view
        light = self.lights.get(pk)
        values = self.values.get(pk)
        type_name = escape(str(document.doc_type.name))
        snippet = self.snippets.get(pk)
        cells = [
            f'<tr><td><a href="{self.card(pk)}">'
            f"{escape(document.number)}</a>"
            + (f"<small>{type_name}</small>" if view.shows_type else "")
            + f"</td><td>{self.title(document)}"
            + (f'<div class="search-snippet">{snippet}</div>' if snippet else "")
            + "</td>"
        ]
        for column in view.columns:
            if column == "type":
                cells.append(_cell("type", type_name))
            elif column == "status":
                cells.append(_cell("status", self.chip(document.status)))
            elif column == "route":
                cells.append(_cell("route", self.light(light) if light else ""))
            elif column == "holder":
                cells.append(_cell("holder", self.now_with(light) if light else ""))
            elif column == "counterparty":
                party = document.counterparty
                cells.append(_cell("party", escape(party.name) if party else ""))
            elif column == "initiator":
                cells.append(_cell("initiator", escape(document.initiator.short_name)))
            elif column == "created":
                cells.append(_cell("created", self.day(document.created_at)))
            elif column == "control_date":
                shown = escape(values.control_date) if values else ""
                label = f'<span class="phone-label">{self.control}: </span>'
                cells.append(_cell("control", f"{label}{shown}" if shown else ""))
            elif column == "amount":
                cells.append(_cell("amount", escape(values.amount) if values else ""))
        cells.append("</tr>\n")
        return "".join(cells)


@register.simple_tag
def registry_rows(
    documents: Sequence[Any],
    view: RegistryView,
    lights: Mapping[int, StageSummary],
    values: Mapping[int, RowValues],
    extra: Mapping[str, Any],
) -> SafeString:
    """The table's rows (every value escaped here; a search snippet is markup)."""
    page = _page(view, lights, values, extra)
    return mark_safe("".join(page.row(d) for d in documents))


def _page(
    view: RegistryView,
    lights: Mapping[int, StageSummary],
    values: Mapping[int, RowValues],
    extra: Mapping[str, Any],
) -> _Page:
    return _Page(view, lights or {}, values or {}, extra.get("snippets") or {})
