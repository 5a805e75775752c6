"""Local S3-compatible servers over HTTP for the storage tests (TOOLCHAIN.md 7).

``moto_s3``: moto's threaded server, for behaviour (upload, versions, presigned
GET). It does not check presigned URLs' expiry or signature. ``s3rver_s3``: the
npm s3rver (``node_modules/s3rver``), which does refuse an expired presigned URL,
for the expiry tests. Both are real HTTP servers on loopback; nothing is mocked
in process. ``use_s3(settings, server)`` points Django's default storage at one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
S3RVER = ROOT / "node_modules" / "s3rver" / "bin" / "s3rver.js"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def storage_settings(server: S3Server, **options: Any) -> dict[str, Any]:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": server.bucket,
            "endpoint_url": server.endpoint,
            "access_key": server.access_key,
            "secret_key": server.secret_key,
            "region_name": "us-east-1",
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": 120,
            "file_overwrite": False,
            **options,
        },
    }


def use_s3(settings: Any, server: S3Server) -> None:
    """Django's default storage on ``server`` for this test (pytest-django's
    ``settings`` fixture restores it; Django drops the cached storage)."""
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings(server)}


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[S3Server]:
    try:
        import boto3  # type: ignore[import-untyped]
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover - moto[server] is a dev dependency
        skip_or_fail("moto[server] is not installed")
        raise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    found = S3Server(f"http://{host}:{port}", "sogla-test", "testing", "testing")
    boto3.client(
        "s3",
        endpoint_url=found.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=found.bucket)
    yield found
    server.stop()


@pytest.fixture(scope="session")
def s3rver_s3() -> Iterator[S3Server]:
    node = shutil.which("node")
    if node is None or not S3RVER.exists():
        skip_or_fail("node and the npm package s3rver (make setup) enforce S3 expiry")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="sogla-s3rver-")
    process = subprocess.Popen(
        [
            str(node),
            str(S3RVER),
            "-d",
            folder,
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "--configure-bucket",
            "sogla-test",
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        time.sleep(0.3)  # the bucket is configured right after listening
        yield S3Server(f"http://127.0.0.1:{port}", "sogla-test", "S3RVER", "S3RVER")
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
