"""Shared model bases: every domain row belongs to exactly one organisation."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class TenantManager(models.Manager[M]):
    """The one way domain rows are read: always through ``for_org``."""

    def for_org(self, organisation: models.Model | int) -> models.QuerySet[M]:
        """Rows of ``organisation`` (an ``orgs.Organisation`` or its id)."""
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


# --- audit log (design rule I6) ------------------------------------------------------
#
# AuditEvent rows are written only by ``sogla.core.audit.audit_record`` and never
# changed: the model, its queryset and (in migrations) database triggers refuse.
# Each row carries the hash of the previous row of its chain: the organisation's own
# chain (``chain`` "") or its document's (``chain`` "document:<id>"), whose heads the
# worker anchors into the organisation's chain; docs/audit.md describes the hash,
# the anchors, the signed digest and ``sogla audit verify``.


class AuditImmutableError(Exception):
    """An attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise AuditImmutableError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit events are append-only")


class AuditEventManager(TenantManager["AuditEvent"]):
    def get_queryset(self) -> AuditEventQuerySet:
        return AuditEventQuerySet(self.model, using=self._db)


class AuditEvent(models.Model):
    """Who did what, when and from where: one append-only, hash-chained record."""

    # indexed as the first column of audit_event_chain_seq_unique
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # "" for the organisation's own chain, "document:<id>" for a document's.
    chain = models.CharField(max_length=40, blank=True, default="", db_default="")
    seq = models.PositiveBigIntegerField()  # 1, 2, 3, ... within the chain
    created_at = models.DateTimeField()
    # RESTRICT: a person or document named in evidence cannot be erased on its own;
    # removing the whole organisation (a cascade) still removes its events.
    actor = models.ForeignKey(
        "orgs.User",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=300, blank=True)
    verb = models.CharField(max_length=100)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        db_index=True,
    )
    payload = models.JSONField(default=dict, blank=True)
    # Text, not an inet column: the value must read back exactly as it was hashed.
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventManager()

    class Meta:
        ordering = ["organisation_id", "chain", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "chain", "seq"],
                name="audit_event_chain_seq_unique",
            )
        ]

    def __str__(self) -> str:
        chain = f"/{self.chain}" if self.chain else ""
        return f"{self.organisation_id}{chain}#{self.seq} {self.verb}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutableError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit events are append-only")


class AuditChainHead(models.Model):
    """The last event of one chain; its writers lock it (compare-and-set).

    ``anchored_seq`` is how far the worker has anchored a document's chain into the
    organisation's chain (``audit.anchored`` events); the organisation's own chain
    is covered by the signed digest instead.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    chain = models.CharField(max_length=40, blank=True, default="")
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    anchored_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "chain"], name="audit_chain_head_unique"
            )
        ]

    def __str__(self) -> str:
        chain = f"/{self.chain}" if self.chain else ""
        return f"{self.organisation_id}{chain}#{self.last_seq}"
