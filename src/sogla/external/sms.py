"""Sending SMS through a provider interface.

``SOGLA_SMS_BACKEND``: ``""`` (no SMS: codes go by e-mail) or ``file``
(development: each message a JSON file under ``<data dir>/sms/``, as mails are
under ``var/``). A real provider implements ``SmsBackend``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone


class SmsError(Exception):
    """The provider refused the message or could not be reached."""


@dataclass(frozen=True)
class Sms:
    to: str
    text: str


class SmsBackend(Protocol):
    def send(self, message: Sms) -> str:
        """Send; the provider's message id. Raises SmsError."""


class FileBackend:
    """Writes each message as JSON under ``directory`` (development, tests)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Sms) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        ident = f"{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"
        path = self.directory / f"{ident}.json"
        path.write_text(
            json.dumps({"to": message.to, "text": message.text}, ensure_ascii=False),
            encoding="utf-8",
        )
        return ident


def normalise_phone(phone: str) -> str:
    """Digits only, Russian 8XXXXXXXXXX as 7XXXXXXXXXX."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


def sms_backend() -> SmsBackend | None:
    name = getattr(settings, "SMS_BACKEND", "")
    if name == "file":
        return FileBackend(Path(settings.SMS_FILE_DIR))
    return None


def sms_enabled() -> bool:
    return sms_backend() is not None


def sms_send(to: str, text: str) -> str:
    backend = sms_backend()
    if backend is None:
        raise SmsError("no SMS provider is configured")
    return backend.send(Sms(normalise_phone(to), text))
