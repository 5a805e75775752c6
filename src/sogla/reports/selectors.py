"""The KPI and cycle-time report: read-only queries over tasks, stages and processes.

Definitions (docs/user-guide.md, "Reports", says the same for users):

- A **task** counts when a person of the organisation decided it (state ``done``) in
  the period: ``date_from <= decided_at < date_to + 1 day`` in the organisation's time
  zone. Guests' tasks, tasks closed by a quorum or cancelled, carried-over copies and
  the initiator's revision tasks are not counted; nor are ``wait``/``system`` steps.
- **On time**: ``decided_at <= due_at``; a task without a deadline counts as on time
  and is also counted in ``no_deadline`` so the page can say so. **Late**: decided
  after its deadline.
- **Overdue now** / **open now**: open tasks right now (whatever the period), and those
  among them whose ``due_at`` has passed.
- **Time to decide**: ``decided_at - created_at`` (the task's row is created when its
  stage opens), in calendar time. Median: the middle value (mean of the two middle
  ones); p90: nearest rank (the smallest value at or above 90 % of the values).
- **Cycle time** of a route: ``finished_at - started_at`` of the processes that ended
  approved or rejected in the period (cancelled runs are left out).
- **Waiting time** of a stage: ``finished_at - opened_at`` summed over its stage runs
  that finished in the period (every round); its **share** is that sum over the sum of
  every stage. The **bottleneck** is the stage with the largest share.
- Filters: the department filter takes the department and its sub-departments; it
  applies to the assignee's department for tasks and to the document's department for
  processes and stage runs. Type and route filter everything.

Bounded queries. Counts and sums are aggregated in SQL (grouped by person, department,
route and stage, then rolled up here over those groups, whose number does not grow with
the tasks). Percentiles are computed in Python over one ``values_list`` of the period's
decided tasks (two datetimes per task) and one of the finished processes; both are cut
at ``MAX_DURATIONS`` rows (the latest), which bounds memory on a very busy organisation.
The whole report is 7 queries, cached for ``CACHE_SECONDS`` per organisation and
filters; the viewer's access (``report_for``) is applied to the cached figures.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, DurationField, F, Q, Sum
from django.db.models.expressions import Case, Value, When
from django.db.models.functions import Coalesce
from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from sogla.orgs.access import is_org_admin
from sogla.orgs.models import Department, Organisation, User
from sogla.workflow.models import (
    Process,
    ProcessStatus,
    RouteTemplate,
    RouteVersion,
    RouteVersionStatus,
    StageRun,
    Task,
    TaskState,
)

MIN_TASKS = 20  # fewer decided tasks: "few data", no percentages
MAX_DURATIONS = 100_000  # rows fetched for percentiles (the latest ones)
CACHE_SECONDS = 300
DEFAULT_DAYS = 30
MAX_DAYS = 366
HUMAN_KINDS = ("approve", "consult", "sign", "acknowledge", "request_info", "task")
FINISHED_STATUSES = (ProcessStatus.APPROVED, ProcessStatus.REJECTED)
# Cycle-time histogram buckets in days: [lower, upper).
HISTOGRAM_EDGES: tuple[float, ...] = (0, 1, 2, 3, 5, 7, 14, 30, math.inf)
DAY = 86400.0
PREVIOUS_PART, CURRENT_PART, OPEN_PART = 0, 1, 2


# --- filters --------------------------------------------------------------------------


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


def default_filters(today: date, **kwargs: Any) -> ReportFilters:
    """The last ``DEFAULT_DAYS`` days up to and including today."""
    return ReportFilters(today - timedelta(days=DEFAULT_DAYS - 1), today, **kwargs)


def org_today(org: Organisation, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(org.time_zone)).date()


def _bounds(filters: ReportFilters, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(filters.date_from, time.min, tzinfo=tz)
    end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


# --- figures --------------------------------------------------------------------------


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


def _names(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, str):
        return {"ru": value, "en": value}
    return {}


def _pick(names: dict[str, str], fallback: str) -> str:
    language = "en" if get_language() == "en" else "ru"
    return names.get(language) or names.get("ru") or names.get("en") or fallback


@dataclass
class PersonRow:
    user_id: int
    name: str
    department_id: int | None
    department_name: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class DepartmentRow:
    department_id: int | None
    name: str  # "" for people without a department
    figures: Figures = field(default_factory=Figures)


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


# --- the report -----------------------------------------------------------------------


def subtree(departments: Iterable[Option], roots: Iterable[int]) -> set[int]:
    """The ids of ``roots`` and every department below them."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for d in departments:
        children[d.parent_id].append(d.id)
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(children.get(current, []))
    return seen


