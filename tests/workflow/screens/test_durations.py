"""Waiting and lateness are counted in the organisation's working days, on the
organisation's dates, whatever time zone the viewer has set for themselves."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse
from django.utils import timezone

from sogla.workflow.screens.durations import working_time
from sogla.workflow.services import calendar_cache_clear
from tests.conftest import Tenant
from tests.workflow.screens.conftest import Flow, draft, signed_in

MOSCOW = ZoneInfo("Europe/Moscow")  # the organisation's zone
LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # 10 hours behind in March 2026

THURSDAY_EVENING = datetime(2026, 3, 12, 20, 0, tzinfo=MOSCOW)
FRIDAY_EVENING = datetime(2026, 3, 13, 20, 0, tzinfo=MOSCOW)  # Friday 10:00 there
MONDAY_MORNING = datetime(2026, 3, 16, 9, 0, tzinfo=MOSCOW)  # Sunday 23:00 there


def test_working_days_are_the_organisations_whatever_zone_is_active(
    tenant_a: Tenant,
) -> None:
    assert tenant_a.org.time_zone == "Europe/Moscow"
    calendar_cache_clear()
    timing = working_time(tenant_a.org)
    with timezone.override(LOS_ANGELES):
        assert timing.days(FRIDAY_EVENING, MONDAY_MORNING) == 1
        assert timing.waiting(FRIDAY_EVENING, MONDAY_MORNING) == "1 working day"
        assert (
            timing.overdue(THURSDAY_EVENING, MONDAY_MORNING) == "2 working days overdue"
        )


def test_a_viewer_in_another_zone_sees_the_organisations_waiting_days(
    flow: Flow,
) -> None:
    initiator = flow.tenant.initiator
    initiator.time_zone = "America/Los_Angeles"
    initiator.save(update_fields=["time_zone"])
    client = signed_in(initiator)
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        document = draft(flow.tenant)
        started = client.post(
            reverse("workflow:start", args=[document.pk]),
            {"route": "contract-route"},
        )
        assert started.status_code == 302
    with time_machine.travel(MONDAY_MORNING, tick=False):
        card = client.get(reverse("documents:card", args=[document.pk]))
        registry = client.get(reverse("documents:registry"))
    assert "waiting 1 working day" in card.content.decode()
    assert "1 working day" in registry.content.decode()
    assert "61 hours" not in card.content.decode() + registry.content.decode()
