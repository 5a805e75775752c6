"""Guest pages send ``Referrer-Policy: no-referrer`` everywhere, and their forms still
pass the CSRF check (``sogla.core.csrf``): browsers post them with ``Origin: null``
and no Referer, and say ``Sec-Fetch-Site: same-origin``. Tested under HTTPS settings
(the referer check Django adds on HTTPS) with the CSRF checks enforced."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.external.conftest import found, open_link, to_guest_stage

pytestmark = pytest.mark.django_db

HOST = "sogla.example.com"


@pytest.fixture
def https(settings: Any) -> None:
    settings.ALLOWED_HOSTS = [HOST]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"


def _guest(tenant_a: Any, staff: Any) -> tuple[Client, str]:
    _process, _task, token = to_guest_stage(tenant_a, staff)
    client = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
    open_link(client, token, secure=True)
    page = client.get("/g/", secure=True)
    assert page["Referrer-Policy"] == "no-referrer"
    return client, found(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)


def _post(client: Client, token: str, **headers: str) -> Any:
    return client.post(
        "/g/language/",
        {"language": "en", "csrfmiddlewaretoken": token},
        secure=True,
        headers=headers,
    )


def test_a_no_referrer_form_post_passes_under_https(tenant_a, staff, https) -> None:
    client, token = _guest(tenant_a, staff)
    posted = _post(client, token, origin="null", sec_fetch_site="same-origin")
    assert posted.status_code == 302
    assert posted["Referrer-Policy"] == "no-referrer"
    also = _post(client, token, sec_fetch_site="same-origin")  # no Origin at all
    assert also.status_code == 302
    own = _post(client, token, origin=f"https://{HOST}")  # a browser that sends one
    assert own.status_code == 302
    print("CSRF on /g/ with no-referrer: same-origin POST accepted (Origin null)")


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "null"},  # no Fetch Metadata: cannot tell where it came from
        {"origin": "null", "sec_fetch_site": "cross-site"},
        {"origin": "null", "sec_fetch_site": "same-site"},
        {"origin": "https://evil.example", "sec_fetch_site": "same-origin"},
        {},  # HTTPS without Origin or Referer
    ],
)
def test_foreign_or_unknown_posts_are_refused(tenant_a, staff, https, headers) -> None:
    client, token = _guest(tenant_a, staff)
    assert _post(client, token, **headers).status_code == 403


def test_the_token_is_still_checked(tenant_a, staff, https) -> None:
    client, _token = _guest(tenant_a, staff)
    forged = _post(client, "x" * 64, origin="null", sec_fetch_site="same-origin")
    assert forged.status_code == 403


def test_the_exception_is_only_for_guest_pages(https, tenant_a) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
    page = client.get("/accounts/login/", secure=True)
    token = found(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    refused = client.post(
        "/accounts/login/",
        {"username": "x", "password": "y", "csrfmiddlewaretoken": token},
        secure=True,
        headers={"origin": "null", "sec_fetch_site": "same-origin"},
    )
    assert refused.status_code == 403
