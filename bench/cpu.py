"""CPU per request, in-process (Django's test client): the inbox (50 open tasks),
the registry's first page (50 documents), the card of a 6-stage document and ``GET /api/v1/tasks``.

``python bench/cpu.py [--requests 200] [--documents 5000] [--profile PAGE]`` keeps
the loaded organisation in ``$SOGLA_DATA_DIR`` (reused when it exists), prints the
median and mean ``time.process_time`` per request, the statements and the body size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--profile", default="")
    parser.add_argument(
        "--page", default=""
    )  # only login, inbox, registry, card or api
    parser.add_argument("--save", default="")  # save the bodies into this folder
    args = parser.parse_args(argv)
    from harness.pages import shared_static_root

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sogla.settings.base")
    sys.path.insert(0, str(ROOT / "src"))
    shared_static_root()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from harness import org, pages

    from sogla.orgs.tokens import api_token_create

    state = Path(settings.DATA_DIR) / "cpu-bench.json"
    call_command("migrate", verbosity=0, interactive=False)
    pages.collect_static()
    from django.contrib.auth import get_user_model

    if state.exists():
        saved = json.loads(state.read_text())
    else:
        built = org.build(documents=args.documents, users=300, open_tasks=500, mine=50)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        _token, raw = api_token_create(actor=built.measured, name="cpu")
        saved = {"user": built.measured.pk, "card": built.card_id, "token": raw}
        state.write_text(json.dumps(saved))
    user = get_user_model().objects.get(pk=saved["user"])
    targets = [
        ("login", pages.login(), pages.client_for(None)),
        ("inbox", pages.inbox(), pages.client_for(user)),
        ("registry", pages.registry(), pages.client_for(user)),
        ("card", pages.card(saved["card"]), pages.client_for(user)),
        ("api", pages.api_tasks(), pages.client_for(None, saved["token"])),
    ]
    for key, page, client in targets:
        if (args.profile or args.page) and key not in (args.profile, args.page):
            continue
        response = pages.fetch(client, page)
        with CaptureQueriesContext(connection) as queries:
            response = pages.fetch(client, page)
        # counted now: the next request empties the log (Django's reset_queries)
        statements = len(queries)
        if args.save:
            Path(args.save, f"{key}.html").write_bytes(response.content)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                client.get(page.path)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
            continue
        cpu: list[float] = []
        for _ in range(args.requests):
            began = time.process_time()
            client.get(page.path)
            cpu.append(time.process_time() - began)
        print(
            f"{key:6} cpu median {statistics.median(cpu) * 1000:6.2f} ms"
            f"  mean {statistics.mean(cpu) * 1000:6.2f} ms"
            f"  statements {statements:3}  {len(response.content) / 1024:6.1f} KB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
