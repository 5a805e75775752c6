"""T39 (reduced): ``sogla worker`` is killed with SIGKILL at random moments.

The worker runs as a real subprocess against the test database (PostgreSQL, or on
SQLite a migrated file database), delivering to a real SMTP server on loopback
(aiosmtpd). Three organisations have processes whose deadlines and escalations are
due and whose notifications wait in the outbox. The worker is killed at random
moments from outside, and also kills itself right after the SMTP server accepted a
message and before the row is marked sent (the crash window, forced with the
``SOGLA_FAULT_KILL_AFTER_SEND`` hook). After the kills a clean worker drains the
backlog. Then: no timer lost or fired twice, every notification sent exactly once
except duplicates inside the window (at most one per kill).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.notifications.models import Notification, NotificationState
from sogla.workflow.models import Task, TaskState, Timer, TimerState
from tests.conftest import make_tenant
from tests.factories import UserFactory
from tests.notifications.conftest import Smtp
from tests.workflow.conftest import approve, make_document, publish, route, stage, start
from tests.workflow.test_races import on_race_database

# A stress test (kill -9 chaos): `make test-fast` and `-m "not slow"` leave it out.
pytestmark = pytest.mark.slow

TENANTS = 3
PROCESSES = 12  # per organisation
KILLS = 6
DRAIN_SECONDS = 90
SEED = int(os.environ.get("SOGLA_CHAOS_SEED", "20261124"))


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sogla.cli", "worker", "--poll", "0.1", "--batch", "5"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def backlog() -> tuple[int, int]:
    due = Timer.objects.filter(
        state=TimerState.PENDING, due_at__lte=timezone.now()
    ).count()
    waiting = Notification.objects.filter(
        state__in=[NotificationState.PENDING, "in_progress"]
    ).count()
    return due, waiting


@pytest.mark.django_db(transaction=True)
def test_t39_sigkill_loses_nothing_and_sends_once(tmp_path: Path) -> None:
    on_race_database(lambda: chaos(tmp_path), tmp_path)


def chaos(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    tasks = prepare()
    smtp = Smtp()
    smtp.start()
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sogla.settings.base",
            "SOGLA_DATABASE_URL": database_url(),
            "SOGLA_DATA_DIR": str(tmp_path / "data"),
            "SOGLA_SECRET_KEY": "chaos-test-only",
            "SOGLA_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "SOGLA_EMAIL_HOST": "127.0.0.1",
            "SOGLA_EMAIL_PORT": str(smtp.port),
            "SOGLA_NOTIFICATION_LEASE_SECONDS": "2",
        }
        log = tmp_path / "worker.log"
        external = in_window = 0
        for _ in range(KILLS):
            child = worker({**env, "SOGLA_FAULT_KILL_AFTER_SEND": "0.05"}, log)
            time.sleep(rng.uniform(0.2, 1.5))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                external += 1
            elif child.returncode == -signal.SIGKILL:
                in_window += 1
            child.wait(timeout=10)

        began = time.monotonic()
        child = worker(env, log)
        try:
            while backlog() != (0, 0) and time.monotonic() - began < DRAIN_SECONDS:
                time.sleep(0.3)
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=20)
        drain = time.monotonic() - began
    finally:
        smtp.stop()

    kills = external + in_window
    received = smtp.sink.ids()
    copies = Counter(received)
    duplicates = sum(n - 1 for n in copies.values())
    rows = Notification.objects.exclude(recipient_user__isnull=True, recipient_email="")
    states = Counter(rows.values_list("state", flat=True))
    sent_ids = {row.pk for row in rows.filter(state=NotificationState.SENT)}
    overdue = Counter(
        AuditEvent.objects.filter(verb="task.overdue").values_list(
            "target_id", flat=True
        )
    )
    print(
        f"\nT39 ({connection.vendor}): kills {kills} (outside the window {external}, "
        f"inside {in_window}), notifications {sum(states.values())} {dict(states)}, "
        f"mails received {len(received)}, duplicates {duplicates}, timers lost "
        f"{backlog()[0]}, overdue tasks {len(overdue)}/{len(tasks)}, drain {drain:.1f} s"
    )
    assert backlog() == (0, 0), (log.read_text()[-3000:], backlog())
    assert set(states) <= {NotificationState.SENT, NotificationState.CANCELLED}
    assert len(copies) == len(sent_ids)  # every sent row arrived
    assert duplicates <= kills
    assert max(overdue.values()) == 1
    assert set(overdue) == {str(pk) for pk in tasks}


def prepare() -> list[int]:
    """Processes in three organisations whose deadlines passed an hour ago."""
    for index in range(TENANTS):
        tenant = make_tenant(f"Chaos{index}")
        boss = UserFactory(organisation=tenant.org, username=f"chaos{index}-boss")
        lawyer = UserFactory(
            organisation=tenant.org, username=f"chaos{index}-lawyer", manager=boss
        )
        template = publish(
            tenant,
            route(
                stage(
                    "legal", approve("l", {"user": lawyer.username}, due={"hours": 2})
                ),
                escalate_after={"hours": 1},
            ),
        )
        for _ in range(PROCESSES):
            start(tenant, template, make_document(tenant))
    # The clock moved on: every deadline passed an hour ago (escalations follow).
    past = timezone.now() - timedelta(hours=1)
    Timer.objects.filter(kind="due").update(due_at=past)
    Timer.objects.filter(kind="reminder").update(due_at=past - timedelta(minutes=30))
    return list(Task.objects.filter(state=TaskState.OPEN).values_list("pk", flat=True))
