"""Messages of a document's discussion, their attached files and read marks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel

MAX_TEXT = 10_000


class Message(TenantModel):
    """One message on a document's card; ``parent`` makes it a reply (one level).

    ``text`` is what the author typed (markdown-light), ``html`` its rendering,
    sanitised when written. ``file_version`` and ``step`` tag the message with the
    main file's current version and the route step current when it was written.
    A deleted message keeps its row (the card says "message deleted").
    """

    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="messages"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("message"), max_length=MAX_TEXT)
    html = models.TextField(blank=True)
    for_guests = models.BooleanField(_("visible to guests"), default=False)
    mentions = models.JSONField(default=list, blank=True)  # user ids
    file_version = models.ForeignKey(
        "documents.FileVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    step = models.JSONField(default=dict, blank=True)  # {"key", "ru", "en", "round"}
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ("id",)
        indexes = [models.Index(fields=["organisation", "document", "id"])]

    def __str__(self) -> str:
        return f"message {self.pk} on document {self.document_id}"

    @property
    def step_name(self) -> str:
        """The step's name in the reader's language ('' without one)."""
        step = self.step if isinstance(self.step, dict) else {}
        if get_language() == "en":
            return str(step.get("en") or step.get("ru") or "")
        return str(step.get("ru") or step.get("en") or "")


class MessageFile(TenantModel):
    """A file attached to a message (stored as the documents' files are)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="files")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=100)
    storage_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.original_name


class ReadMark(TenantModel):
    """The newest message of a document a user has seen."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="+"
    )
    last_seen_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "document"], name="discussion_readmark_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.document_id} to {self.last_seen_id}"