def kpi_report(
    *, organisation: Organisation, filters: ReportFilters, now: datetime | None = None
) -> Report:
    """The report of ``organisation`` for ``filters``; cached for 5 minutes."""
    return _kpi_report(organisation, filters, now)[0]


def _kpi_report(
    organisation: Organisation, filters: ReportFilters, now: datetime | None
) -> tuple[Report, bool]:
    """The report and whether it was built just now (its departments are fresh)."""
    key = filters.cache_key(organisation.pk)
    cached = cache.get(key)
    if isinstance(cached, Report):
        return cached, False
    report = build_report(organisation=organisation, filters=filters, now=now)
    cache.set(key, report, CACHE_SECONDS)
    return report, True


def _task_scope(
    org_id: int, filters: ReportFilters, departments: set[int] | None
) -> QuerySet[Task]:
    qs = Task.objects.for_org(org_id).filter(
        assignee__isnull=False, kind__in=HUMAN_KINDS
    )
    if filters.doc_type_id is not None:
        qs = qs.filter(process__document__doc_type_id=filters.doc_type_id)
    if filters.route_id is not None:
        qs = qs.filter(process__route_version__template_id=filters.route_id)
    if departments is not None:
        qs = qs.filter(assignee__department_id__in=departments)
    return qs


def _process_filter(
    prefix: str, filters: ReportFilters, departments: set[int] | None
) -> Q:
    q = Q()
    if filters.doc_type_id is not None:
        q &= Q(**{f"{prefix}document__doc_type_id": filters.doc_type_id})
    if filters.route_id is not None:
        q &= Q(**{f"{prefix}route_version__template_id": filters.route_id})
    if departments is not None:
        q &= Q(**{f"{prefix}document__department_id__in": departments})
    return q


GROUP = (
    "assignee_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "assignee__department_id",
    "process__route_version__template_id",
    "stage_key",
)


