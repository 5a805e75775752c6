"""The SMS.ru provider against a local HTTP server on 127.0.0.1 that speaks SMS.ru's
documented request (``POST /sms/send``: api_id, to, msg, json=1, from, test) and
answer (JSON with ``status``/``status_code`` for the request and per number,
error codes 200, 201, 202, 220...). No mocks of httpx: real sockets, real timeouts.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.test import Client

from sogla.core.models import AuditEvent
from sogla.external.models import Challenge
from sogla.external.sms import Sms, SmsError, SmsRuBackend, sms_send
from sogla.workflow.models import Task, TaskState
from tests.external.conftest import GUEST, found, open_link, to_guest_stage

GOOD_KEY = "0A1B2C3D-0000-1111-2222-333344445555"
POOR_KEY = "POOR-KEY"  # answers 201: not enough money on the account
PHONE = "79123451234"
ERRORS = {
    200: "Неправильный api_id",
    201: "Не хватает средств на лицевом счету",
    202: "Неправильно указан номер телефона получателя, либо на него нет маршрута",
    220: "Сервис временно недоступен, попробуйте чуть позже",
}


class FakeSmsRu:
    """What SMS.ru's /sms/send answers, kept to what its API documents."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.mode = "normal"  # normal / slow / http502 / garbage / away220
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/sms/send"

    def _answer(self, form: dict[str, str]) -> tuple[int, bytes]:
        if self.mode == "http502":
            return 502, b"<html>Bad gateway</html>"
        if self.mode == "garbage":
            return 200, b"100\n000000-10000000\nbalance=10"  # the old text format
        if self.mode == "slow":
            time.sleep(3)
        if self.mode == "away220":
            return 200, _error(220)
        if form.get("json") != "1":
            return 200, b"200"
        if form.get("api_id") == POOR_KEY:
            return 200, _error(201)
        if form.get("api_id") != GOOD_KEY:
            return 200, _error(200)
        if not form.get("msg"):
            return 200, _error(203, "Нет текста сообщения")
        per_number: dict[str, Any] = {}
        for number in form.get("to", "").split(","):
            if not number.isdigit() or len(number) != 11:
                per_number[number] = json.loads(_error(202))
            else:
                per_number[number] = {
                    "status": "OK",
                    "status_code": 100,
                    "sms_id": f"000000-{len(self.received):08d}",
                }
        answer = {"status": "OK", "status_code": 100, "sms": per_number, "balance": 4.2}
        return 200, json.dumps(answer, ensure_ascii=False).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/sms/send":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                fake.received.append(form)
                status, body = fake._answer(form)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # the client may have given up (the timeout test)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _error(code: int, text: str = "") -> bytes:
    answer = {
        "status": "ERROR",
        "status_code": code,
        "status_text": text or ERRORS[code],
    }
    return json.dumps(answer, ensure_ascii=False).encode()


@pytest.fixture
def smsru() -> Iterator[FakeSmsRu]:
    fake = FakeSmsRu()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def _backend(fake: FakeSmsRu, key: str = GOOD_KEY, **kw: Any) -> SmsRuBackend:
    return SmsRuBackend(url=fake.url, api_id=key, **kw)


def test_sends_in_smsru_format_and_returns_the_id(smsru) -> None:
    backend = _backend(smsru, sender="Sogla", test=True)
    sms_id = backend.send(Sms(PHONE, "123456 — ваш код"))
    assert sms_id == "000000-00000001"
    sent = smsru.received[0]
    assert sent == {
        "api_id": GOOD_KEY,
        "to": PHONE,
        "msg": "123456 — ваш код",
        "json": "1",
        "from": "Sogla",
        "test": "1",
    }
    print("SMS.ru: 1 sent, fields api_id/to/msg/json/from/test as documented")


@pytest.mark.parametrize(
    ("key", "to", "mode", "expected"),
    [
        ("wrong-key", PHONE, "normal", "smsru:200"),
        (POOR_KEY, PHONE, "normal", "smsru:201"),
        (GOOD_KEY, "7912", "normal", "smsru:202"),
        (GOOD_KEY, PHONE, "away220", "smsru:220"),
        (GOOD_KEY, PHONE, "http502", "http:502"),
        (GOOD_KEY, PHONE, "garbage", "bad_answer"),
    ],
)
def test_provider_errors_are_sms_errors(smsru, key, to, mode, expected) -> None:
    smsru.mode = mode
    with pytest.raises(SmsError) as refused:
        _backend(smsru, key).send(Sms(to, "text"))
    assert refused.value.code == expected


