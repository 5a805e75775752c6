"""Pages under load, served the way ``sogla serve`` serves them (``make bench``).

Loads a realistic organisation (bench/harness/org.py: the demo's people, types and
routes, template processes through the real services, copies in bulk; by default
5,000 documents in the registry, 300 people, 500 open tasks of which 50 are the
measured user's, the card of a six-stage document in its second round with its
history), then starts ``sogla serve --no-worker`` (gunicorn with the settings that
command gives it; no background worker) on a free 127.0.0.1 port and drives it with
wrk (Debian's ``wrk``, a Lua script sending the session cookie or the API token) at
``--connections`` (16) for ``--seconds`` per page and round, ``--rounds`` rounds
alternating the pages. Pages: the login page (the trivial page every ratio compares
with), the inbox, the registry, the card and the API's task list (a personal token).

Printed per page: requests/s (median of the rounds), p50 and p99 latency, p99/p50,
the ratio of its requests/s to the trivial page's, the HTML size and the statements
per request (measured in-process on the same database), beside the targets of issue
14: inbox ≥ 0.35, card ≥ 0.25 and API task list ≥ 0.5 of the trivial page, p99/p50
≤ 2. Figures only: nothing is asserted.

SQLite (``ANALYZE``d after loading, see bench/scale.py) in a temporary directory, and
PostgreSQL (``SOGLA_BENCH_POSTGRES_URL``, loopback only) in a fresh database
``sogla_bench_web`` dropped at the end; ``--only`` picks one. The server is stopped
(its whole process group) whatever happens; ``--timeout`` bounds each database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import run_databases  # bench/harness: the shared child runner

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "sogla_bench_web"
RATIO_TARGETS = {"inbox": 0.35, "card": 0.25, "api": 0.5}
SPREAD_TARGET = 2.0  # p99 / p50
WRK = shutil.which("wrk")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--open-tasks", type=int, default=500)
    parser.add_argument("--mine", type=int, default=50)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warm", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--child", choices=["sqlite", "postgresql"], default=None)
    return parser.parse_args(argv)


def parent(args: argparse.Namespace, argv: list[str]) -> int:
    if WRK is None:
        print("wrk is not installed (apt-get install wrk): bench/web.py skipped.")
        return 0
    script = str(Path(__file__).resolve())
    return run_databases(
        lambda vendor: [sys.executable, script, *argv, "--child", vendor],
        only=args.only,
        timeout=args.timeout,
        prefix="sogla-bench-web-",
        database=DATABASE,
    )


# --- the child: one database -----------------------------------------------------------


@dataclass
class Load:
    """One wrk run against one page."""

    requests: int
    seconds: float
    p50: float
    p99: float
    status_errors: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Target:
    page: Any  # harness.pages.Page
    headers: dict[str, str]
    statements: int = 0
    size: int = 0
    seconds: float = 0.0  # per run: long enough for a slow page to finish requests
    loads: list[Load] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(load, attribute) for load in self.loads)


LUA = """
wrk.method = "GET"
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"status\\": %%d, "
    .. "\\"socket\\": %%d, \\"p50\\": %%d, \\"p99\\": %%d}\\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk(
    url: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    *,
    warm: bool = False,
) -> Load:
    """One bounded wrk run (loopback only), parsed from the Lua ``done`` line."""
    lines = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"headers": lines})
    try:
        out = subprocess.run(  # noqa: S603 - our own arguments
            [
                WRK or "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    if '"requests": 0,' in line and not warm:
        print(f"  wrk answered nothing from {url} in {seconds:g} s:\n{out}")
    data = json.loads(line.removeprefix("WRKJSON "))
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50=data["p50"] / 1e6,
        p99=data["p99"] / 1e6,
        status_errors=data["status"],
        socket_errors=data["socket"],
    )


def free_port() -> int:
    """``$SOGLA_BENCH_PORT`` when set (a session given a range of ports), else any."""
    if os.environ.get("SOGLA_BENCH_PORT"):
        return int(os.environ["SOGLA_BENCH_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(workers: int, log: Path) -> Iterator[str]:
    """``sogla serve --no-worker`` on a free loopback port; stopped (its whole process
    group) on the way out."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "sogla.cli",
        "serve",
        "--no-worker",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own arguments
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/accounts/login/", timeout=5):  # noqa: S310 - loopback
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"sogla serve did not answer: see {log}"
                    ) from None
                time.sleep(0.3)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with contextlib.suppress(ProcessLookupError):  # workers left behind
            os.killpg(process.pid, signal.SIGKILL)


def preflight(base: str, target: Target) -> None:
    """The page answers 200 to the headers wrk will send (not a redirect to login).
    After a wrk run it also waits for what wrk left in the server's queue."""
    request = urllib.request.Request(base + target.page.path, headers=target.headers)  # noqa: S310 - loopback
    opener = urllib.request.build_opener(_NoRedirect())
    with opener.open(request, timeout=60) as response:
        if response.status != 200:
            raise RuntimeError(f"{target.page.path}: HTTP {response.status}")
        target.size = len(response.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def child(args: argparse.Namespace) -> int:
    from harness.pages import shared_static_root

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sogla.settings.base")
    sys.path.insert(0, str(ROOT / "src"))
    shared_static_root()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from harness import org, pages

    from sogla.orgs.tokens import api_token_create

    call_command("migrate", verbosity=0, interactive=False)
    pages.collect_static()
    vendor = connection.vendor
    print(f"\n== Sogla web benchmark: {vendor} ({connection.display_name}) ==")
    began = time.perf_counter()
    built = org.build(
        documents=args.documents,
        users=args.users,
        open_tasks=args.open_tasks,
        mine=args.mine,
    )
    if vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _token, raw_token = api_token_create(actor=built.measured, name="bench")
    sizes = built.sizes()
    print(
        f"  loaded in {time.perf_counter() - began:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items())
    )
    session = pages.client_for(built.measured)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME].value}"
    targets = [
        Target(pages.login(), {}),
        Target(pages.inbox(), {"Cookie": cookie}),
        Target(pages.registry(), {"Cookie": cookie}),
        Target(pages.card(built.card_id), {"Cookie": cookie}),
        Target(pages.api_tasks(), {"Authorization": f"Bearer {raw_token}"}),
    ]
    for target in targets:  # statements of one request, in-process
        client = pages.client_for(
            None if target.page.api or target.page.key == "login" else built.measured,
            raw_token if target.page.api else "",
        )
        measured = pages.measure(client, target.page, requests=3, seconds=0, warm=1)
        target.statements = measured.statements
        # wrk counts only finished requests: a run lasts several times what the
        # page takes with all connections waiting on it (at most 30 s)
        busy = args.connections * measured.p50 / 2  # two cores
        target.seconds = min(30.0, max(args.seconds, 3 * busy))
    connection.close()  # the server's processes use the database now
    log = Path(os.environ["SOGLA_DATA_DIR"]) / "serve.log"
    with server(args.workers, log) as base:
        for target in targets:
            preflight(base, target)
        print(
            f"  sogla serve --no-worker: gunicorn {args.workers} sync workers at "
            f"{base}; wrk {args.connections} connections, at least {args.seconds:g} s "
            f"per page and round, {args.rounds} rounds"
        )
        for _round in range(args.rounds):
            for target in targets:
                url = base + target.page.path
                if args.warm:
                    wrk(url, target.headers, args.connections, args.warm, warm=True)
                    preflight(base, target)  # drained: what wrk left queued is done
                target.loads.append(
                    wrk(url, target.headers, args.connections, target.seconds)
                )
                preflight(base, target)
    report(targets)
    return 0


def report(targets: list[Target]) -> None:
    trivial = targets[0].median("rate")
    print(
        "\n  page                      req/s   p50 ms   p99 ms  p99/p50  "
        "ratio (target)        KB  statements  errors"
    )
    for target in targets:
        page = target.page
        rate = target.median("rate")
        p50 = target.median("p50")
        p99 = target.median("p99")
        spread = p99 / p50 if p50 else float("inf")
        ratio = rate / trivial if trivial else 0.0
        goal = RATIO_TARGETS.get(page.key)
        if page.key == "login":
            verdict = "(the trivial page)"
        elif goal is not None:
            verdict = f"(>= {goal:.2f}: {'met' if ratio >= goal else 'MISSED'})"
        else:
            verdict = "(no target)"
        errors = sum(x.status_errors + x.socket_errors for x in target.loads)
        print(
            f"  {page.label:<24}{rate:7.1f}  {p50 * 1000:7.1f}  {p99 * 1000:7.1f}"
            f"  {spread:6.2f}  {ratio:5.2f} {verdict:<20} {target.size / 1024:5.1f}"
            f"  {target.statements:>10}  {errors:>6}"
        )
    print(f"\n  p99/p50 target <= {SPREAD_TARGET:.0f}:")
    for target in targets:
        p50 = target.median("p50")
        spread = target.median("p99") / p50 if p50 else float("inf")
        verdict = "met" if spread <= SPREAD_TARGET else "MISSED"
        rounds = ", ".join(f"{x.rate:.1f}" for x in target.loads)
        print(
            f"  {target.page.label:<24}{spread:5.2f} {verdict:<7}"
            f"(req/s by round: {rounds}; {target.seconds:.0f} s each)"
        )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    return parent(args, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
