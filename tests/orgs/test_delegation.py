"""Delegation periods: who stands in for whom on a given day."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError

from sogla.orgs.models import Delegation
from sogla.orgs.selectors import active_delegate
from tests.conftest import Tenant
from tests.factories import UserFactory


def _delegate(tenant: Tenant, a, b, start: date, end: date) -> Delegation:
    return Delegation.objects.create(
        organisation=tenant.org, from_user=a, to_user=b, starts_on=start, ends_on=end
    )


def test_delegation_applies_only_inside_its_period(tenant_a: Tenant) -> None:
    _delegate(
        tenant_a,
        tenant_a.initiator,
        tenant_a.colleague,
        date(2026, 5, 1),
        date(2026, 5, 20),
    )
    assert active_delegate(tenant_a.initiator, date(2026, 5, 1)) == tenant_a.colleague
    assert active_delegate(tenant_a.initiator, date(2026, 5, 20)) == tenant_a.colleague
    assert active_delegate(tenant_a.initiator, date(2026, 5, 21)) is None


def test_chains_are_followed_and_cycles_stop(tenant_a: Tenant) -> None:
    third = UserFactory(organisation=tenant_a.org)
    day = date(2026, 6, 1)
    _delegate(tenant_a, tenant_a.initiator, tenant_a.colleague, day, day)
    _delegate(tenant_a, tenant_a.colleague, third, day, day)
    assert active_delegate(tenant_a.initiator, day) == third
    _delegate(tenant_a, third, tenant_a.initiator, day, day)
    assert active_delegate(tenant_a.initiator, day) == third


def test_period_must_not_end_before_it_starts(tenant_a: Tenant) -> None:
    with pytest.raises(IntegrityError):
        _delegate(
            tenant_a,
            tenant_a.initiator,
            tenant_a.colleague,
            date(2026, 5, 2),
            date(2026, 5, 1),
        )
