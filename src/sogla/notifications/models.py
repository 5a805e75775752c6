"""The notification outbox: one row per message to send (design rule I2).

A row is written in the same transaction as the change that causes it; delivery
jobs (a later part) send pending rows whose ``next_attempt_at`` has come, at least
once, and the ``(organisation, idempotency_key)`` constraint keeps a repeated
command from queueing the same message twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class NotificationState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class Notification(TenantModel):
    """A message waiting in (or done with) the outbox."""

    kind = models.CharField(_("kind"), max_length=100)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient_email = models.EmailField(_("recipient e-mail"), blank=True)
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    context = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=NotificationState.choices,
        default=NotificationState.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                name="notification_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False) | ~Q(recipient_email=""),
                name="notification_has_recipient",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_email or self.recipient_user_id}"