def build_report(
    *, organisation: Organisation, filters: ReportFilters, now: datetime | None = None
) -> Report:
    """The figures, uncached: 7 queries whatever the number of tasks."""
    now = now or timezone.now()
    org_id = organisation.pk
    tz = ZoneInfo(organisation.time_zone)
    start, end = _bounds(filters, tz)
    prev_start, _prev_end = _bounds(filters.previous(), tz)

    # 1. departments (names, the filter's subtree, the filter list)
    department_options = [
        Option(pk, {"ru": name, "en": name}, parent_id, head_id)
        for pk, name, parent_id, head_id in Department.objects.for_org(org_id)
        .order_by("name", "pk")
        .values_list("pk", "name", "parent_id", "head_id")
    ]
    department_names = {d.id: d.names["ru"] for d in department_options}
    scope: set[int] | None = None
    if filters.department_id is not None:
        scope = subtree(department_options, [filters.department_id])

    # 2. routes and their document types (names and the filter lists)
    route_options: list[Option] = []
    types: dict[int, Option] = {}
    for pk, name_ru, name_en, type_id, type_ru, type_en in (
        RouteTemplate.objects.for_org(org_id)
        .order_by("order", "key")
        .values_list(
            "pk", "name_ru", "name_en", "doc_type_id", "doc_type__name_ru",
            "doc_type__name_en",
        )
    ):  # fmt: skip
        route_options.append(Option(pk, {"ru": name_ru, "en": name_en}))
        types.setdefault(type_id, Option(type_id, {"ru": type_ru, "en": type_en}))
    route_names = {r.id: r.names for r in route_options}

    tasks = _task_scope(org_id, filters, scope)

    # 3. decided tasks of this and the previous period, and open tasks now, counted
    #    per finest group (``part``: 2 open now, 1 decided in the period, 0 before)
    decided = Q(state=TaskState.DONE, decided_at__gte=prev_start, decided_at__lt=end)
    is_open = Q(state=TaskState.OPEN)
    count_rows = list(
        tasks.filter(decided | is_open)
        .annotate(
            part=Case(
                When(is_open, then=Value(OPEN_PART)),
                When(decided_at__gte=start, then=Value(CURRENT_PART)),
                default=Value(PREVIOUS_PART),
            )
        )
        .values("part", *GROUP)
        .annotate(
            n=Count("id", filter=~is_open),
            late=Count(
                "id",
                filter=~is_open & Q(due_at__isnull=False, decided_at__gt=F("due_at")),
            ),
            no_deadline=Count("id", filter=~is_open & Q(due_at__isnull=True)),
            open=Count("id", filter=is_open),
            overdue=Count("id", filter=is_open & Q(due_at__lt=now)),
        )
        .order_by()
    )
    # 4. the period's times to decide (the percentiles)
    durations = list(
        tasks.filter(state=TaskState.DONE, decided_at__gte=start, decided_at__lt=end)
        .order_by("-decided_at")
        .values_list(
            "assignee_id",
            "assignee__department_id",
            "process__route_version__template_id",
            "stage_key",
            "created_at",
            "decided_at",
        )[:MAX_DURATIONS]
    )
    # 5. finished processes of both periods (cycle time)
    cycles = list(
        Process.objects.for_org(org_id)
        .filter(
            _process_filter("", filters, scope),
            status__in=FINISHED_STATUSES,
            finished_at__gte=prev_start,
            finished_at__lt=end,
        )
        .order_by("-finished_at")
        .values_list("route_version__template_id", "started_at", "finished_at")[
            :MAX_DURATIONS
        ]
    )
    # 6. waiting time per stage (summed in SQL)
    waits = list(
        StageRun.objects.for_org(org_id)
        .filter(
            _process_filter("process__", filters, scope),
            opened_at__isnull=False,
            finished_at__gte=start,
            finished_at__lt=end,
        )
        .values("process__route_version__template_id", "stage_key")
        .annotate(
            runs=Count("id"),
            total=Coalesce(
                Sum(F("finished_at") - F("opened_at"), output_field=DurationField()),
                Value(timedelta(0)),
                output_field=DurationField(),
            ),
        )
        .order_by()
    )

    totals, previous = Figures(), Figures()
    people: dict[int, PersonRow] = {}
    departments: dict[int | None, DepartmentRow] = {}
    routes: dict[int, RouteRow] = {}
    stages: dict[tuple[int, str], StageRow] = {}

    def groups(row: dict[str, Any]) -> list[Figures]:
        user_id = row["assignee_id"]
        dept_id = row["assignee__department_id"]
        route_id = row["process__route_version__template_id"]
        stage_key = row["stage_key"]
        person = people.get(user_id)
        if person is None:
            name = _person_name(
                row["assignee__last_name"],
                row["assignee__first_name"],
                row["assignee__username"],
            )
            person = people[user_id] = PersonRow(
                user_id, name, dept_id, department_names.get(dept_id or 0, "")
            )
        department = departments.get(dept_id)
        if department is None:
            department = departments[dept_id] = DepartmentRow(
                dept_id, department_names.get(dept_id or 0, "")
            )
        route = routes.get(route_id)
        if route is None:
            route = routes[route_id] = RouteRow(route_id, route_names.get(route_id, {}))
        stage = stages.get((route_id, stage_key))
        if stage is None:
            stage = stages[(route_id, stage_key)] = StageRow(
                route_id, route.route_names, stage_key, {}
            )
        return [
            totals,
            person.figures,
            department.figures,
            route.figures,
            stage.figures,
        ]

    for row in count_rows:
        if row["part"] == OPEN_PART:
            for figures in groups(row):
                figures.add_open(row)
        elif row["part"] == CURRENT_PART:
            for figures in groups(row):
                figures.add_counts(row)
        else:
            previous.add_counts(row)

    # percentiles per group
    by_person: dict[int, list[float]] = defaultdict(list)
    by_department: dict[int | None, list[float]] = defaultdict(list)
    by_route: dict[int, list[float]] = defaultdict(list)
    by_stage: dict[tuple[int, str], list[float]] = defaultdict(list)
    everything: list[float] = []
    for uid, did, rid, skey, opened, decided_at in durations:
        seconds = _seconds(opened, decided_at)
        by_person[uid].append(seconds)
        by_department[did].append(seconds)
        by_route[rid].append(seconds)
        by_stage[(rid, skey)].append(seconds)
        everything.append(seconds)
    totals.set_durations(everything)
    for uid, person_row in people.items():
        person_row.figures.set_durations(by_person[uid])
    for dept_key, department_row in departments.items():
        department_row.figures.set_durations(by_department[dept_key])
    for rid, route_row in routes.items():
        route_row.figures.set_durations(by_route[rid])
    for pair, stage_row in stages.items():
        stage_row.figures.set_durations(by_stage[pair])

    # cycle times
    current_cycles: list[float] = []
    previous_cycles: list[float] = []
    cycles_by_route: dict[int, list[float]] = defaultdict(list)
    for rid, started, finished in cycles:
        if finished is None:
            continue
        seconds = _seconds(started, finished)
        if finished >= start:
            current_cycles.append(seconds)
            cycles_by_route[rid].append(seconds)
        else:
            previous_cycles.append(seconds)
    for rid, seconds_list in cycles_by_route.items():
        cycle_route = routes.get(rid)
        if cycle_route is None:
            cycle_route = routes[rid] = RouteRow(rid, route_names.get(rid, {}))
        cycle_route.cycle = CycleStats.of(seconds_list)

    # waiting shares and bottlenecks
    for row in waits:
        route_id = row["process__route_version__template_id"]
        pair = (route_id, row["stage_key"])
        waited = stages.get(pair)
        if waited is None:
            waited = stages[pair] = StageRow(
                route_id, route_names.get(route_id, {}), row["stage_key"], {}
            )
        waited.wait_seconds = row["total"].total_seconds()
        waited.runs = row["runs"]
    total_wait = sum(s.wait_seconds for s in stages.values())
    wait_by_route: dict[int, float] = defaultdict(float)
    for stage in stages.values():
        wait_by_route[stage.route_id] += stage.wait_seconds
        if total_wait > 0:
            stage.share = stage.wait_seconds / total_wait
    bottleneck = _largest_wait(stages.values())
    for route in routes.values():
        route.bottleneck = _largest_wait(
            s for s in stages.values() if s.route_id == route.route_id
        )

    # 7. stage names from the routes' published definitions
    _name_stages(org_id, stages.values())

    return Report(
        filters=filters,
        generated_at=now,
        totals=totals,
        previous=previous,
        cycle=CycleStats.of(current_cycles),
        previous_cycle=CycleStats.of(previous_cycles),
        people=sorted(people.values(), key=lambda p: (p.name.lower(), p.user_id)),
        departments=sorted(
            departments.values(), key=lambda d: (d.department_id is None, d.name)
        ),
        routes=sorted(routes.values(), key=lambda r: (r.name.lower(), r.route_id)),
        stages=sorted(
            stages.values(),
            key=lambda s: (-(s.share or 0.0), s.route_id, s.stage_key),
        ),
        bottleneck=bottleneck,
        department_options=department_options,
        type_options=sorted(types.values(), key=lambda t: t.name.lower()),
        route_options=route_options,
    )


