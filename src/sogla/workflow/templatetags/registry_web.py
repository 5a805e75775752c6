"""The registry's table rows and phone cards, written here rather than as template
nodes: a page has fifty documents, each a row and a card, and the template engine
spent most of the page's time on their few hundred nodes (the way Django's admin
writes its list's cells, as the inbox's ``inbox_row`` does).

What rows share is worked out once per page (the card and thumbnail URL patterns,
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
        self.thumbnail = id_link("documents:document_thumbnail")
        self.zone = timezone.get_current_timezone()
        self.memo: dict[Any, str] = {}
        self.overdue = _("overdue")

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
        """``{% status_chip %}`` (web/status_chip.html)."""
        key = ("chip", status.pk)
        found = self.memo.get(key)
        if found is None:
            data = status_chip(status)
            found = self.memo[key] = (
                f'<span class="status-chip status-{escape(data["token"])}">'
                f'<i class="bi {escape(data["icon"])}" aria-hidden="true"></i>'
                f"{escape(data['name'])}</span>"
            )
        return found

    def light(self, light: StageSummary) -> str:
        """workflow/partials/traffic_light.html: the same route in the same state
        on many rows is written once."""
        key = (
            "light",
            tuple((s.name, s.colour) for s in light.segments),
            light.position,
            light.total,
            light.current_name,
            light.current_word,
        )
        found = self.memo.get(key)
        if found is None:
            segments = "".join(
                f'<span class="{s.css}" title="{escape(s.name)}: {escape(s.word)}">'
                "</span>"
                for s in light.segments
            )
            found = self.memo[key] = (
                f'<span class="tl" aria-hidden="true">{segments}</span> '
                f'<span class="num small" aria-hidden="true">{light.position}/'
                f"{light.total}</span>"
                f'<span class="visually-hidden">{escape(light.hidden_text)}</span>'
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
                who = (
                    f'<span class="text-nowrap">{escape(light.holder.short_name)}'
                    f"{more}</span>"
                )
            else:
                who = (
                    '<span class="now-with-email"><i class="bi bi-globe2" '
                    f'aria-hidden="true"></i> {escape(light.holder_email)}{more}'
                    "</span>"
                )
            if light.waiting:
                when = (
                    f' · <span class="text-nowrap">{escape(light.waiting)}'
                    f"{alarm if light.overdue else ''}</span>"
                )
            else:
                when = alarm if light.overdue else ""
            return f'<span class="now-with">{who}{when}</span>'
        if light.process.finished_at:
            return (
                f'<span class="num text-nowrap">— · '
                f"{self.day(light.process.finished_at)}</span>"
            )
        return _DASH

    def title(self, document: Any) -> str:
        return escape(without_number(document.title, document.number))

    def row(self, document: Any) -> str:
        """One ``<tr>`` of the table (workflow/partials/registry_results.html)."""
        pk = document.pk
        view = self.view
        light = self.lights.get(pk)
        values = self.values.get(pk)
        type_name = escape(str(document.doc_type.name))
        snippet = self.snippets.get(pk)
        cells = [
            f'<tr><td class="text-nowrap"><a class="doc-number" '
            f'href="{self.card(pk)}">{escape(document.number)}</a>'
            + (f'<div class="type-under">{type_name}</div>' if view.shows_type else "")
            + f'</td><td class="cell-title user-text">{self.title(document)}'
            + (
                f'<div class="small text-body-secondary search-snippet">{snippet}</div>'
                if snippet
                else ""
            )
            + "</td>"
        ]
        for column in view.columns:
            if column == "type":
                cells.append(f'<td class="wide">{type_name}</td>')
            elif column == "status":
                cells.append(f"<td>{self.chip(document.status)}</td>")
            elif column == "route":
                cells.append(
                    f'<td class="text-nowrap">{self.light(light)}</td>'
                    if light
                    else '<td class="text-nowrap"><span class="text-body-secondary">'
                    "—</span></td>"
                )
            elif column == "holder":
                cells.append(
                    f'<td class="small">{self.now_with(light) if light else _DASH}</td>'
                )
            elif column == "counterparty":
                party = document.counterparty
                cells.append(
                    '<td class="cell-party user-text">'
                    f"{escape(party.name) if party else _DASH}</td>"
                )
            elif column == "initiator":
                cells.append(
                    '<td class="text-nowrap wide">'
                    f"{escape(document.initiator.short_name)}</td>"
                )
            elif column == "created":
                cells.append(
                    '<td class="num text-nowrap wide">'
                    f"{self.day(document.created_at)}</td>"
                )
            elif column == "control_date":
                shown = values.control_date if values else ""
                cells.append(
                    f'<td class="num text-nowrap">{escape(shown) or _DASH}</td>'
                )
            elif column == "amount":
                shown = values.amount if values else ""
                cells.append(
                    '<td class="num text-nowrap text-end">'
                    f"{escape(shown) or _DASH}</td>"
                )
        cells.append("</tr>\n")
        return "".join(cells)

    def card_item(self, document: Any) -> str:
        """One phone card (``<li>``) of the list under the table."""
        pk = document.pk
        view = self.view
        light = self.lights.get(pk)
        values = self.values.get(pk)
        snippet = self.snippets.get(pk)
        party = document.counterparty
        about = escape(str(document.doc_type.name))
        if party:
            about += f" · {escape(party.name)}"
        about += (
            f" · {escape(document.initiator.short_name)} · "
            f"{self.day(document.created_at)}"
        )
        extra = ""
        if values and values.control_date and view.shows_control_date:
            extra += (
                f'<p class="small mb-0">{escape(_("Control date"))}: '
                f'<span class="num">{escape(values.control_date)}</span></p>'
            )
        if values and values.amount and view.shows_amount:
            extra += f'<p class="small mb-0 num">{escape(values.amount)}</p>'
        if light:
            extra += (
                f'<p class="dc-light">{self.light(light)}{self.now_with(light)}</p>'
            )
        url = self.card(pk)
        return (
            '<li><article><div class="dc-head">'
            f'<a class="doc-number" href="{url}">{escape(document.number)}</a>'
            f"{self.chip(document.status)}</div>"
            '<div class="dc-body"><img class="file-thumb" '
            f'src="{self.thumbnail(pk)}" alt="" width="48" height="68" '
            'loading="lazy"><div class="dc-main">'
            f'<h2 class="h6 dc-title">{self.title(document)}</h2>'
            + (
                f'<p class="small text-body-secondary mb-1 search-snippet">{snippet}</p>'
                if snippet
                else ""
            )
            + f'<p class="dc-meta">{about}</p>{extra}'
            "</div></div></article></li>\n"
        )


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


@register.simple_tag
def registry_cards(
    documents: Sequence[Any],
    view: RegistryView,
    lights: Mapping[int, StageSummary],
    values: Mapping[int, RowValues],
    extra: Mapping[str, Any],
) -> SafeString:
    """The phone cards shown instead of the table below 768 px."""
    page = _page(view, lights, values, extra)
    return mark_safe("".join(page.card_item(d) for d in documents))


def _page(
    view: RegistryView,
    lights: Mapping[int, StageSummary],
    values: Mapping[int, RowValues],
    extra: Mapping[str, Any],
) -> _Page:
    return _Page(view, lights or {}, values or {}, extra.get("snippets") or {})
