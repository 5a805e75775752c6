"""Sign-in brute force (T52): wrong passwords lock the sign-in; the right one is
refused while locked and accepted after the cool-off or an administrator's unlock.

Policy (sogla.orgs.lockout, docs/admin-guide.md): within 15 minutes, 5 failures
lock an account from one address, 20 lock it everywhere, 30 from one address lock
that address. Lock-outs and unlocks are audited.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sogla.core.errors import NotFound
from sogla.core.models import AuditEvent
from sogla.orgs.lockout import lock_state, signin_unlock
from tests.conftest import Tenant, make_tenant
from tests.web.conftest import signed_in

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
THREADS = 4
TRIES = 100


def _try(client: Client, username: str, password: str, path: str = LOGIN) -> int:
    response = client.post(path, {"username": username, "password": password})
    return response.status_code


def _client(ip: str = "127.0.0.1", language: str = "en") -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language)


def _recorded_failures(username: str) -> int:
    rows = AccessAttempt.objects.filter(username=username)
    return sum(rows.values_list("failures_since_start", flat=True))


def _events(tenant: Tenant, verb: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_org(tenant.org).filter(verb=verb))


def _unlock_in_admin(tenant: Tenant, user_pk: int) -> int:
    admin = Client()
    admin.force_login(tenant.admin)
    response = admin.post(
        "/admin/orgs/user/",
        {"action": "unlock_sign_in", "_selected_action": [str(user_pk)]},
    )
    return response.status_code


@pytest.mark.slow  # a stress test (threads)
@pytest.mark.django_db(transaction=True)
def test_hundred_wrong_tries_from_threads(capsys: pytest.CaptureFixture[str]) -> None:
    tenant = make_tenant("Locksmith")
    user = tenant.initiator
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)
    # SQLite's shared in-memory test database refuses concurrent writers ("table
    # is locked"), so there the threads take turns; PostgreSQL runs them at once.
    concurrent = connection.vendor == "postgresql"
    turns = contextlib.nullcontext() if concurrent else threading.Lock()

    def guess(index: int) -> None:
        client = _client()
        try:
            barrier.wait()
            for n in range(TRIES // THREADS):
                with turns:
                    status = _try(client, user.username, f"wrong-{index}-{n}")
                with lock:
                    statuses[status] += 1
        # Blind on purpose: the thread's error goes to the main thread, which fails on it.
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert sum(statuses.values()) == TRIES
    # Only checked passwords are counted (refused tries are not even looked at).
    checked = _recorded_failures(user.username)
    # Each thread may have had one guess in flight when the fifth failure landed.
    assert 5 <= checked <= 5 + THREADS - 1
    # "Wrong password" at most four times; from the fifth failure on, the lock-out.
    assert 1 <= statuses[200] <= 4
    assert statuses[429] == TRIES - statuses[200]

    client = _client()
    refused = _try(client, user.username, PASSWORD)
    assert refused == 429
    assert "_auth_user_id" not in client.session
    locked_events = len(_events(tenant, "auth.locked_out"))
    assert 1 <= locked_events <= THREADS

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        after_cool_off = _try(client, user.username, PASSWORD)
    assert after_cool_off == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    # Locked again, then unlocked by the organisation's administrator.
    again = _client("127.0.0.9")
    assert [_try(again, user.username, f"again-{n}") for n in range(5)] == [
        *[200] * 4,
        429,
    ]
    assert _try(again, user.username, PASSWORD) == 429
    assert _unlock_in_admin(tenant, user.pk) == 302
    after_unlock = _try(again, user.username, PASSWORD)
    assert after_unlock == 302
    unlocked = _events(tenant, "auth.unlocked")
    assert [(e.actor_id, e.target_id) for e in unlocked] == [
        (tenant.admin.pk, str(user.pk))
    ]
    with capsys.disabled():
        print(
            f"\nlock-out ({connection.vendor}, threads "
            f"{'concurrent' if concurrent else 'taking turns'}): "
            f"{TRIES} wrong tries from {THREADS} threads, locked after 5 "
            f"({checked} passwords checked, {TRIES - checked} refused unchecked), "
            f"right password refused while locked ({refused}), accepted after the "
            f"15-minute cool-off ({after_cool_off}) and after an administrator's "
            f"unlock ({after_unlock}); audited: {locked_events} auth.locked_out, "
            f"{len(unlocked)} auth.unlocked"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("path", [LOGIN, ADMIN_LOGIN])
def test_sequential_lockout_on_both_sign_in_pages(tenant_a: Tenant, path: str) -> None:
    user = tenant_a.admin  # staff, so the admin sign-in would accept them
    client = _client()
    answers = [_try(client, user.username, f"bad-{n}", path) for n in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the fifth failure locks
    response = client.post(path, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert "Sign-in paused" in response.content.decode()
    assert "_auth_user_id" not in client.session
    events = _events(tenant_a, "auth.locked_out")
    assert len(events) == 1  # one event per lock-out, not per refused try
    assert events[0].payload["scopes"] == ["account_address"]
    assert events[0].payload["path"] == path
    assert events[0].ip == "127.0.0.1"


@pytest.mark.django_db
def test_lockout_page_is_the_same_for_unknown_accounts(tenant_a: Tenant) -> None:
    bodies = []
    for index, username in enumerate([tenant_a.initiator.username, "no-such-person"]):
        client = _client(f"10.0.0.{index + 1}")
        for n in range(5):
            _try(client, username, f"bad-{n}")
        response = client.post(LOGIN, {"username": username, "password": "x"})
        body = re.sub(r'name="csrf-token" content="\w+"', "", response.content.decode())
        bodies.append((response.status_code, body))
    assert bodies[0] == bodies[1]
    assert bodies[0][0] == 429


@pytest.mark.django_db
def test_lockout_page_speaks_russian(tenant_a: Tenant) -> None:
    client = _client(language="ru")
    for n in range(6):
        response = client.post(
            LOGIN, {"username": tenant_a.initiator.username, "password": f"x{n}"}
        )
    text = response.content.decode()
    assert response.status_code == 429
    assert "Вход приостановлен" in text
    assert "администратор" in text


@pytest.mark.django_db
def test_one_address_cannot_lock_the_person_out_elsewhere(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    attacker = _client("203.0.113.7")
    for n in range(5):
        _try(attacker, user.username, f"bad-{n}")
    assert _try(attacker, user.username, PASSWORD) == 429
    assert _try(_client("198.51.100.20"), user.username, PASSWORD) == 302
    state = lock_state(user.username)
    assert (state.locked_addresses, state.locked_everywhere) == (1, False)


@pytest.mark.django_db
def test_guesses_from_many_addresses_lock_the_account_everywhere(
    tenant_a: Tenant,
) -> None:
    user = tenant_a.initiator
    for n in range(20):  # 4 addresses x 5 tries: each address reaches its own limit
        _try(_client(f"203.0.113.{n // 5 + 1}"), user.username, f"bad-{n}")
    assert _try(_client("198.51.100.20"), user.username, PASSWORD) == 429
    scopes = [e.payload["scopes"] for e in _events(tenant_a, "auth.locked_out")]
    assert ["account_address", "account"] in scopes
    assert lock_state(user.username).locked_everywhere


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_refused(tenant_a: Tenant) -> None:
    sprayer = _client("203.0.113.50")
    for n in range(30):
        _try(sprayer, f"someone-{n}", "Password1")
    assert _try(sprayer, tenant_a.colleague.username, PASSWORD) == 429
    assert _try(_client("198.51.100.21"), tenant_a.colleague.username, PASSWORD) == 302


@pytest.mark.django_db
@pytest.mark.parametrize("trust_proxy", [False, True])
def test_client_address_is_read_as_the_audit_log_reads_it(
    tenant_a: Tenant, settings: object, trust_proxy: bool
) -> None:
    """Without a trusted proxy a forged X-Forwarded-For changes nothing; behind
    one, the address the proxy appended is the client's."""
    settings.TRUST_PROXY = trust_proxy  # type: ignore[attr-defined]
    user = tenant_a.initiator
    for n in range(5):
        forged = Client(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
        _try(forged, user.username, f"bad-{n}")
    addresses = set(
        AccessAttempt.objects.filter(username=user.username).values_list(
            "ip_address", flat=True
        )
    )
    if trust_proxy:
        assert addresses == {f"1.2.3.{n}" for n in range(5)}
    else:
        assert addresses == {"10.1.1.1"}
        assert _try(Client(REMOTE_ADDR="10.1.1.1"), user.username, PASSWORD) == 429


@pytest.mark.django_db
def test_password_change_counts_wrong_old_passwords(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    client = _client()
    client.force_login(user)
    url = reverse("accounts:password_change")
    new = {"new_password1": "Brand-new-pass-42", "new_password2": "Brand-new-pass-42"}
    for n in range(4):
        response = client.post(url, {"old_password": f"guess-{n}", **new})
        assert response.status_code == 200
        assert response.context["form"].has_error("old_password", "password_incorrect")
    assert client.post(url, {"old_password": "guess-5", **new}).status_code == 429
    response = client.post(url, {"old_password": PASSWORD, **new})
    assert response.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # unchanged while locked
    assert len(_events(tenant_a, "auth.locked_out")) == 1
    kept = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "old_password=" in kept
    assert "guess-" not in kept
    assert "Brand-new" not in kept  # no password is kept in clear


@pytest.mark.django_db
def test_password_change_still_works(tenant_a: Tenant) -> None:
    client = _client()
    client.force_login(tenant_a.initiator)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-new-pass-42",
            "new_password2": "Brand-new-pass-42",
        },
    )
    assert response.status_code == 302
    tenant_a.initiator.refresh_from_db()
    assert tenant_a.initiator.check_password("Brand-new-pass-42")


