"""The background worker: fires due timers, delivers the outbox, sends digests,
builds file previews.

Everything the worker does is driven by rows in the database (design rules I2, I3):
timers and notifications are written in the same transaction as the decision that
caused them, and the worker only polls for rows that are due. It may be killed at any
moment: a timer fires in one transaction with its effects, and a notification is
claimed with a lease, so after a restart nothing is lost and nothing fires twice in
effect (a mail can be sent twice only when the kill falls between the SMTP server's
"accepted" and the row being marked sent).

Several workers may run against PostgreSQL at once: timers and notifications are
claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``. On SQLite run one.

Background tasks of the django-tasks database backend (``TASKS``) run in the same
loop between sweeps. With the Redis/RQ backend they run in ``rqworker`` instead, and
so do the slow sweeps, file previews and search indexing (``sogla.site.tasks``): the
loop enqueues one task of each kind whenever the previous one has finished, and any
number of ``rqworker`` processes run them.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType

from django.conf import settings
from django.db import close_old_connections
from django_tasks import TaskResult
from django_tasks.exceptions import TaskResultDoesNotExist

from sogla.core.audit_anchor import audit_housekeeping
from sogla.documents.services import previews_build_due, search_index_due
from sogla.evidence.services import evidence_sweep
from sogla.notifications.delivery import notifications_deliver_due
from sogla.notifications.digests import notifications_send_digests
from sogla.notifications.models import Notification
from sogla.workflow.services import delegations_sync_due, timers_fire_due

logger = logging.getLogger("sogla.worker")

DIGEST_EVERY = 60.0  # seconds between digest sweeps
DB_BACKEND = "django_tasks_db.DatabaseBackend"
RQ_BACKEND = "django_tasks_rq.RQBackend"


@dataclass
class Sweep:
    """What one pass of the loop did."""

    timers: int = 0
    sent: int = 0
    digests: int = 0
    tasks: int = 0
    evidence: int = 0
    previews: int = 0
    indexed: int = 0

    @property
    def busy(self) -> bool:
        return bool(
            self.timers
            or self.sent
            or self.digests
            or self.tasks
            or self.evidence
            or self.previews
            or self.indexed
        )


def crash_after_send_hook() -> Callable[[Notification], None] | None:
    """The fault-injection hook of the kill -9 chaos test (RELIABILITY.md T39).

    With ``SOGLA_FAULT_KILL_AFTER_SEND`` set to a probability, the worker kills
    itself with SIGKILL right after the SMTP server accepted a message and before
    the row is marked sent: the one window where a duplicate mail is possible.
    Never set it in production.
    """
    raw = os.environ.get("SOGLA_FAULT_KILL_AFTER_SEND", "")
    if not raw:
        return None
    chance = float(raw)

    def maybe_die(row: Notification) -> None:
        if random.random() < chance:  # noqa: S311 - fault injection, not security
            logger.warning("fault injection: SIGKILL after sending %s", row.pk)
            os.kill(os.getpid(), signal.SIGKILL)

    return maybe_die


class Worker:
    """The polling loop; ``sweep`` is one pass (tests call it directly)."""

    def __init__(
        self,
        *,
        poll: float = 2.0,
        batch: int = 100,
        after_send: Callable[[Notification], None] | None = None,
    ) -> None:
        self.poll = poll
        self.batch = batch
        self.after_send = after_send
        self.running = True
        self._last_digest = 0.0
        self._handed: dict[str, TaskResult[int]] = {}

    def stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("stopping after the current sweep (%s)", signal.strsignal(signum))
        self.running = False

    def sweep(self, now: datetime | None = None) -> Sweep:
        done = Sweep()
        done.timers = timers_fire_due(now=now, limit=self.batch)
        done.sent = notifications_deliver_due(
            now=now, limit=self.batch, after_send=self.after_send
        )
        if time.monotonic() - self._last_digest >= DIGEST_EVERY:
            done.digests = notifications_send_digests(now=now)
            # delegations start and end at midnight: tasks move with them
            delegations_sync_due(now)
            self._last_digest = time.monotonic()
        done.tasks = _run_queued_tasks(self.batch)
        # Sheets and stamped copies of processes that finished (after the timers,
        # which may finish some).
        done.evidence = evidence_sweep(limit=min(self.batch, 10))
        if _backend() == RQ_BACKEND:
            # Previews and indexing run in the RQ workers.
            done.tasks += self._hand_over()
        else:
            # Last and few at a time: a conversion takes seconds (at most the
            # preview time limit), and timers and mail must not wait behind them.
            done.previews = previews_build_due(now=now, limit=2)
            # file text extraction and search indexing, a few seconds per sweep
            done.indexed = search_index_due(limit=self.batch, seconds=3.0)
        audit_housekeeping(now)  # anchors the audit chains; the daily signed digest
        return done

    def _hand_over(self) -> int:
        """Enqueue each slow sweep whose previous task has finished (one of each
        kind in the queue at a time); how many were enqueued."""
        from sogla.site.tasks import SWEEPS

        queue = _queue_name()
        handed = 0
        for kind, sweep_task in SWEEPS.items():
            previous = self._handed.get(kind)
            if previous is not None:
                try:
                    previous.refresh()
                except TaskResultDoesNotExist:  # expired, or Redis restarted
                    logger.info("the %s task is gone from the queue", kind)
                else:
                    if not previous.is_finished:
                        continue
            self._handed[kind] = sweep_task.using(queue_name=queue).enqueue()
            handed += 1
        return handed

    def run(self, *, max_sweeps: int | None = None) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("worker started (poll %.1f s, batch %d)", self.poll, self.batch)
        failures = 0
        sweeps = 0
        while self.running and (max_sweeps is None or sweeps < max_sweeps):
            sweeps += 1
            close_old_connections()
            try:
                done = self.sweep()
            except Exception:
                # The database went away, or a bug: log it, back off, sweep again
                # (reconnecting). Dying would stop `sogla serve`'s web server too.
                failures += 1
                logger.exception("sweep failed (%d in a row)", failures)
                close_old_connections()
                _sleep_while(self, min(30.0, self.poll * 2**failures))
                continue
            failures = 0
            if done.busy:
                logger.info(
                    "fired %d timers, sent %d notifications, %d digests, %d tasks, "
                    "%d previews, %d indexed",
                    done.timers,
                    done.sent,
                    done.digests,
                    done.tasks,
                    done.previews,
                    done.indexed,
                )
            else:
                _sleep_while(self, self.poll)
        logger.info("worker stopped")


def _sleep_while(worker: Worker, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while worker.running and time.monotonic() < deadline:
        time.sleep(min(0.2, seconds))


def _backend() -> str:
    return str(settings.TASKS.get("default", {}).get("BACKEND", ""))


def _queue_name() -> str:
    queues = settings.TASKS.get("default", {}).get("QUEUES") or ["default"]
    return str(queues[0])


def _run_queued_tasks(limit: int) -> int:
    """Run due tasks of the django-tasks database backend, if it is the one in use."""
    if _backend() != DB_BACKEND:
        return 0
    from django_tasks_db.management.commands.db_worker import Worker as TaskWorker
    from django_tasks_db.models import DBTaskResult

    if not DBTaskResult.objects.ready().exists():
        return 0
    runner = TaskWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=limit,
        worker_id=f"sogla-{os.getpid()}",
        excluded_queue_names=[],
    )
    runner.run()
    return runner._run_tasks


__all__ = ["Sweep", "Worker", "crash_after_send_hook"]
