"""Guest links and their sessions, one-time code challenges, the organisation's
simple-e-signature agreement and its acceptances.

No secret is stored in clear: a link's token and a session's key are kept as
SHA-256, a code as an HMAC with a per-challenge salt.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class GuestLink(TenantModel):
    """An e-mailed link for one guest, one task, one round."""

    task = models.ForeignKey(
        "workflow.Task",
        verbose_name=_("task"),
        on_delete=models.CASCADE,
        related_name="guest_links",
    )
    email = models.EmailField(_("guest e-mail"), max_length=254)
    round = models.PositiveIntegerField(_("round"))
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notification_id = models.BigIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(_("times opened"), default=0)
    first_used_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    scanner_hits = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("guest link")
        verbose_name_plural = _("guest links")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["task", "email"])]

    def __str__(self) -> str:
        return f"link {self.pk} for {self.email}"


class GuestSession(TenantModel):
    """What a link is exchanged for: a short session behind an HttpOnly cookie."""

    link = models.ForeignKey(
        GuestLink, on_delete=models.CASCADE, related_name="sessions"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"guest session {self.pk}"


class CodeChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Challenge(TenantModel):
    """A one-time code sent to confirm one decision of one person on one task."""

    task = models.ForeignKey(
        "workflow.Task", on_delete=models.CASCADE, related_name="challenges"
    )
    participant_ref = models.CharField(max_length=300)  # user:<id> / guest:<e-mail>
    outcome = models.CharField(max_length=30)
    files_sha256 = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=10, choices=CodeChannel.choices)
    sent_to = models.CharField(max_length=100)  # masked
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)  # a newer code was sent
    forgiven = models.BooleanField(default=False)  # unlocked by a person
    ip = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["participant_ref", "created_at"])]

    def __str__(self) -> str:
        return f"challenge {self.pk}"


class SignatureAgreement(TenantModel):
    """The organisation's simple-e-signature agreement; the newest version counts."""

    version = models.CharField(_("version"), max_length=20)
    text_ru = models.TextField(_("text (Russian)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("e-signature agreement")
        verbose_name_plural = _("e-signature agreements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"], name="agreement_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class AgreementAcceptance(TenantModel):
    agreement = models.ForeignKey(
        SignatureAgreement, on_delete=models.PROTECT, related_name="acceptances"
    )
    email = models.EmailField(max_length=254)
    accepted_at = models.DateTimeField()
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "email"], name="agreement_acceptance_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} v{self.agreement_id}"


class Hit(models.Model):
    """One counted event for a rate limit (a wrong link from an IP, a code sent)."""

    key = models.CharField(max_length=200)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"])]

    def __str__(self) -> str:
        return self.key
