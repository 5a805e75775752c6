"""The organisation's folder tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class Folder(TenantModel):
    """A folder in the organisation's tree; ``path`` is the full slash-joined path."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=200)
    path = models.CharField(_("path"), max_length=1000)

    class Meta:
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "path"], name="folder_path_unique"
            )
        ]

    def __str__(self) -> str:
        return self.path
