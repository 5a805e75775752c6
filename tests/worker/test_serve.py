"""``sogla serve`` as an operator runs it: starts gunicorn and the worker, stops on
SIGTERM without a traceback, and writes nothing outside the data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_serve_stops_cleanly_on_sigterm_and_keeps_to_its_data_directory(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "SOGLA_DATA_DIR": str(tmp_path / "var"),
        "SOGLA_DATABASE_URL": f"sqlite:///{tmp_path / 'sogla.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "sogla.settings.base",
    }
    sogla = [sys.executable, "-m", "sogla.cli"]
    subprocess.run(
        [*sogla, "migrate", "--noinput", "--skip-checks"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = free_port()
    server = subprocess.Popen(
        [*sogla, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not answers(port):
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "sogla serve did not start"
            time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, output
    assert "Traceback" not in output, output
    assert not answers(port)
    assert not (home / ".gunicorn").exists(), "gunicorn wrote outside the project"
