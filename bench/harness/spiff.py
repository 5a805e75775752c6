"""SpiffWorkflow, the reference point for the engine's throughput (issue 14).

``make bench`` creates ``bench/.venv-spiff`` (a virtualenv of its own with
``spiffworkflow==3.2.0`` from PyPI; never one of Sogla's dependencies) and
``bench/engine.py`` runs the anchor script of ``../shared/anchors/spiffworkflow``
(the same reference route, persisted in SQLite as a server would: SELECT,
deserialise, complete the task, engine steps, serialise, UPDATE, COMMIT) in a
subprocess, alternating with Sogla's rounds so both see the same load.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
VENV_PYTHON = BENCH / ".venv-spiff" / "bin" / "python"
ANCHOR_DIRS = (
    Path(os.environ.get("SOGLA_SPIFF_ANCHOR", "")),
    BENCH.parent.parent / "shared" / "anchors" / "spiffworkflow",
    Path("/work/shared/anchors/spiffworkflow"),
)


@dataclass(frozen=True)
class SpiffRound:
    decisions: int
    rate: float  # decisions per second of decision time
    median_ms: float


def anchor_script() -> Path | None:
    for folder in ANCHOR_DIRS:
        script = folder / "spiff_bench.py"
        if str(folder) not in ("", ".") and script.is_file():
            return script
    return None


def available() -> str:
    """ "" when SpiffWorkflow can run here, else why not."""
    if not VENV_PYTHON.exists():
        return "bench/.venv-spiff missing (make bench creates it)"
    if anchor_script() is None:
        return "the anchor script (shared/anchors/spiffworkflow) not found"
    return ""


def spiff_round(instances: int, timeout: float = 600) -> SpiffRound:
    """One persisted run of ``instances`` reference processes (about 5.5 decisions
    each) in a temporary SQLite file (WAL, synchronous=NORMAL, as Sogla's)."""
    script = anchor_script()
    assert script is not None  # noqa: S101 - checked by available()
    folder = tempfile.mkdtemp(prefix="sogla-bench-spiff-")
    try:
        out = subprocess.run(  # noqa: S603 - our own venv and script
            [
                str(VENV_PYTHON),
                str(script),
                "--mode",
                "persist",
                "--n",
                str(instances),
                "--runs",
                "1",
                "--db",
                str(Path(folder) / "spiff.sqlite3"),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    runs = [
        json.loads(line)
        for line in out.splitlines()
        if line.startswith("{") and '"mode": "persist"' in line
    ]
    run = runs[-1]
    return SpiffRound(
        decisions=int(run["decisions"]),
        rate=float(run["decisions_per_s"]),
        median_ms=float(run["decision_latency"]["median_ms"]),
    )
