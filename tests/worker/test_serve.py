"""``sogla serve`` as an operator runs it: starts gunicorn and the worker, stops on
SIGTERM without a traceback, writes nothing outside the data directory, and closes
each connection after its answer."""

from __future__ import annotations

import http.client
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


def connection_header(port: int) -> str:
    """The ``Connection`` header of an answer over HTTP/1.1 (here a redirect to setup)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/accounts/login/")
        response = connection.getresponse()
        response.read()
        return (response.getheader("Connection") or "").lower()
    finally:
        connection.close()


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
        start_new_session=True,  # a failed assertion kills gunicorn and the worker too
    )
    try:
        deadline = time.monotonic() + 120
        while not answers(port):
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "sogla serve did not start"
            time.sleep(0.5)
        # each connection is closed after its answer, so that no worker keeps
        # clients the other workers could serve (docs/deployment.md)
        assert connection_header(port) == "close"
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 0, output
    assert "Traceback" not in output, output
    assert not answers(port)
    assert not (home / ".gunicorn").exists(), "gunicorn wrote outside the project"
