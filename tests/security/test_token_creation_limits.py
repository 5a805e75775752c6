"""API token creation: at most SOGLA_TOKENS_PER_HOUR per person per hour and none
while the account's sign-in is locked out (429 with Retry-After); audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sogla.core.errors import RateLimited
from sogla.core.models import AuditEvent
from sogla.orgs.models import ApiToken
from sogla.orgs.tokens import api_token_create
from tests.api.conftest import errors_by_field, session_client
from tests.conftest import Tenant
from tests.web.conftest import signed_in

PER_HOUR = 10


def _verbs(tenant: Tenant) -> list[str]:
    return list(
        AuditEvent.objects.for_org(tenant.org)
        .order_by("seq")
        .values_list("verb", flat=True)
    )


@pytest.mark.django_db
def test_eleventh_token_in_an_hour_is_refused_then_allowed(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    api = session_client(user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(PER_HOUR):
            assert api.post("/me/tokens", {"name": f"t{n}"}).status_code == 201
        refused = api.post("/me/tokens", {"name": "one too many"})
        assert refused.status_code == 429
        assert errors_by_field(refused) == {"": "rate_limited"}
        assert int(refused["Retry-After"]) == 3600
        assert " 60 " in refused.json()["errors"][0]["message"]  # minutes
        assert api.post("/me/tokens", {"name": "again"}).status_code == 429
    assert ApiToken.objects.filter(user=user).count() == PER_HOUR
    assert _verbs(tenant_a) == ["auth.locked_out"]  # the first refusal, not each
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert api.post("/me/tokens", {"name": "next hour"}).status_code == 201


@pytest.mark.django_db
def test_revoking_does_not_give_the_quota_back(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    for n in range(PER_HOUR):
        token, _raw = api_token_create(actor=user, name=f"t{n}")
        token.revoked_at = timezone.now()
        token.save()
    with pytest.raises(RateLimited):
        api_token_create(actor=user, name="more")


@pytest.mark.django_db
def test_no_token_while_sign_in_is_locked_everywhere(tenant_a: Tenant) -> None:
    user = tenant_a.initiator
    for n in range(20):
        Client(REMOTE_ADDR=f"203.0.113.{n // 5 + 1}").post(
            "/accounts/login/", {"username": user.username, "password": f"bad-{n}"}
        )
    with pytest.raises(RateLimited) as caught:
        api_token_create(actor=user, name="from a stolen session")
    assert 0 < caught.value.retry_after <= 15 * 60
    event = AuditEvent.objects.for_org(tenant_a.org).filter(actor=user).last()
    assert event is not None
    assert event.payload == {"scopes": ["token_create"], "reason": "signin_locked"}


@pytest.mark.django_db
def test_web_form_shows_the_limit(tenant_a: Tenant, settings: object) -> None:
    settings.SOGLA_TOKENS_PER_HOUR = 1  # type: ignore[attr-defined]
    client = signed_in(tenant_a.initiator, "en")
    assert client.post("/accounts/tokens/", {"name": "first"}).status_code == 200
    refused = client.post("/accounts/tokens/", {"name": "second"})
    assert refused.status_code == 429
    assert "Too many API tokens were created recently" in refused.content.decode()
    assert ApiToken.objects.filter(user=tenant_a.initiator).count() == 1
