"""Test settings: only speed and isolation knobs differ from base."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sogla.settings.base import *
from sogla.settings.base import DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="sogla-test-files-"))
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="sogla-test-static-"))
# Digests of one test never meet another's; the worker's sweeps in tests anchor
# nothing unless a test asks (tests/core/test_audit_anchor.py).
AUDIT_DIGEST_DIR = Path(tempfile.mkdtemp(prefix="sogla-test-audit-"))
AUDIT_ANCHOR_SECONDS = 0
# Statement counts of commands stay what they are on a slow machine; the test of
# the check sets it to 0 (tests/workflow/test_calendar_version.py).
SOGLA_CALENDAR_CHECK_SECONDS = 3600
if DATABASES["default"]["ENGINE"] == "sogla.core.sqlite":
    # In memory, as Django's own SQLite backend tests; said outright because
    # pytest-django recognises SQLite by Django's engine name only and would
    # otherwise name a per-worker file "test_<path>_gw0" (pytest -n).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
