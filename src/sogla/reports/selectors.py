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

from collections import defaultdict
from collections.abc import Iterable
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

from sogla.orgs.access import is_org_admin
from sogla.orgs.models import Department, Organisation, User
from sogla.reports.figures import (
    CycleStats,
    DepartmentRow,
    Figures,
    Option,
    PersonRow,
    Report,
    ReportFilters,
    RouteRow,
    StageRow,
)
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

MAX_DURATIONS = 100_000  # rows fetched for percentiles (the latest ones)
CACHE_SECONDS = 300
HUMAN_KINDS = ("approve", "consult", "sign", "acknowledge", "request_info", "task")
FINISHED_STATUSES = (ProcessStatus.APPROVED, ProcessStatus.REJECTED)
PREVIOUS_PART, CURRENT_PART, OPEN_PART = 0, 1, 2


def org_today(org: Organisation, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(org.time_zone)).date()


def _bounds(filters: ReportFilters, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(filters.date_from, time.min, tzinfo=tz)
    end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _names(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, str):
        return {"ru": value, "en": value}
    return {}


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


@dataclass(frozen=True)
class _Period:
    """The report's period ``[start, end)`` and the start of the one before it."""

    start: datetime
    end: datetime
    previous_start: datetime


@dataclass
class _Groups:
    """The rows the figures are rolled up into, made on first sight of a group."""

    department_names: dict[int, dict[str, str]]
    route_names: dict[int, dict[str, str]]
    totals: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)
    people: dict[int, PersonRow] = field(default_factory=dict)
    departments: dict[int | None, DepartmentRow] = field(default_factory=dict)
    routes: dict[int, RouteRow] = field(default_factory=dict)
    stages: dict[tuple[int, str], StageRow] = field(default_factory=dict)

    def of(self, row: dict[str, Any]) -> list[Figures]:
        """The figures a task row counts in: all, its person, department, route, stage."""
        dept_id = row["assignee__department_id"]
        route_id = row["process__route_version__template_id"]
        return [
            self.totals,
            self.person(row).figures,
            self.department(dept_id).figures,
            self.route(route_id).figures,
            self.stage(route_id, row["stage_key"]).figures,
        ]

    def person(self, row: dict[str, Any]) -> PersonRow:
        user_id = row["assignee_id"]
        person = self.people.get(user_id)
        if person is None:
            dept_id = row["assignee__department_id"]
            name = _person_name(
                row["assignee__last_name"],
                row["assignee__first_name"],
                row["assignee__username"],
            )
            person = self.people[user_id] = PersonRow(
                user_id, name, dept_id, self.department_names.get(dept_id or 0, {})
            )
        return person

    def department(self, dept_id: int | None) -> DepartmentRow:
        department = self.departments.get(dept_id)
        if department is None:
            department = self.departments[dept_id] = DepartmentRow(
                dept_id, self.department_names.get(dept_id or 0, {})
            )
        return department

    def route(self, route_id: int) -> RouteRow:
        route = self.routes.get(route_id)
        if route is None:
            route = self.routes[route_id] = RouteRow(
                route_id, self.route_names.get(route_id, {})
            )
        return route

    def stage(self, route_id: int, stage_key: str) -> StageRow:
        stage = self.stages.get((route_id, stage_key))
        if stage is None:
            stage = self.stages[(route_id, stage_key)] = StageRow(
                route_id, self.route_names.get(route_id, {}), stage_key, {}
            )
        return stage


def build_report(
    *, organisation: Organisation, filters: ReportFilters, now: datetime | None = None
) -> Report:
    """The figures, uncached: 7 queries whatever the number of tasks."""
    now = now or timezone.now()
    org_id = organisation.pk
    tz = ZoneInfo(organisation.time_zone)
    start, end = _bounds(filters, tz)
    period = _Period(start, end, _bounds(filters.previous(), tz)[0])
    department_options = _department_options(org_id)  # 1
    scope: set[int] | None = None
    if filters.department_id is not None:
        scope = subtree(department_options, [filters.department_id])
    route_options, type_options = _route_and_type_options(org_id)  # 2
    groups = _Groups(
        department_names={d.id: d.names for d in department_options},
        route_names={r.id: r.names for r in route_options},
    )
    tasks = _task_scope(org_id, filters, scope)
    _count_tasks(groups, tasks, period, now)  # 3
    _times_to_decide(groups, tasks, period)  # 4
    processes = _process_filter("", filters, scope)
    cycle, previous_cycle = _cycle_times(groups, org_id, processes, period)  # 5
    stage_runs = _process_filter("process__", filters, scope)
    bottleneck = _waiting_times(groups, org_id, stage_runs, period)  # 6
    _name_stages(org_id, groups.stages.values())  # 7
    return Report(
        filters=filters,
        generated_at=now,
        totals=groups.totals,
        previous=groups.previous,
        cycle=cycle,
        previous_cycle=previous_cycle,
        people=sorted(
            groups.people.values(), key=lambda p: (p.name.lower(), p.user_id)
        ),
        departments=sorted(
            groups.departments.values(), key=lambda d: (d.department_id is None, d.name)
        ),
        routes=sorted(
            groups.routes.values(), key=lambda r: (r.name.lower(), r.route_id)
        ),
        stages=sorted(
            groups.stages.values(),
            key=lambda s: (-(s.share or 0.0), s.route_id, s.stage_key),
        ),
        bottleneck=bottleneck,
        department_options=department_options,
        type_options=type_options,
        route_options=route_options,
    )


