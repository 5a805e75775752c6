"""Loading the signed-in user on every request (``sogla.orgs.backends`` and
``sogla.core.sessions``): one statement for the session, one for the user with
their organisation, and nothing kept between requests, so that deactivating a
user, changing a password, signing out or the session's expiry end it at once."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sogla.orgs.models import User
from tests.conftest import Tenant


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _signed_out(client: Client) -> bool:
    """The inbox sends the client to the sign-in page."""
    response = client.get(reverse("workflow:inbox"))
    if response.status_code == 200:
        return False
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    return True


def test_the_user_is_read_with_their_organisation_in_one_statement(
    tenant_a: Tenant,
) -> None:
    client = _signed_in(tenant_a.initiator)
    client.get(reverse("workflow:inbox"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("workflow:inbox"))
    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert "django_session" in sql[0]
    assert '"orgs_user"' in sql[1]
    assert '"orgs_organisation"' in sql[1]  # joined
    # no statement of its own for the organisation (it was the third before)
    assert not any(s.startswith('SELECT "orgs_organisation"') for s in sql)
    assert response.context["organisation"] == tenant_a.org
    assert settings.SESSION_ENGINE == "sogla.core.sessions"
    assert "sogla.orgs.backends.UserBackend" in settings.AUTHENTICATION_BACKENDS


def test_a_deactivated_user_is_signed_out_on_the_next_request(
    tenant_a: Tenant,
) -> None:
    user = tenant_a.initiator
    client = _signed_in(user)
    assert not _signed_out(client)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert _signed_out(client)


def test_a_changed_password_ends_the_session(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    client = _signed_in(user)
    assert not _signed_out(client)
    changed = User.objects.get(pk=user.pk)  # elsewhere: another process, the admin
    changed.set_password("a-new-password-7")
    changed.save(update_fields=["password"])
    assert _signed_out(client)
    # Django's session hash check flushed the session: the row is gone
    assert not Session.objects.filter(
        session_key=client.cookies[settings.SESSION_COOKIE_NAME].value
    ).exists()


def test_signing_out_ends_the_session_for_every_holder_of_its_cookie(
    tenant_a: Tenant,
) -> None:
    """A second client with the same cookie stands for another web process or a
    copied cookie: nothing of the session or the user is kept in memory."""
    first = _signed_in(tenant_a.initiator)
    second = Client()
    second.cookies[settings.SESSION_COOKIE_NAME] = first.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    assert not _signed_out(second)
    assert first.post(reverse("accounts:logout")).status_code == 302
    assert _signed_out(second)


def test_an_expired_session_is_no_session(tenant_a: Tenant) -> None:
    client = _signed_in(tenant_a.initiator)
    assert not _signed_out(client)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert _signed_out(client)
