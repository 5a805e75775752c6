"""The page benchmarks still run, at a toy size (they are not part of ``make bench``'s
figures here: nothing below looks at a time). On the database the suite runs on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.conftest import is_postgres, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
TOY = ["--users", "60", "--open-tasks", "60", "--mine", "10"]


def run(script: str, *args: str) -> str:
    env = dict(os.environ)
    if is_postgres():
        only = "postgres"
        url = urlsplit(os.environ["SOGLA_DATABASE_URL"])
        env["SOGLA_BENCH_POSTGRES_URL"] = urlunsplit(url._replace(path="/postgres"))
        # databases of this run's own: <test database>_<worker>_scale and so on
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        env["SOGLA_BENCH_DATABASE_PREFIX"] = (
            f"{settings.DATABASES['default']['NAME']}_{worker}"
        )
    else:
        only = "sqlite"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--only", only, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" not in done.stdout, done.stdout
    return done.stdout


def test_scale_measures_every_page_at_two_sizes_and_explains_them() -> None:
    out = run(
        "scale.py",
        *TOY,
        "--sizes", "300,500",
        "--requests", "2",
        "--seconds", "1",
        "--explain",
        "--profile",
    )  # fmt: skip
    assert "measured user  Ирина Соколова (not an administrator): 10 open tasks" in out
    for label in (
        "inbox, first page",
        "card (6 stages, round 2)",
        "registry, first page",
        "search: counterparty",
        "search: number",
    ):
        assert len(re.findall(rf"^  {re.escape(label)} +\d+ ", out, re.M)) == 2, label
        assert f"EXPLAIN {label}:" in out
    assert out.count("ratio p95") == 5
    assert "CAPPED" not in out
    assert "profile: card" in out
    assert "templates" in out


def test_web_drives_every_page_through_sogla_serve() -> None:
    if shutil.which("wrk") is None:
        skip_or_fail("wrk is not installed")
    out = run(
        "web.py",
        *TOY,
        "--documents", "300",
        "--seconds", "1",
        "--warm", "0",
        "--rounds", "1",
    )  # fmt: skip
    rows = re.findall(
        r"^  (login page|inbox|registry|card|API task list).*$", out, re.M
    )
    assert len(rows) == 10, out  # the table and the p99/p50 lines
    trivial = re.search(r"^  login page \(trivial\) +([\d.]+) ", out, re.M)
    assert trivial is not None, out
    assert float(trivial.group(1)) > 0, out


def test_search_times_every_query_kind() -> None:
    out = run(
        "search.py",
        "--users", "60",
        "--documents", "300",
        "--texts", "30",
        "--words", "50",
        "--requests", "2",
    )  # fmt: skip
    for label in ("rare word in file text", "common word form", "document number"):
        assert re.search(rf"^  {label} +\d+\+? +\d+ ", out, re.M), (label, out)
    assert "worst p95" in out
    assert "registry page: договоры" in out


pytestmark = [
    pytest.mark.slow,  # a load test: runs the benchmarks small
    pytest.mark.skipif(
        not (ROOT / "bench" / "scale.py").exists(), reason="no bench/ in this checkout"
    ),
]
