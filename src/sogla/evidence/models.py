"""What a finished process left as evidence, and the verification page's counter."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class ProcessEvidence(TenantModel):
    """One finished process: its public verification code and the files Sogla made.

    ``code`` is the public, unguessable name of the verification page (100 random
    bits in Crockford's base32); it is printed on the stamp, so it is not a secret
    credential and is stored as it is. ``approved_version`` is the main PDF as it
    was approved (None when the process was not approved or had no PDF);
    ``stamped_version`` and ``sheet_version`` are the generated files attached to
    the document.
    """

    process = models.OneToOneField(
        "workflow.Process", on_delete=models.CASCADE, related_name="evidence"
    )
    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=32, unique=True)
    outcome = models.CharField(max_length=20)  # the process's final status
    approved_version = models.ForeignKey(
        "documents.FileVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    stamped_version = models.ForeignKey(
        "documents.FileVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sheet_version = models.ForeignKey(
        "documents.FileVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("approval evidence")
        verbose_name_plural = _("approval evidence")
        indexes = [models.Index(fields=["organisation", "document"])]

    def __str__(self) -> str:
        return f"evidence {self.process_id} ({self.outcome})"


class VerifyHit(models.Model):
    """Requests to the public verification page per client address and minute
    (rate limit shared by every web process; old rows are pruned as it goes)."""

    key = models.CharField(max_length=64)
    window = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="verify_hit_unique")
        ]
        indexes = [models.Index(fields=["window"])]

    def __str__(self) -> str:
        return f"{self.key} {self.window:%H:%M} {self.hits}"
