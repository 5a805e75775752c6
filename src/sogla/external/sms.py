"""Sending SMS through a provider interface.

``SOGLA_SMS_BACKEND``: ``""`` (no SMS: codes go by e-mail), ``file``
(development: each message a JSON file under ``<data dir>/sms/``, as mails are
under ``var/``) or ``smsru`` (SMS.ru's HTTP API, ``SmsRuBackend``; its address,
key, sender and timeout from ``SOGLA_SMSRU_*``, docs/admin-guide.md). Another
provider implements ``SmsBackend``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.utils import timezone


class SmsError(Exception):
    """The provider refused the message or could not be reached.

    ``code`` is short and safe to keep in the audit log: the provider's own error
    code (``smsru:201``) or what went wrong on the way (``timeout``,
    ``unreachable``, ``http:502``, ``bad_answer``)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code or "error"


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


class SmsRuBackend:
    """SMS.ru's HTTP API: ``POST <url>`` (``https://sms.ru/sms/send``) with
    ``api_id``, ``to``, ``msg``, ``json=1`` and optionally ``from`` (an approved
    sender name) and ``test=1``. The answer is JSON::

        {"status": "OK", "status_code": 100, "balance": 4.2,
         "sms": {"79991234567": {"status": "OK", "status_code": 100,
                                 "sms_id": "000000-10000000"}}}

    A refusal of the whole request is ``{"status": "ERROR", "status_code": 200,
    "status_text": "..."}`` (200 wrong api_id, 201 low balance, 220 service away,
    230-233 limits on the number, 300-302 authorisation); a refusal of the number
    is the same shape under ``sms.<number>`` (202 bad number, 207 no route, 209
    stop list...). Anything but ``OK`` for our number is an ``SmsError``."""

    def __init__(
        self,
        *,
        url: str,
        api_id: str,
        sender: str = "",
        timeout: float = 10.0,
        test: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.api_id = api_id
        self.sender = sender
        self.timeout = timeout
        self.test = test
        self.transport = transport

    def _post(self, data: dict[str, str]) -> httpx.Response:
        try:
            with httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
                transport=self.transport,
                follow_redirects=False,
            ) as client:
                return client.post(self.url, data=data)
        except httpx.TimeoutException as error:
            raise SmsError(
                f"SMS.ru did not answer in time: {error}", "timeout"
            ) from None
        except httpx.HTTPError as error:
            raise SmsError(
                f"SMS.ru cannot be reached: {error}", "unreachable"
            ) from None

    def send(self, message: Sms) -> str:
        data = {
            "api_id": self.api_id,
            "to": message.to,
            "msg": message.text,
            "json": "1",
        }
        if self.sender:
            data["from"] = self.sender
        if self.test:
            data["test"] = "1"
        response = self._post(data)
        if response.status_code != 200:
            raise SmsError(
                f"SMS.ru answered HTTP {response.status_code}",
                f"http:{response.status_code}",
            )
        try:
            answer = response.json()
        except ValueError:
            raise SmsError(
                "SMS.ru answered something else than JSON", "bad_answer"
            ) from None
        if not isinstance(answer, dict):
            raise SmsError(
                "SMS.ru answered something else than an object", "bad_answer"
            )
        _raise_unless_ok(answer)
        per_number = answer.get("sms")
        mine = per_number.get(message.to) if isinstance(per_number, dict) else None
        if not isinstance(mine, dict):
            raise SmsError("SMS.ru did not report on the number", "bad_answer")
        _raise_unless_ok(mine)
        return str(mine.get("sms_id") or "")


def _raise_unless_ok(part: dict[str, Any]) -> None:
    if part.get("status") == "OK":
        return
    code = str(part.get("status_code", "")).strip()[:10] or "?"
    text = str(part.get("status_text", ""))[:200]
    raise SmsError(f"SMS.ru refused ({code}): {text}", f"smsru:{code}")


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
    if name == "smsru":
        return SmsRuBackend(
            url=settings.SMSRU_URL,
            api_id=settings.SMSRU_API_ID,
            sender=settings.SMSRU_SENDER,
            timeout=float(settings.SMSRU_TIMEOUT),
            test=bool(settings.SMSRU_TEST),
        )
    return None


def sms_enabled() -> bool:
    return sms_backend() is not None


def sms_send(to: str, text: str) -> str:
    backend = sms_backend()
    if backend is None:
        raise SmsError("no SMS provider is configured")
    return backend.send(Sms(normalise_phone(to), text))
