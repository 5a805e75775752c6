"""Documents, their file slots and the immutable file versions."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel, TimeStampedModel

from .counterparties import Counterparty
from .folders import Folder
from .types import DocumentType, StatusDef


def fold(text: str) -> str:
    """Text as search compares it: lower case, ё as е, single spaces."""
    return " ".join(text.lower().replace("ё", "е").split())


# files_sha256 of a document without files: the SHA-256 of the empty text.
EMPTY_FILES_SHA256 = hashlib.sha256(b"").hexdigest()


class Document(TenantModel, TimeStampedModel):
    """The card being approved: typed field values plus files."""

    doc_type = models.ForeignKey(
        DocumentType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("number"), max_length=60)
    title = models.CharField(_("title"), max_length=500)
    fields = models.JSONField(_("fields"), default=dict)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("initiator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    counterparty = models.ForeignKey(
        Counterparty,
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    status = models.ForeignKey(
        StatusDef, verbose_name=_("status"), on_delete=models.PROTECT, related_name="+"
    )
    folder = models.ForeignKey(
        Folder,
        verbose_name=_("folder"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # Number, title, counterparty and field values, lower-cased with ё as е: SQLite's
    # LIKE folds the case of ASCII letters only, so search compares folded text.
    search_text = models.TextField(default="", editable=False)
    # SHA-256 over the sorted hashes of the current file versions (the evidence a
    # decision records), kept by the file services; "" = not known yet (computed).
    files_sha256 = models.CharField(
        max_length=64, blank=True, default=EMPTY_FILES_SHA256, editable=False
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "doc_type", "number"],
                name="document_number_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "-created_at", "-id"]),
            models.Index(fields=["organisation", "doc_type", "status"]),
            models.Index(fields=["organisation", "initiator"]),
            models.Index(fields=["organisation", "counterparty"]),
            # A search by number (documents.searching): equal and starts-with; on
            # PostgreSQL whatever the database's collation (pattern ops).
            models.Index(
                fields=["organisation", "number"],
                name="document_org_number",
                opclasses=["", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class DocumentFile(TenantModel):
    """A file slot of a document (e.g. "the contract"); its content lives in versions."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="files"
    )
    field_key = models.SlugField(max_length=60, blank=True)
    name = models.CharField(_("file name"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class FileVersion(TenantModel):
    """One immutable version of a file, addressed by the SHA-256 of its content."""

    file = models.ForeignKey(
        DocumentFile, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size"))
    mime_type = models.CharField(_("type"), max_length=100)
    storage_key = models.CharField(max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("file version")
        verbose_name_plural = _("file versions")
        ordering = ["file_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["file", "version"], name="file_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name} v{self.version}"
