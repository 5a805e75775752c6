"""The pages the page benchmarks measure, with their budgets, and how one is measured
in-process (Django's test client on the real middleware, views and templates).

Pages are named by their paths (what a browser asks for), not by URL names, so the
benchmarks follow views that move between modules. Budgets: the UI specification's
§0 "Perf defaults" (≤ 12 statements, HTML ≤ 60 KB, TTFB p95 ≤ 300 ms) and each
screen's "Perf" line (inbox ≤ 8 statements and ≤ 40 KB, registry ≤ 10, card ≤ 20
and ≤ 60 KB).
"""

from __future__ import annotations

import hashlib
import logging
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str
    statements: int  # UI.md's budget
    kilobytes: int
    api: bool = False  # token authentication instead of the session


def inbox() -> Page:
    return Page("inbox", "inbox, first page", "/inbox/", 8, 40)


def registry(query: str = "", label: str = "registry, first page") -> Page:
    from urllib.parse import urlencode

    path = "/documents/" + (f"?{urlencode({'q': query})}" if query else "")
    return Page("registry" if not query else label, label, path, 10, 60)


def card(document_id: int) -> Page:
    return Page(
        "card", "card (6 stages, round 2)", f"/documents/{document_id}/", 20, 60
    )


def login() -> Page:
    return Page("login", "login page (trivial)", "/accounts/login/", 12, 60)


def api_tasks() -> Page:
    return Page("api", "API task list", "/api/v1/tasks", 12, 60, api=True)


@dataclass
class Measured:
    """One page measured in-process."""

    page: Page
    status: int
    size: int  # bytes of the body
    statements: int
    sql_seconds: float  # as the database cursor timed them
    captured: list[dict[str, Any]] = field(default_factory=list)
    capped: bool = False  # a statement ran over the cap and was interrupted
    times: list[float] = field(default_factory=list)
    # this process's CPU per request: steadier than the wall clock on a busy machine
    # (on SQLite it includes the database's work, on PostgreSQL not the server's)
    cpu: list[float] = field(default_factory=list)
    # each request's statements, each one's own time (``breakdown``'s ``each``)
    each: list[list[float]] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95)

    @property
    def cpu50(self) -> float:
        return statistics.median(self.cpu) if self.cpu else 0.0

    def statement_medians(self) -> list[float]:
        """Each statement's median time over the requests that ran as many
        statements as the first one (the n-th statement of a request is the same
        text in every request of a page)."""
        runs = [times for times in self.each if len(times) == self.statements]
        return [statistics.median(column) for column in zip(*runs, strict=True)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def shared_static_root() -> None:
    """Call before ``django.setup()``: collected static files are kept between runs
    (one directory per checkout under the system's temporary directory)."""
    key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"sogla-bench-static-{key}"
    os.environ["SOGLA_STATIC_ROOT"] = str(root)


def collect_static() -> None:
    """What ``make run`` does before serving (the pages name hashed static files),
    again only when a source file is newer than the last collection."""
    import fcntl

    from django.conf import settings
    from django.core.management import call_command

    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    manifest = root / "staticfiles.json"
    sources = (ROOT / "src" / "sogla").glob("*/static/**/*")
    newest = max((p.stat().st_mtime for p in sources if p.is_file()), default=0.0)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once collect once
        if not manifest.exists() or manifest.stat().st_mtime < newest:
            call_command("collectstatic", interactive=False, verbosity=0)


def client_for(user: Any = None, token: str = "") -> Any:
    """A test client signed in as ``user`` (a session), or sending the API ``token``."""
    from django.test import Client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = Client(HTTP_HOST=HOST, headers=headers)
    if user is not None:
        client.force_login(user)
    return client


_capped: dict[int, float] = {}  # PostgreSQL connections with their timeout set


class Capped(Exception):
    """A statement ran longer than the cap and was interrupted."""


@contextmanager
def statement_cap(seconds: float) -> Iterator[None]:
    """Interrupt a statement running over ``seconds`` (a benchmark stays bounded even
    when a plan goes wrong): SQLite's ``interrupt()`` from a timer, PostgreSQL's
    ``statement_timeout``."""
    from django.db import OperationalError, connection

    connection.ensure_connection()
    raw = connection.connection
    # the test client raises a view's exception anyway: no logged traceback as well
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    timer = None
    if connection.vendor == "sqlite":
        timer = threading.Timer(seconds, raw.interrupt)
        timer.start()
    elif _capped.get(id(raw)) != seconds:  # once per connection: not a page's statement
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")
        _capped[id(raw)] = seconds
    try:
        yield
    except OperationalError as error:
        if "interrupt" in str(error) or "statement timeout" in str(error):
            raise Capped(str(error)) from error
        raise
    finally:
        if timer is not None:
            timer.cancel()


def fetch(client: Any, page: Page, cap: float = 60.0) -> Any:
    with statement_cap(cap):
        response = client.get(page.path)
    if response.status_code != 200:
        raise RuntimeError(f"{page.path}: HTTP {response.status_code}")
    return response


def measure(
    client: Any,
    page: Page,
    *,
    requests: int,
    seconds: float,
    warm: int = 2,
    cap: float = 60.0,
) -> Measured:
    """Statements of one request, then the server time of up to ``requests``
    requests for at most ``seconds`` seconds (at least one), after ``warm``
    unmeasured ones; SQL time is the median over all measured requests (as
    ``breakdown`` times it). A statement over ``cap`` seconds is interrupted and the
    page reported as capped."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from harness.breakdown import breakdown

    try:
        for _ in range(warm):
            fetch(client, page, cap)
        with CaptureQueriesContext(connection) as queries, breakdown() as split:
            response = fetch(client, page, cap)
    except Capped:
        return Measured(page, 0, 0, 0, cap, capped=True, times=[cap])
    captured = list(queries.captured_queries)
    for query, seconds_taken in zip(captured, split.each, strict=False):
        query["seconds"] = seconds_taken
    result = Measured(
        page=page,
        status=response.status_code,
        size=len(response.content),
        statements=len(captured),
        sql_seconds=split.sql,
        captured=captured,
    )
    sql = [split.sql]
    result.each.append(list(split.each))
    began = time.perf_counter()
    while len(result.times) < requests:
        start = time.perf_counter()
        cpu = time.thread_time()
        try:
            with breakdown() as split:
                fetch(client, page, cap)
        except Capped:
            result.capped = True
            result.times.append(cap)
            break
        result.times.append(time.perf_counter() - start)
        result.cpu.append(time.thread_time() - cpu)
        sql.append(split.sql)
        result.each.append(list(split.each))
        if time.perf_counter() - began > seconds:
            break
    result.sql_seconds = statistics.median(sql)
    return result


def verdict(value: float, target: float, *, at_least: bool = False) -> str:
    ok = value >= target if at_least else value <= target
    return "met" if ok else "MISSED"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


Progress = Callable[[str], None]
