"""request_meta: the client address comes from a trusted proxy only (ASVS 4.1.3)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from sogla.core.request_meta import RequestMeta, request_meta


def _meta(**headers: str) -> RequestMeta:
    return request_meta(RequestFactory().get("/", **headers))  # type: ignore[arg-type]  # WSGI environ keys


def test_remote_addr_and_user_agent() -> None:
    assert _meta(REMOTE_ADDR="192.0.2.8", HTTP_USER_AGENT="Mozilla/5.0") == RequestMeta(
        ip="192.0.2.8", user_agent="Mozilla/5.0"
    )


def test_forwarded_for_is_ignored_without_a_trusted_proxy() -> None:
    meta = _meta(REMOTE_ADDR="192.0.2.8", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert meta.ip == "192.0.2.8"


@override_settings(TRUST_PROXY=True)
@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.3", "198.51.100.3"),
        ("6.6.6.6, 198.51.100.3", "198.51.100.3"),  # the client's own claim is first
        (" 2001:DB8::0001 ", "2001:db8::1"),
        ("garbage", "192.0.2.8"),
        ("", "192.0.2.8"),
    ],
)
def test_trusted_proxy_gives_the_address_it_appended(
    forwarded: str, expected: str
) -> None:
    assert _meta(REMOTE_ADDR="192.0.2.8", HTTP_X_FORWARDED_FOR=forwarded).ip == expected


def test_unusable_values_are_dropped_or_cleaned() -> None:
    meta = _meta(REMOTE_ADDR="", HTTP_USER_AGENT="A\x00B\r\nC" + "x" * 600)
    assert meta.ip == ""
    assert meta.user_agent.startswith("A B  C")
    assert len(meta.user_agent) == 500
