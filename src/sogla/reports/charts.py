"""Geometry of the report's server-rendered SVG charts (no chart JavaScript).

Horizontal positions are percentages of the chart's width and vertical ones pixels, so
that the SVG needs no viewBox: it stretches to its column while the text keeps its
size, at 1280 px and at 360 px alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sogla.reports.figures import CycleStats, DepartmentRow
from sogla.reports.formatting import bucket_labels

BAR_ROW = 48  # px per department
BAR_SCALE = 55.0  # % of the width the longest bar takes (its numbers follow it)
HIST_BAR_MAX = 120  # px of the tallest histogram bar
HIST_BASE = 140  # px: the bars' baseline


@dataclass(frozen=True)
class DepartmentBar:
    name: str
    on_time: int
    late: int
    y: int  # top of the row
    on_time_width: float  # %
    late_x: float  # %
    late_width: float  # %
    label_x: float  # %


def department_bars(
    rows: list[DepartmentRow], no_department: str
) -> list[DepartmentBar]:
    shown = [r for r in rows if r.figures.decided]
    biggest = max((r.figures.decided for r in shown), default=0)
    bars = []
    for i, row in enumerate(shown):
        f = row.figures
        scale = BAR_SCALE / biggest if biggest else 0.0
        on_time_width = round(f.on_time * scale, 2)
        late_width = round(f.late * scale, 2)
        bars.append(
            DepartmentBar(
                name=(row.name or no_department)[:60],
                on_time=f.on_time,
                late=f.late,
                y=i * BAR_ROW,
                on_time_width=on_time_width,
                late_x=on_time_width,
                late_width=late_width,
                label_x=round(on_time_width + late_width, 2),
            )
        )
    return bars


@dataclass(frozen=True)
class HistogramBar:
    label: str
    count: int
    x: float  # % (left edge)
    centre: float  # %
    width: float  # %
    y: int  # px (top)
    height: int  # px


def histogram_bars(cycle: CycleStats) -> list[HistogramBar]:
    labels = bucket_labels()
    counts = cycle.histogram or [0] * len(labels)
    slot = 100.0 / len(counts)
    biggest = max(counts, default=0)
    bars = []
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        height = round(HIST_BAR_MAX * count / biggest) if biggest else 0
        if count and height < 2:
            height = 2
        bars.append(
            HistogramBar(
                label=label,
                count=count,
                x=round(i * slot + slot * 0.12, 2),
                centre=round(i * slot + slot / 2, 2),
                width=round(slot * 0.76, 2),
                y=HIST_BASE - height,
                height=height,
            )
        )
    return bars
