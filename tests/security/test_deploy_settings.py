"""T49: production settings pass ``check --deploy`` and pages carry security headers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Tenant

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "sogla.settings.base",
    "SOGLA_HTTPS": "1",
    "SOGLA_DEBUG": "0",
    "SOGLA_SECRET_KEY": "x7" * 32 + "-production-key-that-is-long-and-random",
    "SOGLA_ALLOWED_HOSTS": "sogla.example.com",
}


def test_check_deploy_reports_no_issues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, **PRODUCTION_ENV, "SOGLA_DATA_DIR": str(tmp_path)}
    env.pop("SOGLA_DATABASE_URL", None)
    # The browser tests allow sync ORM calls inside Playwright's loop; not production.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sogla.cli",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    warnings = result.stderr.count("WARNINGS:") + result.stdout.count("(security.")
    with capsys.disabled():
        print(
            f"\nT49: check --deploy warnings {warnings}, exit code {result.returncode}"
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_values(tmp_path: Path) -> None:
    env = {**os.environ, **PRODUCTION_ENV, "SOGLA_DATA_DIR": str(tmp_path)}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [
        "False", "31536000", "True", "__Host-sessionid", "__Host-csrftoken", "True",
        "True", "Lax",
    ]  # fmt: skip


@pytest.mark.django_db
def test_pages_carry_security_headers(tenant_a: Tenant, client: Client) -> None:
    client.force_login(tenant_a.initiator)
    for url in [reverse("documents:registry"), reverse("accounts:profile")]:
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "no-store" in response.headers["Cache-Control"]