@pytest.mark.django_db
def test_a_success_forgets_only_this_address(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    home, elsewhere = _client("192.0.2.1"), _client("192.0.2.2")
    for n in range(4):
        _try(home, user.username, f"typo-{n}")
        _try(elsewhere, user.username, f"guess-{n}")
    assert _try(home, user.username, PASSWORD) == 302
    assert lock_state(user.username).failures == 4  # the other address's remain


@pytest.mark.django_db
def test_unlock_is_scoped_to_the_administrators_organisation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    victim = tenant_b.initiator
    for n in range(5):
        _try(_client(), victim.username, f"bad-{n}")
    with pytest.raises(NotFound):
        signin_unlock(actor=tenant_a.admin, user=victim)
    with pytest.raises(NotFound):
        signin_unlock(actor=tenant_b.initiator, user=victim)  # not an administrator
    # The other organisation's user is not even offered to the admin action.
    assert _unlock_in_admin(tenant_a, victim.pk) == 302
    assert lock_state(victim.username).locked
    assert _unlock_in_admin(tenant_b, victim.pk) == 302
    assert not lock_state(victim.username).locked
    assert _events(tenant_a, "auth.unlocked") == []
    assert len(_events(tenant_b, "auth.unlocked")) == 1


@pytest.mark.django_db
def test_users_admin_shows_and_filters_lockouts(tenant_a: Tenant) -> None:
    for n in range(5):
        _try(_client(), tenant_a.initiator.username, f"bad-{n}")
    admin = signed_in(tenant_a.admin, "en")
    page = admin.get("/admin/orgs/user/?sign_in=locked").content.decode()
    assert tenant_a.initiator.username in page
    assert tenant_a.colleague.username not in page
    assert "Locked out from 1 address until" in page
    assert "Unlock sign-in" in page


@pytest.mark.django_db
def test_server_side_checks_without_a_request_are_not_counted(tenant_a: Tenant) -> None:
    for n in range(10):
        assert (
            authenticate(username=tenant_a.initiator.username, password=f"x{n}") is None
        )
    assert authenticate(username=tenant_a.initiator.username, password=PASSWORD)
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_many_sign_ins_with_the_right_password_never_lock(tenant_a: Tenant) -> None:
    client = _client()
    for _ in range(30):
        assert _try(client, tenant_a.initiator.username, PASSWORD) == 302
        client.logout()
    assert not AccessAttempt.objects.exists()
