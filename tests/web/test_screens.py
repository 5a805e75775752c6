"""Every screen renders for a signed-in user, in English and in Russian."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from sogla.documents.models import Document
from sogla.orgs.tokens import api_tokens_of
from tests.conftest import Tenant
from tests.factories import CounterpartyFactory
from tests.web.conftest import signed_in


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_screen_renders(
    tenant_a: Tenant, make_document: Callable[..., Document], language: str
) -> None:
    document = make_document()
    party = CounterpartyFactory(organisation=tenant_a.org)
    version = document.files.get().versions.get()
    client = signed_in(tenant_a.initiator, language)
    urls = [
        reverse("documents:registry"),
        reverse("documents:new"),
        reverse("documents:create", args=["contract"]),
        reverse("documents:card", args=[document.pk]),
        reverse("documents:card", args=[document.pk]) + "?tab=files",
        reverse("documents:edit", args=[document.pk]),
        reverse("documents:counterparty_list"),
        reverse("documents:counterparty_create"),
        reverse("documents:counterparty_detail", args=[party.pk]),
        reverse("accounts:profile"),
        reverse("accounts:tokens"),
        reverse("accounts:password_change"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html, url
        assert 'href="#main"' in html  # skip link
        assert "<script>" not in html
        assert " onclick=" not in html
        assert 'style="' not in html
    assert (
        client.get(
            reverse("documents:download", args=[version.pk]), follow=True
        ).status_code
        == 200
    )


def test_login_page_and_sign_in(tenant_a: Tenant, client: Client) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    response = client.post(
        reverse("accounts:login"),
        {"username": tenant_a.initiator.username, "password": "secret-pass-123"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workflow:inbox")


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(reverse("documents:registry"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_logout_is_post_only(client_a: Client) -> None:
    assert client_a.get(reverse("accounts:logout")).status_code == 405
    assert client_a.post(reverse("accounts:logout")).status_code == 302
    assert client_a.get(reverse("documents:registry")).status_code == 302


def test_language_switch_persists_on_user(tenant_a: Tenant) -> None:
    client = signed_in(tenant_a.initiator, "en")
    response = client.post(
        reverse("accounts:language"), {"language": "ru", "next": "/documents/"}
    )
    assert response.status_code == 302
    tenant_a.initiator.refresh_from_db()
    assert tenant_a.initiator.language == "ru"
    assert b'<html lang="ru">' in client.get(reverse("documents:registry")).content


def test_profile_saves_preferences(tenant_a: Tenant, client_a: Client) -> None:
    response = client_a.post(
        reverse("accounts:profile"),
        {
            "first_name": "Ivan",
            "last_name": "Petrov",
            "email": "ivan@example.test",
            "language": "en",
            "time_zone": "Asia/Yekaterinburg",
        },
    )
    assert response.status_code == 302
    tenant_a.initiator.refresh_from_db()
    assert (tenant_a.initiator.last_name, tenant_a.initiator.time_zone) == (
        "Petrov",
        "Asia/Yekaterinburg",
    )


def test_profile_rejects_bad_email(tenant_a: Tenant, client_a: Client) -> None:
    response = client_a.post(
        reverse("accounts:profile"), {"email": "not-an-email", "language": "en"}
    )
    assert response.status_code == 200
    assert b'aria-invalid="true"' in response.content
    tenant_a.initiator.refresh_from_db()
    assert tenant_a.initiator.email != "not-an-email"


def test_tokens_create_shows_plain_token_once_and_revoke(
    tenant_a: Tenant, client_a: Client
) -> None:
    response = client_a.post(reverse("accounts:tokens"), {"name": "1C"})
    assert response.status_code == 200
    match = re.search(r"sgl_[A-Za-z0-9_-]{30,}", response.content.decode())
    assert match is not None
    assert (
        match.group(0) not in client_a.get(reverse("accounts:tokens")).content.decode()
    )
    token = api_tokens_of(tenant_a.initiator)[0]
    response = client_a.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_error_pages_render(client_a: Client) -> None:
    response = client_a.get("/documents/999999/")
    assert response.status_code == 404
    assert b"Not found or no access" in response.content


def test_the_shell_links_where_reverse_says_under_a_script_prefix(
    tenant_a: Tenant,
) -> None:
    """The navigation's addresses are reversed once per script prefix (a site served
    under /sogla/ links under /sogla/), never left empty."""
    from django.test import RequestFactory
    from django.urls import set_script_prefix

    from sogla.site.context_processors import _SHELL_URLS, shell

    html = signed_in(tenant_a.admin).get(reverse("documents:registry")).content.decode()
    assert 'href=""' not in html
    for name in _SHELL_URLS:
        url = reverse(name)
        assert f'href="{url}"' in html or f'action="{url}"' in html, name
    request = RequestFactory().get("/")
    request.user = tenant_a.admin
    set_script_prefix("/sogla/")
    try:
        urls = shell(request)["urls"]
        expected = {name.replace(":", "_"): reverse(name) for name in _SHELL_URLS}
    finally:
        set_script_prefix("/")
    assert urls == expected
    assert urls["workflow_inbox"] == "/sogla/inbox/"
    assert shell(request)["urls"]["workflow_inbox"] == "/inbox/"
