"""``sogla serve``: the web server (gunicorn) and the background worker together.

Both run as child processes; Ctrl+C or SIGTERM stops both. For larger installations
run ``gunicorn sogla.wsgi`` and one or more ``sogla worker`` separately.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from sogla.demo.schema import DATA_DIR, read_bundles
from sogla.orgs.models import Organisation
from sogla.orgs.setup import setup_code_issue


class Command(BaseCommand):
    help = "Serve Sogla: the web server and the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        commands = [
            [
                sys.executable, "-m", "gunicorn", "sogla.wsgi",
                "--bind", bind,
                "--workers", str(options["workers"]),
                # One request at a time per worker process ("sync"), each
                # connection closed after its answer: a worker takes a connection
                # only when it is free, so requests queue fairly in the listening
                # socket and every worker is used. Pages are Python-bound (the
                # GIL), so threads bought no throughput; with a thread pool a
                # worker kept the connections it had accepted, one worker at 87 %
                # CPU beside another at 35 %, and requests waited behind others
                # in a busy worker (docs/benchmarks.md: at 16 connections the
                # inbox 103 -> 152 requests/s, p99/p50 2.0 -> 1.4). A proxy in
                # front keeps the browsers' connections alive and buffers slow
                # clients (docs/deployment.md).
                "--worker-class", "sync",
                # a long command (a calendar change rescheduling every open task)
                # must not be taken for a hung worker
                "--timeout", "300",
                "--access-logfile", "-",
                # gunicorn's control socket would live in ~/.gunicorn/, outside
                # the project; Sogla does not use it.
                "--no-control-socket",
            ],
        ]  # fmt: skip
        if not options["no_worker"]:
            commands.append([sys.executable, "-m", "sogla.cli", "worker"])
        children = [subprocess.Popen(command) for command in commands]  # noqa: S603
        self.stdout.write(
            self.style.SUCCESS(f"Sogla is at http://{bind}/ (Ctrl+C stops)")
        )
        self._setup_code(bind)

        def stop(_signum: int, _frame: object) -> None:
            # SIGTERM: gunicorn finishes the requests in flight, the worker its sweep.
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop(signal.SIGTERM, None)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _setup_code(self, bind: str) -> None:
        """No organisation of one's own yet (only the demo's, or none): print a
        one-time code for first-run setup, so whoever reaches the server first
        cannot take it."""
        try:
            demo_slugs = {b.organisation.slug for b in read_bundles(DATA_DIR)}
            if Organisation.objects.exclude(slug__in=demo_slugs).exists():
                return
            code = setup_code_issue()
        except DatabaseError:
            return  # not migrated yet; the server itself says so
        self.stdout.write(
            self.style.WARNING(
                f"First-run setup: open http://{bind}/accounts/setup/ and enter the "
                f"setup code {code} to create your organisation (valid 24 hours)."
            )
        )
