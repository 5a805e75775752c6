"""A real SMTP server on loopback for the joining flows (the notifications one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from django.test import override_settings

from tests.notifications.conftest import Smtp, body, subject

__all__ = ["Smtp", "body", "link_in", "subject"]


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_TIMEOUT=5,
        SITE_URL="http://testserver",
    ):
        yield server
    server.stop()


def link_in(message: EmailMessage) -> str:
    """The path of the one http://testserver link in the plain-text body."""
    found = re.findall(r"http://testserver(/\S+)", body(message, "plain"))
    assert len(found) == 1, found
    return str(found[0])
