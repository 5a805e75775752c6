"""``sogla search_reindex``: rebuild the full-text index of every document (or of
one organisation), extracting the text of file versions not extracted yet.

The worker keeps the index up to date by itself; run this after restoring a
database dump without its index, or to index at once instead of in the background.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sogla.documents.services import search_rebuild


class Command(BaseCommand):
    help = "Rebuild the full-text search index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        done = search_rebuild(organisation_id=options["organisation"])
        self.stdout.write(
            f"{done} documents indexed in {time.perf_counter() - began:.1f} s"
        )
