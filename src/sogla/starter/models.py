"""Which library templates an organisation installed, and into which document type."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel


class TemplateInstall(TenantModel):
    """A library template installed into an organisation (at most once)."""

    template_key = models.SlugField(_("template"), max_length=60)
    doc_type = models.ForeignKey(
        "documents.DocumentType",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("document type"),
    )
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    installed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("installed template")
        verbose_name_plural = _("installed templates")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "template_key"],
                name="starter_install_once",
            )
        ]
