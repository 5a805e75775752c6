"""The indexes a decision writes: what a decision does not write, the reads still find.

Migration ``workflow/0012`` (with ``core/0004`` and ``notifications/0003``) dropped
single-column foreign-key indexes that a composite index starting with the same
column made redundant, and made the indexes of values a new row does not have yet
(who decided, when, a digest) partial. These tests check that each read that needs
one of them still searches an index: the one named on SQLite, whose plans follow
the indexes; some index on PostgreSQL, with sequential scans priced out (it plans
tables this small as scans, and picks among indexes by its statistics).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification
from sogla.workflow.models import Process, StageRun, StepRun, Task
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

MONTH = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


ORG = "the tenant's organisation"  # replaced by its id in a read's lookups


def _in_month(column: str) -> dict[str, Any]:
    return {
        "organisation_id": ORG,
        f"{column}__gte": MONTH[0],
        f"{column}__lt": MONTH[1],
    }


# a read: its model, its lookups, the names its index may have ("|")
READS: dict[str, tuple[type[Model], dict[str, Any], str]] = {
    # the KPI and cycle-time reports: ranges, which imply NOT NULL
    "tasks decided in a period": (Task, _in_month("decided_at"), "task_decided_at"),
    "approvals finished in a period": (
        Process,
        _in_month("finished_at"),
        "process_finished_at",
    ),
    "stages finished in a period": (
        StageRun,
        _in_month("finished_at"),
        "stage_run_finished_at",
    ),
    # what removing a person or a notification asks (PROTECT, SET_NULL)
    "tasks a person decided": (Task, {"decided_by_id__in": [1, 2]}, "task_decided_by"),
    "notifications in a digest": (
        Notification,
        {"digest_id__in": [1, 2]},
        "notification_digest",
    ),
    "resends of a notification": (
        Notification,
        {"resent_from_id": 1},
        "notification_resent_from",
    ),
    # a process's runs, by the unique indexes that start with the process (SQLite
    # names a unique constraint's index sqlite_autoindex_<table>_N)
    "a process's tasks": (
        Task,
        {"process_id": 1},
        "sqlite_autoindex_workflow_task|task_engine_id_unique|workflow_ta_process",
    ),
    "a process's stages": (
        StageRun,
        {"process_id": 1},
        "sqlite_autoindex_workflow_stagerun|stage_run_unique",
    ),
    "a process's steps": (
        StepRun,
        {"process_id": 1},
        "sqlite_autoindex_workflow_steprun|step_run_unique",
    ),
    "a person's tasks": (Task, {"assignee_id": 1}, "workflow_ta_assigne"),
    "an organisation's audit events": (
        AuditEvent,
        {"organisation_id": ORG},
        "sqlite_autoindex_core_auditevent|audit_event_chain_seq_unique",
    ),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_each_read_still_searches_an_index(tenant_a: Tenant, read: str) -> None:
    model, lookups, index = READS[read]
    org = tenant_a.org.pk
    rows = model._default_manager.filter(
        **{key: org if value is ORG else value for key, value in lookups.items()}
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # for this test's transaction only
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = rows.explain()
    assert "Seq Scan" not in plan, plan
    assert "SCAN" not in plan.replace("COVERING INDEX", ""), plan  # SQLite's
    if connection.vendor == "sqlite":  # PostgreSQL picks among indexes by statistics
        assert any(name in plan for name in index.split("|")), plan
    else:
        assert "Index" in plan, plan
