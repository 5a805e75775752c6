"""The report's read model: its filters, the figures of a group, the rows of the
tables, and ``Report``, which holds every figure of the page (cached as a whole).

How each figure is counted is written at the top of ``selectors``, which fills them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import get_language

MIN_TASKS = 20  # fewer decided tasks: "too little data", no percentages
DEFAULT_DAYS = 30
MAX_DAYS = 366
# Cycle-time histogram buckets in days: [lower, upper).
HISTOGRAM_EDGES: tuple[float, ...] = (0, 1, 2, 3, 5, 7, 14, 30, math.inf)
DAY = 86400.0


@dataclass(frozen=True)
class ReportFilters:
    """A period (both dates included) and optional department, type and route ids."""

    date_from: date
    date_to: date
    department_id: int | None = None
    doc_type_id: int | None = None
    route_id: int | None = None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> ReportFilters:
        """The period of equal length just before this one."""
        return replace(
            self,
            date_from=self.date_from - timedelta(days=self.days),
            date_to=self.date_from - timedelta(days=1),
        )

    def cache_key(self, org_id: int) -> str:
        return (
            f"sogla:reports:kpi:v1:{org_id}:{self.date_from.isoformat()}:"
            f"{self.date_to.isoformat()}:{self.department_id}:{self.doc_type_id}:"
            f"{self.route_id}"
        )


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(sorted_values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = math.ceil(0.9 * len(sorted_values))
    return float(sorted_values[rank - 1])


@dataclass
class Figures:
    """Task figures of one group (a person, a department, a route, a stage, or all)."""

    decided: int = 0
    on_time: int = 0
    late: int = 0
    no_deadline: int = 0
    open_now: int = 0
    overdue_now: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def enough(self) -> bool:
        return self.decided >= MIN_TASKS

    @property
    def on_time_pct(self) -> float | None:
        """On-time share in percent; None below ``MIN_TASKS`` decided tasks."""
        if not self.enough:
            return None
        return 100.0 * self.on_time / self.decided

    def add_counts(self, row: dict[str, Any]) -> None:
        self.decided += row["n"]
        self.late += row["late"]
        self.on_time += row["n"] - row["late"]
        self.no_deadline += row["no_deadline"]

    def add_open(self, row: dict[str, Any]) -> None:
        self.open_now += row["open"]
        self.overdue_now += row["overdue"]

    def set_durations(self, seconds: list[float]) -> None:
        seconds.sort()
        self.median_seconds = median(seconds)
        self.p90_seconds = p90(seconds)


def _pick(names: dict[str, str], fallback: str) -> str:
    language = "en" if get_language() == "en" else "ru"
    return names.get(language) or names.get("ru") or names.get("en") or fallback


@dataclass
class PersonRow:
    user_id: int
    name: str
    department_id: int | None
    department_names: dict[str, str]  # {} for people without a department
    figures: Figures = field(default_factory=Figures)

    @property
    def department_name(self) -> str:
        """The department's name in the reader's language ("" without one)."""
        return _pick(self.department_names, "")


@dataclass
class DepartmentRow:
    department_id: int | None
    names: dict[str, str]  # {} for people without a department
    figures: Figures = field(default_factory=Figures)

    @property
    def name(self) -> str:
        """The name in the reader's language (the report is cached for every
        language, so it is picked when read); "" for no department."""
        return _pick(self.names, "")


@dataclass
class StageRow:
    route_id: int
    route_names: dict[str, str]
    stage_key: str
    stage_names: dict[str, str]
    figures: Figures = field(default_factory=Figures)
    wait_seconds: float = 0.0
    runs: int = 0
    share: float | None = None  # of all waiting time, 0..1

    @property
    def route_name(self) -> str:
        return _pick(self.route_names, str(self.route_id))

    @property
    def name(self) -> str:
        return _pick(self.stage_names, self.stage_key)


@dataclass
class CycleStats:
    count: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    histogram: list[int] = field(default_factory=list)  # one count per bucket

    @classmethod
    def of(cls, seconds: list[float]) -> CycleStats:
        seconds.sort()
        buckets = [0] * (len(HISTOGRAM_EDGES) - 1)
        for value in seconds:
            days = value / DAY
            for i in range(len(buckets)):
                if HISTOGRAM_EDGES[i] <= days < HISTOGRAM_EDGES[i + 1]:
                    buckets[i] += 1
                    break
        return cls(len(seconds), median(seconds), p90(seconds), buckets)


@dataclass
class RouteRow:
    route_id: int
    route_names: dict[str, str]
    figures: Figures = field(default_factory=Figures)
    cycle: CycleStats = field(default_factory=CycleStats)
    bottleneck: StageRow | None = None

    @property
    def name(self) -> str:
        return _pick(self.route_names, str(self.route_id))


@dataclass
class Option:
    id: int
    names: dict[str, str]
    parent_id: int | None = None
    head_id: int | None = None

    @property
    def name(self) -> str:
        return _pick(self.names, str(self.id))


@dataclass
class Report:
    """Every figure of the page for one organisation and filters (cached as a whole)."""

    filters: ReportFilters
    generated_at: datetime
    totals: Figures
    previous: Figures
    cycle: CycleStats
    previous_cycle: CycleStats
    people: list[PersonRow]
    departments: list[DepartmentRow]
    routes: list[RouteRow]
    stages: list[StageRow]
    bottleneck: StageRow | None
    department_options: list[Option]
    type_options: list[Option]
    route_options: list[Option]
    people_visible: bool = True  # set by report_for
    people_limited: bool = False  # a manager's subtree only

    @property
    def empty(self) -> bool:
        return self.totals.decided == 0 and self.cycle.count == 0

    @property
    def on_time_delta(self) -> float | None:
        """Percentage points vs the previous period (both need enough tasks)."""
        now, before = self.totals.on_time_pct, self.previous.on_time_pct
        if now is None or before is None:
            return None
        return now - before

    @property
    def late_delta(self) -> int:
        return self.totals.late - self.previous.late

    @property
    def cycle_delta_seconds(self) -> float | None:
        now, before = self.cycle.median_seconds, self.previous_cycle.median_seconds
        if now is None or before is None:
            return None
        return now - before
