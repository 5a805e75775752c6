"""Counting for rate limits: one row per event, counted over a window."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from sogla.external.models import Hit


def hits(key: str, window: timedelta, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return Hit.objects.filter(key=key, at__gt=now - window).count()


def hit(key: str, now: datetime | None = None) -> None:
    Hit.objects.create(key=key[:200], at=now or timezone.now())


def prune(now: datetime | None = None) -> int:
    """Forget events older than a day (the longest window)."""
    now = now or timezone.now()
    return Hit.objects.filter(at__lt=now - timedelta(days=1)).delete()[0]