def _department_options(org_id: int) -> list[Option]:
    """The departments: names, the filter's subtree, the filter list."""
    return [
        Option(pk, {"ru": name, "en": name_en or name}, parent_id, head_id)
        for pk, name, name_en, parent_id, head_id in Department.objects.for_org(org_id)
        .order_by("name", "pk")
        .values_list("pk", "name", "name_en", "parent_id", "head_id")
    ]


def _route_and_type_options(org_id: int) -> tuple[list[Option], list[Option]]:
    """The routes and their document types, for names and the filter lists."""
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
    return route_options, sorted(types.values(), key=lambda t: t.name.lower())


def _count_tasks(
    groups: _Groups, tasks: QuerySet[Task], period: _Period, now: datetime
) -> None:
    """Decided tasks of this and the previous period, and open tasks now, counted per
    finest group (``part``: 2 open now, 1 decided in the period, 0 before)."""
    decided = Q(
        state=TaskState.DONE,
        decided_at__gte=period.previous_start,
        decided_at__lt=period.end,
    )
    is_open = Q(state=TaskState.OPEN)
    rows = (
        tasks.filter(decided | is_open)
        .annotate(
            part=Case(
                When(is_open, then=Value(OPEN_PART)),
                When(decided_at__gte=period.start, then=Value(CURRENT_PART)),
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
    for row in rows:
        if row["part"] == OPEN_PART:
            for figures in groups.of(row):
                figures.add_open(row)
        elif row["part"] == CURRENT_PART:
            for figures in groups.of(row):
                figures.add_counts(row)
        else:
            groups.previous.add_counts(row)


def _times_to_decide(groups: _Groups, tasks: QuerySet[Task], period: _Period) -> None:
    """The period's times to decide: the percentiles of every group."""
    rows = (
        tasks.filter(
            state=TaskState.DONE,
            decided_at__gte=period.start,
            decided_at__lt=period.end,
        )
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
    by_person: dict[int, list[float]] = defaultdict(list)
    by_department: dict[int | None, list[float]] = defaultdict(list)
    by_route: dict[int, list[float]] = defaultdict(list)
    by_stage: dict[tuple[int, str], list[float]] = defaultdict(list)
    everything: list[float] = []
    for uid, did, rid, skey, opened, decided_at in rows:
        seconds = _seconds(opened, decided_at)
        by_person[uid].append(seconds)
        by_department[did].append(seconds)
        by_route[rid].append(seconds)
        by_stage[(rid, skey)].append(seconds)
        everything.append(seconds)
    groups.totals.set_durations(everything)
    for uid, person_row in groups.people.items():
        person_row.figures.set_durations(by_person[uid])
    for dept_key, department_row in groups.departments.items():
        department_row.figures.set_durations(by_department[dept_key])
    for rid, route_row in groups.routes.items():
        route_row.figures.set_durations(by_route[rid])
    for pair, stage_row in groups.stages.items():
        stage_row.figures.set_durations(by_stage[pair])


def _cycle_times(
    groups: _Groups, org_id: int, processes: Q, period: _Period
) -> tuple[CycleStats, CycleStats]:
    """Cycle times of the processes finished in both periods: this period's per
    route, and the whole of this and of the previous period."""
    rows = (
        Process.objects.for_org(org_id)
        .filter(
            processes,
            status__in=FINISHED_STATUSES,
            finished_at__gte=period.previous_start,
            finished_at__lt=period.end,
        )
        .order_by("-finished_at")
        .values_list("route_version__template_id", "started_at", "finished_at")[
            :MAX_DURATIONS
        ]
    )
    current: list[float] = []
    previous: list[float] = []
    by_route: dict[int, list[float]] = defaultdict(list)
    for rid, started, finished in rows:
        if finished is None:
            continue
        seconds = _seconds(started, finished)
        if finished >= period.start:
            current.append(seconds)
            by_route[rid].append(seconds)
        else:
            previous.append(seconds)
    for rid, seconds_list in by_route.items():
        groups.route(rid).cycle = CycleStats.of(seconds_list)
    return CycleStats.of(current), CycleStats.of(previous)


def _waiting_times(
    groups: _Groups, org_id: int, stage_runs: Q, period: _Period
) -> StageRow | None:
    """Waiting time per stage (summed in SQL), its share, and the bottlenecks of
    each route; returns the bottleneck of all."""
    rows = (
        StageRun.objects.for_org(org_id)
        .filter(
            stage_runs,
            opened_at__isnull=False,
            finished_at__gte=period.start,
            finished_at__lt=period.end,
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
    for row in rows:
        waited = groups.stage(
            row["process__route_version__template_id"], row["stage_key"]
        )
        waited.wait_seconds = row["total"].total_seconds()
        waited.runs = row["runs"]
    stages = groups.stages.values()
    total_wait = sum(s.wait_seconds for s in stages)
    if total_wait > 0:
        for stage in stages:
            stage.share = stage.wait_seconds / total_wait
    for route in groups.routes.values():
        route.bottleneck = _largest_wait(
            s for s in stages if s.route_id == route.route_id
        )
    return _largest_wait(stages)


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
