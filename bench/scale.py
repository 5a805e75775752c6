"""How the pages a user opens most grow with the organisation (``make bench``).

Loads a realistic organisation (bench/harness/org.py: the demo's people, types and
routes, template processes run through the real services, then copied in bulk: several
document types, one of them confidential, counterparties with names and tax ids,
multi-round approvals) at 10,000 documents, measures, grows it to 100,000 documents
(1,000 users, about 3 decided tasks per document: 30,000 and 300,000 finished tasks;
5,000 open tasks, 50 of them the measured user's) and measures again.

Measured for a typical user (not an administrator; head of a department, 50 open
tasks), in-process through Django's test client (middleware, views, templates; no
HTTP): the statements of one request, then the server time p50/p95, the SQL time
(median) and the median CPU time of this process (steadier on a busy machine) of up to
``--requests`` requests (at most ``--seconds`` per page) of: the inbox's first page,
the card of a six-stage document in its second round, the registry's first page, and
registry searches by counterparty name and by number. Printed beside the targets of
issue 14 (≤ 25 statements; p95 ≤ 50 ms for inbox and card, ≤ 100 ms for searches;
each figure at the large size ≤ 1.3× the small one) and UI.md's budgets.

``--explain`` prints EXPLAIN (PostgreSQL: ANALYZE, BUFFERS; SQLite: QUERY PLAN) of every
statement of these pages at the largest size and flags full scans of tables over
10,000 rows; ``--statements`` each statement's median time at the smallest and the
largest size, the most grown first; ``--profile`` splits the inbox's and the card's
server time into SQL, ORM, template rendering and the rest, with cProfile's top
functions.

SQLite in a temporary directory, ``ANALYZE``d after loading. Sogla itself never runs
``ANALYZE`` on SQLite, and without planner statistics SQLite picks a plan for the
registry's visibility check that reads every task of the organisation for each
confidential document (minutes at 10,000 documents): ``--sqlite-as-deployed`` skips
the ``ANALYZE`` to show it, every statement capped at ``--cap`` seconds. PostgreSQL
(``SOGLA_BENCH_POSTGRES_URL``, loopback only) in a fresh database ``sogla_bench_scale``,
``ANALYZE``d after loading as autovacuum would, dropped at the end. ``--only``,
``--sizes``, ``--timeout`` (seconds per database).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from harness import run_databases  # bench/harness: the shared child runner

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "sogla_bench_scale"
STATEMENTS_TARGET = 25
P95_TARGET = {"inbox": 0.050, "card": 0.050}
SEARCH_TARGET = 0.100
RATIO_TARGET = 1.3
UI_P95 = 0.300  # UI.md §0: TTFB p95


def sizes(text: str) -> list[int]:
    values = sorted({int(part) for part in text.split(",") if part.strip()})
    if not values:
        raise argparse.ArgumentTypeError("give at least one size")
    return values


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", "--docs", type=sizes, default=[10_000, 100_000], dest="sizes"
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--open-tasks", type=int, default=5000)
    parser.add_argument("--mine", type=int, default=50)
    parser.add_argument("--tasks-per-document", type=float, default=3.0)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="each statement's median time at the smallest and the largest size",
    )
    parser.add_argument("--sqlite-as-deployed", action="store_true")
    parser.add_argument("--cap", type=float, default=30.0)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--child", choices=["sqlite", "postgresql"], default=None)
    return parser.parse_args(argv)


def child_command(argv: list[str], vendor: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *argv, "--child", vendor]


def parent(args: argparse.Namespace, argv: list[str]) -> int:
    return run_databases(
        lambda vendor: child_command(argv, vendor),
        only=args.only,
        timeout=args.timeout,
        prefix="sogla-bench-scale-",
        database=DATABASE,
    )


# --- the child: one database -----------------------------------------------------------


def setup_django() -> None:
    from harness.pages import shared_static_root

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sogla.settings.base")
    sys.path.insert(0, str(ROOT / "src"))
    shared_static_root()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def step(label: str) -> float:
    print(f"  ... {label}", flush=True)
    return time.perf_counter()


def analyze(vendor: str, as_deployed: bool) -> None:
    """Planner statistics on SQLite (PostgreSQL's were taken by the loader)."""
    from django.db import connection

    if vendor == "sqlite" and not as_deployed:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def searches(built: Any) -> tuple[str, str]:
    """A counterparty's name without its legal form, and a document's number, both
    of documents the measured user sees (chosen at the first size, kept after)."""
    from sogla.documents.access import visible_documents

    visible = visible_documents(built.measured).filter(counterparty__isnull=False)
    party = built.parties[min(len(built.parties) - 1, 30)]
    name = party[1].split("«", 1)[-1].rstrip("»")
    middle = visible.order_by("-created_at")[visible.count() // 2]
    return name, middle.number


def the_pages(built: Any, terms: tuple[str, str]) -> list[Any]:
    from harness import pages

    return [
        pages.inbox(),
        pages.card(built.card_id),
        pages.registry(),
        pages.registry(terms[0], "search: counterparty"),
        pages.registry(terms[1], "search: number"),
    ]


def measure_size(
    built: Any, terms: tuple[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    from harness import pages

    client = pages.client_for(built.measured)
    return {
        page.key: pages.measure(
            client, page, requests=args.requests, seconds=args.seconds, cap=args.cap
        )
        for page in the_pages(built, terms)
    }


def describe(built: Any) -> None:
    from sogla.documents.access import visible_documents
    from sogla.documents.models import Document
    from sogla.workflow.models import Task

    sizes = built.sizes()
    mine = sizes.pop("open tasks of the measured user")
    print("  holds          " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    user = built.measured
    decided = Task.objects.filter(decided_by=user).count()
    started = Document.objects.filter(initiator=user).count()
    seen = visible_documents(user).count()
    print(
        f"  measured user  {user.get_full_name()} (not an administrator): "
        f"{mine} open tasks, {decided:,} decided, "
        f"{started:,} documents started, sees {seen:,} of {sizes['documents']:,}"
    )


def print_size(results: dict[str, Any], label: str) -> None:
    from harness.pages import ms

    print(f"\n  at {label}")
    print(
        "  page                        statements  SQL p50   p50 ms   p95 ms  CPU ms"
        "     KB   (UI.md budget: statements, KB)"
    )
    for measured in results.values():
        page = measured.page
        print(
            f"  {page.label:<28}{measured.statements:>7}   {ms(measured.sql_seconds):>7}"
            f"  {ms(measured.p50):>7}  {ms(measured.p95):>7}  {ms(measured.cpu50):>6}"
            f"  {measured.size / 1024:5.1f}"
            f"   ({page.statements}, {page.kilobytes})"
            + ("   CAPPED: a statement ran over the cap" if measured.capped else "")
        )


def print_targets(
    small: dict[str, Any], large: dict[str, Any], sizes: list[int]
) -> None:
    from harness.pages import ms, verdict

    print(
        f"\n  targets ({sizes[-1]:,} documents; ratio = {sizes[-1]:,} / {sizes[0]:,})"
    )
    for key, big in large.items():
        little = small[key]
        label = big.page.label
        statements = verdict(big.statements, STATEMENTS_TARGET)
        print(
            f"  {label:<28}statements {little.statements} -> {big.statements} "
            f"(<= {STATEMENTS_TARGET}: {statements})"
        )
        target = P95_TARGET.get(key, SEARCH_TARGET if "search" in key else UI_P95)
        source = "UI.md TTFB" if target == UI_P95 else "target"
        print(
            f"  {'':<28}p95 {ms(little.p95)} -> {ms(big.p95)} ms ({source} <= "
            f"{ms(target)} ms: {verdict(big.p95, target)})"
        )
        for what, a, b in (
            ("p95", little.p95, big.p95),
            ("p50", little.p50, big.p50),
            ("SQL", little.sql_seconds, big.sql_seconds),
            ("CPU", little.cpu50, big.cpu50),
        ):
            ratio = b / a if a else float("inf")
            print(
                f"  {'':<28}ratio {what} {ratio:5.2f} (<= {RATIO_TARGET}: "
                f"{verdict(ratio, RATIO_TARGET)})"
            )


def print_statements(small: dict[str, Any], large: dict[str, Any]) -> None:
    """Each page's statements, their median time at both sizes and the ratio,
    the one that grew most first (``--statements``): which statement a page's SQL
    ratio comes from."""
    for key, big in large.items():
        before, after = small[key].statement_medians(), big.statement_medians()
        if len(before) != len(after):
            print(f"\n  {big.page.label}: the statements differ between the sizes")
            continue
        print(f"\n  {big.page.label}: statements, median ms, the most grown first")
        rows = sorted(
            zip(before, after, big.captured, strict=False),
            key=lambda row: row[1] - row[0],
            reverse=True,
        )
        for was, now, query in rows:
            text = " ".join(query["sql"].split())[:90]
            ratio = now / was if was else float("inf")
            print(f"    {was * 1000:7.3f} -> {now * 1000:7.3f}  x{ratio:5.2f}  {text}")


def explain_pages(results: dict[str, Any]) -> None:
    from harness import explain

    rows = explain.table_rows()
    for measured in results.values():
        plans = explain.explain(measured.captured, rows)
        explain.print_plans(measured.page.label, plans)


def profile_pages(built: Any, terms: tuple[str, str], requests: int) -> None:
    from harness import breakdown, pages

    client = pages.client_for(built.measured)
    for page in the_pages(built, terms)[:2]:
        print(f"\n  profile: {page.label} ({page.path})")
        for line in breakdown.profile(lambda p=page: pages.fetch(client, p), requests):
            print(f"    {line}")


def child(args: argparse.Namespace) -> int:
    setup_django()
    from django.db import connection
    from harness import index as fts_index
    from harness import org, pages

    pages.collect_static()
    vendor = connection.vendor
    print(f"\n== Sogla scale benchmark: {vendor} ({connection.display_name}) ==")
    if vendor == "sqlite":
        print(
            "  statistics     "
            + (
                "none (as deployed: Sogla does not ANALYZE)"
                if args.sqlite_as_deployed
                else "ANALYZE after loading (Sogla does not run it: --sqlite-as-deployed)"
            )
        )
    sizes = args.sizes
    began = step(f"loading {sizes[0]:,} documents")
    built = org.build(
        documents=sizes[0],
        users=args.users,
        open_tasks=args.open_tasks,
        mine=args.mine,
        tasks_per_document=args.tasks_per_document,
        progress=lambda text: print(f"      {text}", flush=True),
    )
    indexed = fts_index.index_missing()
    analyze(vendor, args.sqlite_as_deployed)
    print(f"      loaded in {time.perf_counter() - began:.1f} s")
    print(f"      full-text index of {indexed[0]:,} documents in {indexed[1]:.1f} s")
    terms = searches(built)
    print(f"  searches       counterparty {terms[0]!r}, number {terms[1]!r}")
    results: dict[int, dict[str, Any]] = {}
    for index, size in enumerate(sizes):
        if index:
            began = step(f"growing to {size:,} documents (older, finished)")
            org.grow(
                built,
                size,
                finished_tasks=round(args.tasks_per_document * size),
            )
            indexed = fts_index.index_missing()
            analyze(vendor, args.sqlite_as_deployed)
            print(f"      grown in {time.perf_counter() - began:.1f} s")
            print(
                f"      full-text index of {indexed[0]:,} documents "
                f"in {indexed[1]:.1f} s"
            )
        describe(built)
        began = step(f"measuring at {size:,} documents")
        results[size] = measure_size(built, terms, args)
        print_size(results[size], f"{size:,} documents")
    if len(sizes) > 1:
        print_targets(results[sizes[0]], results[sizes[-1]], sizes)
        if args.statements:
            print_statements(results[sizes[0]], results[sizes[-1]])
    if args.explain:
        explain_pages(results[sizes[-1]])
    if args.profile:
        profile_pages(built, terms, min(args.requests, 20))
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    return parent(args, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
