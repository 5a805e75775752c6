"""First-run setup behind the console's one-time code; `sogla org`; open sign-up."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from sogla.core.models import AuditEvent
from sogla.orgs.models import Organisation, SetupCode, User, WorkingCalendar
from sogla.orgs.setup import setup_code_issue
from tests.orgs.conftest import Smtp, link_in, subject

SETUP = "/accounts/setup/"
PASSWORD = "Long-enough-pass-42"


def _form(code: str, email: str = "anna@romashka.test") -> dict[str, str]:
    return {
        "setup_code": code,
        "name": "ООО Ромашка",
        "first_name": "Anna",
        "last_name": "Ivanova",
        "email": email,
        "password": PASSWORD,
    }


@pytest.mark.django_db
def test_fresh_server_offers_setup_and_creates_organisation_with_admin() -> None:
    code = setup_code_issue()
    client = Client()
    assert client.get("/accounts/login/")["Location"] == SETUP
    page = client.get(SETUP)
    assert page.status_code == 200
    assert b"setup_code" in page.content

    response = client.post(SETUP, _form(code.lower()))  # any case, dashes optional

    assert response.status_code == 302
    assert response["Location"] == "/accounts/people/"
    org = Organisation.objects.get()
    assert org.name == "ООО Ромашка"
    assert org.slug == "ooo-romashka"
    assert WorkingCalendar.objects.filter(organisation=org).exists()
    admin = User.objects.get(organisation=org)
    assert admin.is_staff
    assert not admin.is_superuser
    assert admin.username == admin.email == "anna@romashka.test"
    assert admin.check_password(PASSWORD)
    assert AuditEvent.objects.filter(verb="organisation.created").count() == 1
    # signed in, and the people screen is theirs
    assert client.get("/accounts/people/").status_code == 200
    # the code is used up: the page is gone, the login page no longer redirects
    assert Client().get(SETUP).status_code == 404
    again = Client().post(SETUP, _form(code, email="mallory@evil.test"))
    assert again.status_code == 404
    assert Organisation.objects.count() == 1
    assert Client().get("/accounts/login/").status_code == 200


@pytest.mark.django_db
def test_wrong_codes_are_refused_counted_and_burn_the_code() -> None:
    code = setup_code_issue()
    client = Client()
    with override_settings(SOGLA_SETUP_CODE_FAILURES=3):
        for attempt in range(3):
            response = client.post(SETUP, _form(f"AAAA-BBBB-CCC{attempt}"))
            assert response.status_code == 400
            assert b"wrong or no longer valid" in response.content
        assert SetupCode.objects.get().failures == 3
        # now even the right code is refused: the code is burnt
        response = client.post(SETUP, _form(code))
        assert response.status_code == 429
        assert b"Too many wrong setup codes" in response.content
    assert not Organisation.objects.exists()
    # a new code (restart of sogla serve) opens setup again
    fresh = setup_code_issue()
    assert client.post(SETUP, _form(fresh)).status_code == 302


@pytest.mark.django_db
def test_replaced_and_expired_codes_are_refused() -> None:
    old = setup_code_issue()
    new = setup_code_issue()
    client = Client()
    assert client.post(SETUP, _form(old)).status_code == 400
    SetupCode.objects.filter(used_at=None).update(expires_at=timezone.now())
    assert client.get(SETUP).status_code == 404
    assert client.post(SETUP, _form(new)).status_code == 404
    assert not Organisation.objects.exists()


@pytest.mark.django_db
def test_invalid_setup_form_keeps_the_code_and_names_the_fields() -> None:
    code = setup_code_issue()
    data = _form(code) | {"password": "123", "email": "not-an-email"}
    response = Client().post(SETUP, data)
    assert response.status_code == 400
    assert b"aria-invalid" in response.content
    assert SetupCode.objects.get().failures == 0
    assert Client().post(SETUP, _form(code)).status_code == 302


@pytest.mark.django_db
def test_org_create_command_invites_the_administrator(smtp: Smtp) -> None:
    out = io.StringIO()
    call_command(
        "org", "create", "--name", "Beta Ltd", "--admin-email", "Boss@Beta.test",
        "--language", "en", stdout=out,
    )  # fmt: skip
    org = Organisation.objects.get(name="Beta Ltd")
    admin = User.objects.get(organisation=org)
    assert admin.is_staff
    assert not admin.has_usable_password()
    assert "Invitation e-mailed to boss@beta.test" in out.getvalue()
    [mail] = smtp.sink.messages
    assert subject(mail) == "Invitation to Beta Ltd in Sogla"
    client = Client()
    response = client.post(
        link_in(mail), {"first_name": "Bo", "last_name": "Ss", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/accounts/people/").status_code == 200


@pytest.mark.django_db
def test_setup_code_command_prints_a_working_code() -> None:
    out = io.StringIO()
    call_command("org", "setup-code", stdout=out)
    code = out.getvalue().split("First-run setup code: ")[1].split()[0]
    assert Client().post(SETUP, _form(code)).status_code == 302


@pytest.mark.django_db
def test_open_signup_is_off_by_default_and_confirms_the_email(smtp: Smtp) -> None:
    form = {
        "name": "Gamma",
        "first_name": "Gil",
        "last_name": "",
        "email": "gil@g.test",
    }
    assert Client().get("/accounts/signup/").status_code == 404
    with override_settings(SOGLA_OPEN_SIGNUP=True):
        client = Client()
        assert client.post("/accounts/signup/", form).status_code == 200
        assert not Organisation.objects.exists()  # nothing before the link
        [mail] = smtp.sink.messages
        link = link_in(mail)
        assert client.get(link).status_code == 200
        response = client.post(link, {"password": PASSWORD})
        assert response.status_code == 302
        org = Organisation.objects.get(name="Gamma")
        assert User.objects.get(organisation=org).is_staff
        # the link works once
        reused = Client().post(link, {"password": PASSWORD})
        assert reused.status_code == 410
        # an e-mail already on the server: the same answer, no mail
        assert Client().post("/accounts/signup/", form).status_code == 200
        assert len(smtp.sink.messages) == 1
        forged = Client().get(link[:-3] + "xyz/")
        assert forged.status_code == 404


@pytest.mark.django_db
def test_serve_prints_a_setup_code_until_an_own_organisation_exists() -> None:
    from sogla.site.management.commands.serve import Command

    out = io.StringIO()
    command = Command(stdout=out)
    command._setup_code("127.0.0.1:8000")
    printed = out.getvalue()
    assert "/accounts/setup/" in printed
    code = printed.split("setup code ")[1].split()[0]
    # the demo organisations do not count as one's own
    Organisation.objects.create(name="Argo", slug="argo")
    assert Client().post(SETUP, _form(code)).status_code == 302
    out = io.StringIO()
    Command(stdout=out)._setup_code("127.0.0.1:8000")
    assert out.getvalue() == ""
