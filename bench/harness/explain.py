"""EXPLAIN every statement a page ran, and flag full scans of big tables.

SQLite: ``EXPLAIN QUERY PLAN`` (a ``SCAN`` of a table is a full scan, also ``USING
INDEX``: it walks the whole index unless a LIMIT stops it early; ``USE TEMP B-TREE``
is a sort). PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)`` (a ``Seq Scan`` is a full scan;
the plan's own execution time is printed). A table is big from ``BIG_ROWS`` rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

BIG_ROWS = 10_000
_SQLITE_SCAN = re.compile(r"^SCAN (\w+)(?: AS (\w+))?")
_SQLITE_SEARCH = re.compile(r"^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \(([^)]*)\)")
_PG_SCAN = re.compile(r"(?:Parallel )?Seq Scan on (\w+)")
_PG_TIME = re.compile(r"Execution Time: ([\d.]+) ms")


@dataclass
class Plan:
    sql: str
    seconds: float  # as the page ran it
    lines: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)  # big tables read in full
    sorts: int = 0
    explained_ms: float | None = None  # PostgreSQL's EXPLAIN ANALYZE time


def table_rows() -> dict[str, int]:
    """Row count of every table (exact; the benchmark's tables are not huge)."""
    from django.db import connection

    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608 - catalogue names
            counts[table] = int(cursor.fetchone()[0])
    return counts


def explain(captured: list[dict[str, Any]], rows: dict[str, int]) -> list[Plan]:
    from django.db import connection

    plans = []
    for query in captured:
        sql = query["sql"]
        plan = Plan(sql=sql, seconds=float(query.get("seconds", query["time"])))
        plans.append(plan)
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            plan.lines = ["(not a SELECT: not explained)"]
            continue
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan.lines = [row[0] for row in cursor.fetchall()]
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan.lines = _sqlite_tree(cursor.fetchall())
        _flag(plan, rows, connection.vendor)
    return plans


def _sqlite_tree(rows: list[tuple[Any, ...]]) -> list[str]:
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return lines


def _flag(plan: Plan, rows: dict[str, int], vendor: str) -> None:
    for line in plan.lines:
        text = line.strip().lstrip("->").strip()
        if vendor == "postgresql":
            match = _PG_SCAN.search(text)
            timing = _PG_TIME.search(text)
            if timing:
                plan.explained_ms = float(timing.group(1))
            if text.startswith(("Sort ", "Incremental Sort")):
                plan.sorts += 1
        else:
            match = _SQLITE_SCAN.match(text)
            if "TEMP B-TREE" in text:
                plan.sorts += 1
            _sqlite_loops(plan, text, rows)
        if match and rows.get(match.group(1), 0) >= BIG_ROWS:
            plan.scans.append(f"{match.group(1)} ({rows[match.group(1)]:,} rows)")


def _sqlite_loops(plan: Plan, text: str, rows: dict[str, int]) -> None:
    """SQLite's plan has no row counts; two shapes read a big table whole anyway: a
    search by the organisation alone (every row of the tenant, unless a LIMIT stops
    the walk early), and a search driven by a full scan of another table."""
    search = _SQLITE_SEARCH.match(text)
    if search is None or rows.get(search.group(1), 0) < BIG_ROWS:
        return
    table, terms = search.group(1), search.group(2)
    size = f"{table} ({rows[table]:,} rows)"
    if terms.replace(" ", "") == "organisation_id=?":
        plan.scans.append(f"{size}: the whole organisation, unless a LIMIT stops early")
    elif any(line.lstrip(" |`-").startswith("SCAN ") for line in plan.lines[:1]):
        plan.scans.append(f"{size}: once per row of a full scan before it")


def print_plans(label: str, plans: list[Plan]) -> None:
    scans = sum(bool(p.scans) for p in plans)
    print(f"\n  EXPLAIN {label}: {len(plans)} statements, {scans} scan a big table")
    for number, plan in enumerate(plans, 1):
        sql = " ".join(plan.sql.split())
        shown = sql if len(sql) <= 300 else sql[:240] + " … " + sql[-50:]
        took = f"{plan.seconds * 1000:.2f} ms"
        if plan.explained_ms is not None:
            took += f" (EXPLAIN ANALYZE {plan.explained_ms:.2f} ms)"
        print(f"   {number:2}. {took}  {shown}")
        for line in plan.lines:
            print(f"         {line}")
        for scan in plan.scans:
            print(f"       !! reads a big table whole: {scan}")
