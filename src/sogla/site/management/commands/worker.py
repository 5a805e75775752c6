"""``sogla worker``: fire due timers and deliver notifications until stopped.

See :mod:`sogla.site.worker`. SIGTERM or Ctrl+C stops it after the current sweep; SIGKILL
at any moment loses nothing (the next worker picks the work up).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sogla.site.worker import Worker, crash_after_send_hook


class Command(BaseCommand):
    help = "Run the background worker: timers, notifications, digests, queued tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--poll", type=float, default=2.0, help="seconds between idle sweeps"
        )
        parser.add_argument(
            "--batch", type=int, default=100, help="timers and mails per sweep"
        )
        parser.add_argument(
            "--sweeps", type=int, default=None, help="stop after this many sweeps"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not logging.getLogger("sogla.worker").handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
            )
        worker = Worker(
            poll=options["poll"],
            batch=options["batch"],
            after_send=crash_after_send_hook(),
        )
        worker.run(max_sweeps=options["sweeps"])
