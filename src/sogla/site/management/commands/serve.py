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
                "--threads", "4",
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

        def stop(signum: int, frame: object) -> None:
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
