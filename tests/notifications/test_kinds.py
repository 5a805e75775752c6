"""The registry of notice kinds: the apps above register theirs, the rest is generic."""

from __future__ import annotations

import zoneinfo

import pytest
from django.utils import translation
from typing_extensions import override

from sogla.notifications import kinds
from sogla.notifications.digests import DigestNotice
from sogla.notifications.messages import headline
from sogla.notifications.models import DIGEST_KIND, Notification
from sogla.workflow.notices import WorkflowNotices

UTC = zoneinfo.ZoneInfo("UTC")


def test_the_apps_register_their_kinds_when_django_starts() -> None:
    assert isinstance(kinds.kind_for("workflow.approved"), WorkflowNotices)
    assert isinstance(kinds.kind_for(DIGEST_KIND), DigestNotice)
    assert type(kinds.kind_for("integrations.webhook_failed")) is kinds.NoticeKind


def test_the_longest_registered_prefix_speaks(monkeypatch: pytest.MonkeyPatch) -> None:
    class Special(kinds.NoticeKind[None]):
        @override
        def headline(
            self, row: Notification, zone: zoneinfo.ZoneInfo, facts: None
        ) -> str:
            return f"special {row.kind}"

    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    kinds.register("workflow.special", Special())
    row = Notification(kind="workflow.special_offer", context={})
    assert headline(row, UTC) == "special workflow.special_offer"
    row.kind = "workflow.approved"
    row.context = {"number": "D-1"}
    with translation.override("en"):
        assert headline(row, UTC) == "Approved: D-1"


def test_a_kind_nobody_registered_gets_the_generic_words() -> None:
    row = Notification(kind="integrations.webhook_failed", context={"number": "D-7"})
    with translation.override("en"):
        assert headline(row, UTC) == "Notification: D-7"
        row.context = {}
        assert headline(row, UTC) == "Notification from Sogla"
