"""File previews, built by the worker once per file content."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class FilePreview(TenantModel):
    """The preview of one file content (by SHA-256) in an organisation.

    Written as ``pending`` in the transaction that adds the version (so a content is
    never converted twice, whatever the number of versions or documents holding it),
    built by the worker (``documents.services.previews``), then ``ready`` or ``failed``
    with a reason. ``pdf_key`` is the converted PDF ('' when the source PDF is shown
    itself); ``text`` is the extracted text, pages separated by form feeds.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        WORKING = "working", _("converting")
        READY = "ready", _("ready")
        FAILED = "failed", _("no preview")

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        IMAGE = "image", _("image")
        NONE = "none", _("none")

    sha256 = models.CharField(max_length=64)
    source_key = models.CharField(max_length=200)
    mime_type = models.CharField(max_length=100)
    source_name = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default="pending")
    kind = models.CharField(max_length=10, choices=Kind.choices, default="none")
    pdf_key = models.CharField(max_length=200, blank=True)
    thumb_key = models.CharField(max_length=200, blank=True)
    pages = models.PositiveIntegerField(default=0)
    text = models.TextField(blank=True)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("file preview")
        verbose_name_plural = _("file previews")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "sha256"], name="file_preview_unique"
            )
        ]
        indexes = [models.Index(fields=["state", "lease_until"], name="preview_queue")]

    def __str__(self) -> str:
        return f"preview {self.sha256[:12]} ({self.state})"
