"""Registry views people saved."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel, TimeStampedModel


class SavedView(TenantModel, TimeStampedModel):
    """A registry view someone saved: its filters, mode, columns and sort (the
    registry's own query parameters, cleaned by ``documents.registry_query``),
    personal or shared with the whole organisation. A shared view is changed or
    deleted only by its owner or an administrator."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    shared = models.BooleanField(_("shared with the organisation"), default=False)
    query = models.JSONField(_("filters, mode, columns and sort"), default=dict)
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["position", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "owner", "name"], name="saved_view_name_unique"
            )
        ]
        indexes = [models.Index(fields=["organisation", "shared"])]

    def __str__(self) -> str:
        return self.name
