"""What full-text search reads: a document's search entry and extracted file texts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel

from .documents import Document


class SearchEntry(TenantModel):
    """What full-text search finds a document by (documents.services.search).

    ``head``: number, title, field values, counterparty name and tax id; ``talk``:
    what people wrote on it (decision comments, discussion); ``files``: the extracted
    text of its current file versions. The index beside it is the database's own: a
    ``vector`` tsvector column with a GIN index on PostgreSQL, the FTS5 table
    ``documents_search_fts`` (rowid = document id) on SQLite; both are made by the
    migration, not by the model. ``pending``: the entry must be rebuilt by the worker
    (a file version was added, a comment written); ``generation`` grows with each
    such mark, so a rebuild that raced a newer mark leaves it pending.
    """

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    head = models.TextField(default="")
    talk = models.TextField(default="")
    files = models.TextField(default="")
    pending = models.BooleanField(default=False)
    generation = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        indexes = [
            models.Index(
                fields=["pending"],
                condition=Q(pending=True),
                name="search_entry_pending",
            )
        ]


class FileText(TenantModel):
    """The text extracted from one file content (by SHA-256) in an organisation,
    for search (documents.textextract); extracted once, whatever the number of
    versions or documents holding the content."""

    class State(models.TextChoices):
        OK = "ok", _("extracted")
        EMPTY = "empty", _("no text")
        FAILED = "failed", _("failed")

    sha256 = models.CharField(max_length=64)
    text = models.TextField(default="")
    state = models.CharField(max_length=10, choices=State.choices, default="ok")
    reason = models.CharField(max_length=200, blank=True)
    extracted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("file text")
        verbose_name_plural = _("file texts")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "sha256"], name="file_text_unique"
            )
        ]
