"""A world of tasks and processes with known times, for hand-checked report figures.

The period is April 2025 in the organisation's zone (Europe/Moscow, UTC+3); the
previous period of equal length is 2 March - 31 March 2025. ``NOW`` is 1 May 12:00 UTC.

April, decided (25 tasks):
- colleague (Sales), stage ``manager``: 20 tasks taking 1..20 hours, each due 10 hours
  after it opened -> 10 on time (1..10 h), 10 late (11..20 h).
- lawyer (Legal), stage ``legal``: 1 d (due 3 d), 2 d (due 3 d), 4 d (due 3 d: late),
  6 d (no deadline).
- clerk (Contracts, under Sales), stage ``legal``: 5 h, no deadline.
  Totals: on time 14 (of which 2 without a deadline), late 11 -> 56 %.
March, decided: head (Sales), 20 tasks, 15 on time and 5 late -> 75 %.
Open now: colleague 2 (one overdue), lawyer 1 without a deadline.
Processes finished in April: 2 d, 4 d, 10 d (approved/rejected); one cancelled (left
out); in March: 6 d. Stage runs finished in April: manager 1 d + 1 d, legal 3 d + 3 d.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from sogla.documents.models import Document
from sogla.documents.services import document_create
from sogla.orgs.models import Department, User
from sogla.reports.figures import ReportFilters
from sogla.workflow import services as workflow_services
from sogla.workflow.models import Process, RouteTemplate, StageRun, Task
from tests.conftest import Tenant
from tests.factories import DepartmentFactory, UserFactory

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
APRIL = ReportFilters(date(2025, 4, 1), date(2025, 4, 30))
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

ROUTE = {
    "key": "contract-full",
    "name": {"ru": "Договор", "en": "Contract"},
    "stages": [
        {
            "key": "manager",
            "name": {"ru": "Руководитель", "en": "Manager"},
            "steps": [
                {
                    "key": "m",
                    "kind": "approve",
                    "assignee": {"department_head": "initiator"},
                },
            ],
        },
        {
            "key": "legal",
            "name": {"ru": "Юрист", "en": "Lawyer"},
            "steps": [
                {
                    "key": "l",
                    "kind": "approve",
                    "assignee": {"department_head": "initiator"},
                },
            ],
        },
    ],
}


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[arg-type,misc]  # *args are the date parts


@dataclass
class World:
    t: Tenant
    route: RouteTemplate
    sales: Department
    legal: Department
    contracts: Department
    head: User
    lawyer: User
    clerk: User
    seq: Any

    def document(self) -> Document:
        return document_create(
            actor=self.t.initiator,
            doc_type=self.t.contract,
            values={"subject": "s", "amount": "1"},
        )

    def process(
        self,
        started: datetime,
        finished: datetime | None = None,
        status: str = "approved",
        document: Document | None = None,
    ) -> Process:
        return Process.objects.create(
            organisation=self.t.org,
            document=document or self.document(),
            route_version=self.route.versions.get(status="published"),
            status=status if finished or status != "approved" else "running",
            initiator=self.t.initiator,
            started_at=started,
            finished_at=finished,
        )

    def task(
        self,
        process: Process,
        who: User,
        stage: str,
        opened: datetime,
        decided: datetime | None = None,
        due: datetime | None = None,
        state: str | None = None,
        kind: str = "approve",
    ) -> Task:
        n = next(self.seq)
        return Task.objects.create(
            organisation=self.t.org,
            process=process,
            engine_id=f"t{n}",
            round=1,
            stage_key=stage,
            step_key=stage[0],
            kind=kind,
            assignee=who,
            state=state or ("done" if decided else "open"),
            outcome="approve" if decided else "",
            due_at=due,
            decided_at=decided,
            decided_by=who if decided else None,
            created_at=opened,
        )

    def stage_run(
        self, process: Process, key: str, opened: datetime, finished: datetime
    ) -> StageRun:
        return StageRun.objects.create(
            organisation=self.t.org,
            process=process,
            round=next(self.seq),
            stage_key=key,
            index=0 if key == "manager" else 1,
            state="done",
            opened_at=opened,
            finished_at=finished,
        )


def make_route(t: Tenant) -> RouteTemplate:
    template = workflow_services.route_template_create(
        actor=t.admin,
        doc_type=t.contract,
        key="contract-full",
        name_ru="Договор, полное",
        name_en="Contract, full",
    )
    draft = workflow_services.route_version_save_draft(
        actor=t.admin, template=template, definition=ROUTE
    )
    workflow_services.route_version_publish(actor=t.admin, version=draft)
    return template


def build_world(t: Tenant) -> World:
    sales = t.department
    head = sales.head
    assert head is not None
    legal = DepartmentFactory(organisation=t.org, name="Legal", code="legal")
    contracts = DepartmentFactory(
        organisation=t.org, name="Contracts", code="contracts", parent=sales
    )
    lawyer = UserFactory(
        organisation=t.org,
        department=legal,
        username=f"{t.org.slug}-lawyer",
        last_name="Petrov",
        first_name="Pavel",
    )
    clerk = UserFactory(
        organisation=t.org,
        department=contracts,
        username=f"{t.org.slug}-clerk",
        last_name="Sidorova",
        first_name="Anna",
    )
    w = World(t, make_route(t), sales, legal, contracts, head, lawyer, clerk, count(1))
    colleague = t.colleague

    # processes: April cycles 2 d, 4 d, 10 d; a cancelled one; March 6 d; a running one
    p1 = w.process(msk(2025, 4, 1, 10), msk(2025, 4, 3, 10))
    p2 = w.process(msk(2025, 4, 5, 10), msk(2025, 4, 9, 10), status="rejected")
    p3 = w.process(msk(2025, 4, 10, 10), msk(2025, 4, 20, 10))
    w.process(msk(2025, 4, 10, 10), msk(2025, 4, 11, 10), status="cancelled")
    w.process(msk(2025, 3, 10, 10), msk(2025, 3, 16, 10))
    running = w.process(msk(2025, 4, 25, 10), status="running")

    # April, colleague: 1..20 hours, due after 10 hours
    for k in range(1, 21):
        opened = msk(2025, 4, 10, 9)
        w.task(p3, colleague, "manager", opened, opened + k * HOUR, opened + 10 * HOUR)
    # April, lawyer
    for days, due_days in ((1, 3), (2, 3), (4, 3), (6, None)):
        opened = msk(2025, 4, 12, 9)
        due = opened + due_days * DAY if due_days else None
        w.task(p3, lawyer, "legal", opened, opened + days * DAY, due)
    # April, clerk
    w.task(p3, clerk, "legal", msk(2025, 4, 12, 9), msk(2025, 4, 12, 14))
    # March, head: 15 on time, 5 late
    for k in range(20):
        opened = msk(2025, 3, 20, 9)
        w.task(p1, head, "manager", opened, opened + HOUR, opened + (2 if k < 15 else 0.5) * HOUR)  # fmt: skip
    # not counted: closed by quorum, cancelled, a system step, decided in May
    w.task(p3, colleague, "manager", msk(2025, 4, 10, 9), msk(2025, 4, 10, 10), state="closed_by_quorum")  # fmt: skip
    w.task(p3, colleague, "manager", msk(2025, 4, 10, 9), msk(2025, 4, 10, 10), state="cancelled")  # fmt: skip
    w.task(p3, colleague, "manager", msk(2025, 4, 10, 9), msk(2025, 4, 10, 10), kind="system")  # fmt: skip
    w.task(p3, colleague, "manager", msk(2025, 4, 30, 9), msk(2025, 5, 1, 0, 0))
    # open now (NOW = 1 May 15:00 MSK)
    w.task(running, colleague, "manager", msk(2025, 4, 25, 10), due=msk(2025, 4, 28, 10))  # fmt: skip
    w.task(running, colleague, "manager", msk(2025, 4, 25, 10), due=msk(2025, 5, 5, 10))  # fmt: skip
    w.task(running, lawyer, "legal", msk(2025, 4, 25, 10))

    # stage runs finished in April: manager 1 d + 1 d, legal 3 d + 3 d; one in March
    w.stage_run(p1, "manager", msk(2025, 4, 1, 10), msk(2025, 4, 2, 10))
    w.stage_run(p2, "manager", msk(2025, 4, 5, 10), msk(2025, 4, 6, 10))
    w.stage_run(p1, "legal", msk(2025, 4, 2, 10), msk(2025, 4, 5, 10))
    w.stage_run(p2, "legal", msk(2025, 4, 6, 10), msk(2025, 4, 9, 10))
    w.stage_run(p1, "manager", msk(2025, 3, 1, 10), msk(2025, 3, 30, 10))
    return w


@pytest.fixture
def world(tenant_a: Tenant, tenant_b: Tenant) -> World:
    return build_world(tenant_a)
