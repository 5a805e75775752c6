"""Password reset through a real SMTP server: both languages, single use,
no account enumeration, rate-limited per address and per e-mail."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django.utils import timezone

from tests.conftest import Tenant
from tests.orgs.conftest import Smtp, body, link_in, subject

RESET = "/accounts/password/reset/"
NEW = "Brand-new-pass-77"


def ask(client: Client, email: str, ip: str = "10.0.0.1") -> Any:
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def test_reset_by_email_sets_a_new_password_once(tenant_a: Tenant, smtp: Smtp) -> None:
    person = tenant_a.colleague
    person.language = "ru"
    person.save()
    client = Client()
    assert client.get(RESET).status_code == 200
    response = ask(client, person.email.upper())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"

    [mail] = smtp.sink.messages
    assert mail["To"] == person.email
    assert subject(mail) == "Новый пароль в Sogla"
    assert "Задайте новый здесь" in body(mail, "plain")
    link = link_in(mail)
    assert link in body(mail, "html")

    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/done/"
    person.refresh_from_db()
    assert person.check_password(NEW)
    # the link works once
    again = Client().get(link, follow=True)
    assert b'data-reason="reset-invalid"' in again.content


def test_reset_page_says_the_same_for_unknown_and_known_emails(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    known = ask(Client(), tenant_a.colleague.email)
    unknown = ask(Client(), "nobody@nowhere.test")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(smtp.sink.messages) == 1
    # not joined yet (invited, no password): no mail either
    tenant_a.initiator.set_unusable_password()
    tenant_a.initiator.save()
    assert ask(Client(), tenant_a.initiator.email).status_code == 302
    assert len(smtp.sink.messages) == 1


@override_settings(SOGLA_RESET_PER_EMAIL=2, SOGLA_RESET_PER_ADDRESS=4)
def test_reset_is_rate_limited_per_email_and_per_address(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    email = tenant_a.colleague.email
    for n in range(3):  # from different addresses: the third is answered, not sent
        assert ask(Client(), email, ip=f"10.0.1.{n}").status_code == 302
    assert len(smtp.sink.messages) == 2
    client = Client()
    for n in range(4):
        assert ask(client, f"x{n}@nowhere.test", ip="10.0.2.1").status_code == 302
    limited = ask(client, email, ip="10.0.2.1")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "3600"
    assert len(smtp.sink.messages) == 2


def test_an_address_locked_out_of_signing_in_cannot_ask_for_resets(
    tenant_a: Tenant, smtp: Smtp
) -> None:
    AccessAttempt.objects.create(
        username="someone",
        ip_address="10.0.3.3",
        user_agent="x",
        failures_since_start=100,
        attempt_time=timezone.now(),
    )
    assert ask(Client(), tenant_a.colleague.email, ip="10.0.3.3").status_code == 429
    assert smtp.sink.messages == []


@pytest.mark.parametrize("language", ["en", "ru"])
def test_reset_pages_in_both_languages(tenant_a: Tenant, language: str) -> None:
    client = Client(headers={"Accept-Language": language})
    page = client.get(RESET).content.decode()
    assert ("Reset your password" in page) == (language == "en")
    assert ("Восстановление пароля" in page) == (language == "ru")
    login = client.get("/accounts/login/").content.decode()
    assert ("Forgot your password?" in login) == (language == "en")
