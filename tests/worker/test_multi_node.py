"""Two web processes and two workers against one PostgreSQL (docs/deployment.md's
multi-node layout on loopback): decisions through either web server land once
(the same task decided on both at once: one wins, the other hears 409), and the two
workers deliver every notification exactly once. Bounded: every process is stopped
at the end, and every wait has a deadline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from sogla.notifications.models import Notification, NotificationState
from sogla.orgs.tokens import api_token_create
from sogla.workflow.models import Process, Task, TaskState
from tests.conftest import make_tenant
from tests.factories import UserFactory
from tests.notifications.conftest import Smtp
from tests.worker.test_kill_chaos import database_url
from tests.worker.test_serve import answers, free_port
from tests.workflow.conftest import approve, make_document, publish, route, stage, start

pytestmark = pytest.mark.slow

PROCESSES = 8
START_SECONDS = 120
DRAIN_SECONDS = 90


def launch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sogla.cli", *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)


def decide(port: int, token: str, task_id: int, request_id: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/tasks/{task_id}/decision",
        data=json.dumps({"outcome": "approve", "request_id": request_id}).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def waiting() -> int:
    return Notification.objects.filter(
        state__in=[NotificationState.PENDING, NotificationState.IN_PROGRESS]
    ).count()


@pytest.fixture
def smtp_sink() -> Iterator[Smtp]:
    sink = Smtp()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_and_two_workers_on_postgresql(
    tmp_path: Path, smtp_sink: Smtp
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("several web processes and workers share PostgreSQL (not SQLite)")
    tenant = make_tenant("Nodes")
    lawyer = UserFactory(organisation=tenant.org, username="nodes-lawyer")
    template = publish(
        tenant, route(stage("legal", approve("l", {"user": lawyer.username})))
    )
    for _ in range(PROCESSES):
        start(tenant, template, make_document(tenant))
    tasks = list(
        Task.objects.filter(assignee=lawyer, state=TaskState.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(tasks) == PROCESSES
    _token, raw = api_token_create(actor=lawyer, name="nodes")

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sogla.settings.base",
        "SOGLA_DATABASE_URL": database_url(),
        "SOGLA_DATA_DIR": str(tmp_path / "data"),
        "SOGLA_SECRET_KEY": "nodes-test-only",
        "SOGLA_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "SOGLA_EMAIL_HOST": "127.0.0.1",
        "SOGLA_EMAIL_PORT": str(smtp_sink.port),
    }
    ports = [free_port(), free_port()]
    children: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        for index, port in enumerate(ports):
            children.append(
                launch(
                    ["serve", "--no-worker", "--workers", "1", "--port", str(port)],
                    env,
                    logs / f"web{index}.log",
                )
            )
        for index in range(2):
            children.append(
                launch(
                    ["worker", "--poll", "0.2", "--batch", "3"],
                    env,
                    logs / f"worker{index}.log",
                )
            )
        deadline = time.monotonic() + START_SECONDS
        while not all(answers(port) for port in ports):
            dead = [c for c in children if c.poll() is not None]
            assert not dead, [p.read_text()[-2000:] for p in logs.iterdir()]
            assert time.monotonic() < deadline, "the web processes did not start"
            time.sleep(0.5)

        # The first task decided on both servers at the same moment.
        first, rest = tasks[0], tasks[1:]
        answers_at_once: list[int] = []
        threads = [
            threading.Thread(
                target=lambda p=port, i=index: answers_at_once.append(
                    decide(p, raw, first, f"race-{i}")
                )
            )
            for index, port in enumerate(ports)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert sorted(answers_at_once) == [200, 409]
        # The others alternately on one server and the other.
        by_port: Counter[int] = Counter()
        for index, task_id in enumerate(rest):
            port = ports[index % 2]
            assert decide(port, raw, task_id, f"r-{task_id}") == 200
            by_port[port] += 1
        assert set(by_port) == set(ports)

        began = time.monotonic()
        while waiting() and time.monotonic() - began < DRAIN_SECONDS:
            time.sleep(0.3)
    finally:
        stop(children)

    assert not Task.objects.filter(pk__in=tasks).exclude(state=TaskState.DONE).exists()
    assert (
        not Process.objects.filter(document__organisation=tenant.org)
        .exclude(finished_at__isnull=False)
        .exists()
    )
    rows = Notification.objects.exclude(recipient_user__isnull=True, recipient_email="")
    states = Counter(rows.values_list("state", flat=True))
    assert waiting() == 0, states
    sent = rows.filter(state=NotificationState.SENT).count()
    received = Counter(smtp_sink.sink.ids())
    assert sent > PROCESSES  # the lawyer's new tasks and the initiator's results
    assert len(received) == sent  # every sent row arrived ...
    assert max(received.values()) == 1  # ... once
