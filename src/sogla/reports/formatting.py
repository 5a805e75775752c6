"""Numbers of the report in words of the active language (durations, percentages,
deltas) and the on-time mark of one decided task."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.reports.figures import DAY, HISTOGRAM_EDGES


def number(value: float, decimals: int = 1) -> str:
    text = number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True)
    if decimals and text.rstrip("0").endswith((",", ".")):  # 4.0 -> 4
        text = number_format(round(value), use_l10n=True)
    return text


def duration_text(seconds: float | None) -> str:
    """4.2 d, 5.5 h, 12 min; an em dash for no value."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)s min") % {"n": number(max(seconds / 60, 0), 0)}
    if seconds < DAY:
        return _("%(n)s h") % {"n": number(seconds / 3600)}
    return _("%(n)s d") % {"n": number(seconds / DAY)}


def percent_text(value: float | None) -> str:
    if value is None:
        return "—"
    return _("%(n)s%%") % {"n": number(value, 0)}


def share_text(share: float | None) -> str:
    return percent_text(None if share is None else share * 100)


def pp_delta_text(delta: float | None) -> str:
    """«на 4 п.п. больше» / "4 pp more" than the previous period."""
    if delta is None:
        return ""
    points = round(abs(delta))
    if points == 0:
        return _("same as the previous period")
    if delta > 0:
        return ngettext(
            "%(n)s pp more than the previous period",
            "%(n)s pp more than the previous period",
            points,
        ) % {"n": points}
    return ngettext(
        "%(n)s pp less than the previous period",
        "%(n)s pp less than the previous period",
        points,
    ) % {"n": points}


def count_delta_text(delta: int) -> str:
    if delta == 0:
        return _("same as the previous period")
    if delta > 0:
        return ngettext(
            "%(n)s more than the previous period",
            "%(n)s more than the previous period",
            delta,
        ) % {"n": delta}
    return ngettext(
        "%(n)s fewer than the previous period",
        "%(n)s fewer than the previous period",
        -delta,
    ) % {"n": -delta}


def duration_delta_text(delta: float | None) -> str:
    if delta is None:
        return ""
    if abs(delta) < 60:
        return _("same as the previous period")
    if delta > 0:
        return _("%(time)s slower than the previous period") % {
            "time": duration_text(delta)
        }
    return _("%(time)s faster than the previous period") % {
        "time": duration_text(-delta)
    }


def bucket_labels() -> list[str]:
    """Labels of the cycle histogram's buckets (days)."""
    labels = []
    for low, high in itertools.pairwise(HISTOGRAM_EDGES):
        if low == 0:
            labels.append(_("< %(n)s") % {"n": number(high, 0)})
        elif math.isinf(high):
            labels.append(_("%(n)s+") % {"n": number(low, 0)})
        else:
            labels.append(f"{number(low, 0)}–{number(high, 0)}")
    return labels


@dataclass(frozen=True)
class Timeliness:
    """Whether a decided task with a deadline was decided by it."""

    on_time: bool
    words: str


def timeliness(task: Any) -> Timeliness | None:
    """For a decided task with a deadline; no query (reads the row's own fields)."""
    decided, due = getattr(task, "decided_at", None), getattr(task, "due_at", None)
    if decided is None or due is None or getattr(task, "state", "") != "done":
        return None
    late = (decided - due).total_seconds()
    if late <= 0:
        return Timeliness(True, _("on time"))
    hours = math.ceil(late / 3600)
    if hours < 24:
        words = ngettext("late by %(n)s hour", "late by %(n)s hours", hours) % {
            "n": hours
        }
    else:
        days = max(round(late / DAY), 1)
        words = ngettext("late by %(n)s day", "late by %(n)s days", days) % {"n": days}
    return Timeliness(False, words)
