"""The notification outbox: one row per message to send (design rule I2).

A row is written in the same transaction as the change that causes it; the worker
(``sogla.notifications.delivery``) sends pending rows whose ``next_attempt_at`` has
come, at least once, and the ``(organisation, idempotency_key)`` constraint keeps a
repeated command from queueing the same message twice. The same row is the in-app
notification of its recipient (the bell): ``read_at`` marks it read.
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
    IN_PROGRESS = "in_progress", _("being sent")
    SENT = "sent", _("sent")
    DIGESTED = "digested", _("in a daily digest")
    SKIPPED = "skipped", _("not e-mailed")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


# The kind of the daily digest mail: an outbox row of its own, one per user and day.
DIGEST_KIND = "notifications.digest"


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
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While ``in_progress``: the worker that claimed the row owns it until then.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # A row delivered inside a daily digest points at the digest's row.
    digest = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="digested",
        db_index=False,  # a partial index of Meta: most rows have none
    )
    # A resend is a new row; the original stays as evidence.
    resent_from = models.ForeignKey(
        "self",
        verbose_name=_("resent from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index of Meta: most rows have none
    )

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
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(
                fields=["recipient_user", "read_at"], name="notification_unread"
            ),
            # Partial: an insert with no digest and no original writes neither.
            models.Index(
                fields=["digest"],
                condition=Q(digest__isnull=False),
                name="notification_digest",
            ),
            models.Index(
                fields=["resent_from"],
                condition=Q(resent_from__isnull=False),
                name="notification_resent_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_email or self.recipient_user_id}"
