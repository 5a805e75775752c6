"""Shared model bases: every domain row belongs to exactly one organisation."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db import models

if TYPE_CHECKING:
    from sogla.orgs.models import Organisation

M = TypeVar("M", bound=models.Model)


class TenantManager(models.Manager[M]):
    """The one way domain rows are read: always through ``for_org``."""

    def for_org(self, organisation: Organisation | int) -> models.QuerySet[M]:
        org_id = organisation if isinstance(organisation, int) else organisation.pk
        return self.get_queryset().filter(organisation_id=org_id)


class TenantModel(models.Model):
    """A row owned by one organisation (design rule I7)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects = TenantManager()

    class Meta:
        abstract = True


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