def _seconds(begin: datetime | None, end: datetime | None) -> float:
    if begin is None or end is None:
        return 0.0
    return max((end - begin).total_seconds(), 0.0)


def _person_name(last: str, first: str, username: str) -> str:
    if last and first:
        return f"{last} {first[0]}."
    return f"{first} {last}".strip() or username


def _largest_wait(stages: Iterable[StageRow]) -> StageRow | None:
    best: StageRow | None = None
    for stage in stages:
        if stage.wait_seconds > 0 and (
            best is None or stage.wait_seconds > best.wait_seconds
        ):
            best = stage
    return best


def _name_stages(org_id: int, stages: Iterable[StageRow]) -> None:
    wanted = list(stages)
    route_ids = {s.route_id for s in wanted}
    if not route_ids:
        return
    names: dict[tuple[int, str], dict[str, str]] = {}
    for route_id, definition in (
        RouteVersion.objects.for_org(org_id)
        .filter(template_id__in=route_ids, status=RouteVersionStatus.PUBLISHED)
        .order_by("template_id", "number")
        .values_list("template_id", "definition")
    ):
        for stage in (definition or {}).get("stages", []):
            if isinstance(stage, dict) and stage.get("key"):
                names[(route_id, stage["key"])] = _names(stage.get("name"))
    for stage_row in wanted:
        stage_row.stage_names = names.get((stage_row.route_id, stage_row.stage_key), {})


# --- access ---------------------------------------------------------------------------


def headed_subtree(user: User, departments: list[Option] | None = None) -> set[int]:
    """The departments ``user`` heads and every department below them.

    From ``departments`` when given (read in this request), else one query: access is
    never decided on cached rows.
    """
    if user.organisation_id is None:
        return set()
    if departments is None:
        departments = [
            Option(pk, {}, parent_id, head_id)
            for pk, parent_id, head_id in Department.objects.for_org(
                user.organisation_id
            ).values_list("pk", "parent_id", "head_id")
        ]
    return subtree(departments, [d.id for d in departments if d.head_id == user.pk])


def report_for(
    *, user: User, filters: ReportFilters, now: datetime | None = None
) -> Report:
    """The report as ``user`` may see it.

    Organisation administrators see every person row; a department head sees the rows
    of the people of their department subtree; everyone else sees aggregates only.
    """
    organisation = user.organisation
    assert organisation is not None  # noqa: S101 - only members reach reports
    report, fresh = _kpi_report(organisation, filters, now)
    if is_org_admin(user):
        return report
    allowed = headed_subtree(user, report.department_options if fresh else None)
    if not allowed:
        return replace(report, people=[], people_visible=False)
    return replace(
        report,
        people=[p for p in report.people if p.department_id in allowed],
        people_limited=True,
    )