def test_timeout_and_unreachable(smsru) -> None:
    smsru.mode = "slow"
    started = time.monotonic()
    with pytest.raises(SmsError) as slow:
        _backend(smsru, timeout=0.5).send(Sms(PHONE, "text"))
    took = time.monotonic() - started
    assert slow.value.code == "timeout"
    assert took < 2.5
    closed = SmsRuBackend(url="http://127.0.0.1:9/sms/send", api_id=GOOD_KEY, timeout=1)
    with pytest.raises(SmsError) as away:
        closed.send(Sms(PHONE, "text"))
    assert away.value.code == "unreachable"
    print(f"SMS.ru: timeout after {took:.1f}s (limit 0.5s), closed port unreachable")


def test_settings_choose_smsru(smsru, settings) -> None:
    settings.SMS_BACKEND = "smsru"
    settings.SMSRU_URL, settings.SMSRU_API_ID = smsru.url, GOOD_KEY
    settings.SMSRU_SENDER, settings.SMSRU_TIMEOUT, settings.SMSRU_TEST = "", 5, False
    assert sms_send("8 (912) 345-12-34", "hi")
    assert smsru.received[0]["to"] == PHONE
    assert "from" not in smsru.received[0]


# --- end to end: a guest whose counterparty contact has a phone ---------------------------


def _with_phone(tenant_a, staff) -> tuple[Task, str]:
    from sogla.documents.models import Contact, Counterparty, Document

    process, task, token = to_guest_stage(tenant_a, staff, otp=True)
    org = tenant_a.org
    partner = Counterparty.objects.create(organisation=org, name="Partner LLC")
    Contact.objects.create(
        organisation=org,
        counterparty=partner,
        name="P",
        email=GUEST,
        phone="+7 912 345-12-34",
    )
    Document.objects.filter(pk=process.document_id).update(counterparty=partner)
    return task, token


def _ask_code(client: Client) -> Any:
    page = client.get("/g/").content.decode()
    rid = found(r'name="request_id" value="([0-9a-f]+)"', page)
    return client.post(
        "/g/decide/", {"outcome": "approve", "request_id": rid, "accept_agreement": "1"}
    ), rid


@pytest.mark.django_db
def test_guest_signs_with_an_smsru_code(tenant_a, staff, smsru, settings) -> None:
    settings.SMS_BACKEND = "smsru"
    settings.SMSRU_URL, settings.SMSRU_API_ID = smsru.url, GOOD_KEY
    settings.SMSRU_SENDER, settings.SMSRU_TIMEOUT, settings.SMSRU_TEST = (
        "Sogla",
        5,
        False,
    )
    task, token = _with_phone(tenant_a, staff)
    client = Client()
    open_link(client, token)
    before = client.get("/g/").content.decode()
    assert "one-time code by SMS to +7 *** ***-12-34" in before  # said before sending
    asked, rid = _ask_code(client)
    assert asked.status_code == 200
    assert "+7 *** ***-12-34" in asked.content.decode()
    assert [r["to"] for r in smsru.received] == [PHONE]
    code = found(r"(\d{6})", smsru.received[0]["msg"])
    challenge = Challenge.objects.get(task=task)
    assert challenge.channel == "sms"
    done = client.post(
        "/g/confirm/",
        {
            "outcome": "approve",
            "request_id": rid,
            "challenge": challenge.pk,
            "code": code,
        },
    )
    assert done.status_code == 302
    assert Task.objects.get(pk=task.pk).state == TaskState.DONE
    print("SMS.ru end to end: code by SMS to +7 *** ***-12-34, decision recorded")


@pytest.mark.django_db
def test_a_refused_sms_is_a_delivery_failure_not_a_500(
    tenant_a, staff, smsru, settings
) -> None:
    settings.SMS_BACKEND = "smsru"
    settings.SMSRU_URL, settings.SMSRU_API_ID = smsru.url, POOR_KEY
    settings.SMSRU_SENDER, settings.SMSRU_TIMEOUT, settings.SMSRU_TEST = "", 5, False
    task, token = _with_phone(tenant_a, staff)
    client = Client()
    open_link(client, token)
    asked, _rid = _ask_code(client)
    assert asked.status_code == 503
    assert "could not be sent" in asked.content.decode()
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN
    event = AuditEvent.objects.get(verb="code.not_sent")
    assert event.payload["reason"] == "smsru:201"
    assert event.payload["channel"] == "sms"
    assert event.payload["to"] == "+7 *** ***-12-34"
    assert not Challenge.objects.filter(task=task, superseded=False).exists()
    print(
        "SMS.ru 201 low balance: 503 page, audit code.not_sent smsru:201, 0 decisions"
    )
