"""Counterparties (outside organisations and people) and their contacts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel, TimeStampedModel

from .folders import Folder


class CounterpartyCategory(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    SUPPLIER = "supplier", _("Supplier")
    CONTRACTOR = "contractor", _("Contractor")
    TENANT = "tenant", _("Tenant")
    GOVERNMENT = "government", _("Government body")
    PARTNER = "partner", _("Partner")
    PERSON = "person", _("Private person")
    OTHER = "other", _("Other")


class Counterparty(TenantModel, TimeStampedModel):
    """An outside organisation or person; unique by tax id, else by normalised name."""

    name = models.CharField(_("name"), max_length=300)
    normalized_name = models.CharField(max_length=300, editable=False)
    tax_id = models.CharField(_("tax id (INN)"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    category = models.CharField(
        _("category"),
        max_length=20,
        choices=CounterpartyCategory.choices,
        default=CounterpartyCategory.CUSTOMER,
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    crm_link = models.URLField(_("CRM link"), blank=True)
    folder = models.ForeignKey(
        Folder,
        verbose_name=_("folder"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("counterparty")
        verbose_name_plural = _("counterparties")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "tax_id"],
                condition=~Q(tax_id=""),
                name="counterparty_tax_id_unique",
            ),
            models.UniqueConstraint(
                fields=["organisation", "normalized_name"],
                condition=Q(tax_id=""),
                name="counterparty_name_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "normalized_name"]),
            # lists and pickers sorted by name read the first rows in order
            models.Index(fields=["organisation", "name"]),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TenantModel):
    """A person at a counterparty."""

    counterparty = models.ForeignKey(
        Counterparty, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
