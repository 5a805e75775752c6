"""Document types: their typed fields, statuses and number sequences."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel

from .counterparties import CounterpartyCategory


class Bilingual(models.Model):
    """A name kept in Russian and English; ``name`` picks the active language."""

    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_ru


class FieldKind(models.TextChoices):
    STRING = "string", pgettext_lazy("field kind", "String")
    TEXT = "text", pgettext_lazy("field kind", "Text")
    NUMBER = "number", pgettext_lazy("field kind", "Number")
    MONEY = "money", pgettext_lazy("field kind", "Money")
    DATE = "date", pgettext_lazy("field kind", "Date")
    CHOICE = "choice", pgettext_lazy("field kind", "Choice")
    BOOL = "bool", pgettext_lazy("field kind", "Yes / no")
    USER = "user", pgettext_lazy("field kind", "Employee")
    USERS = "users", pgettext_lazy("field kind", "Employees")
    COUNTERPARTY = "counterparty", pgettext_lazy("field kind", "Counterparty")
    FILE = "file", pgettext_lazy("field kind", "File")
    URL = "url", pgettext_lazy("field kind", "Link")


class StatusMeaning(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In progress")
    SUCCESS = "success", _("Finished successfully")
    FAILURE = "failure", _("Finished unsuccessfully")
    ARCHIVED = "archived", _("Archived")


class StatusToken(models.TextChoices):
    """Colour tokens of UI.md §1; each passes WCAG AA on its background."""

    NEUTRAL = "neutral", _("Grey")
    ACTIVE = "active", _("Blue")
    WAITING = "waiting", _("Yellow")
    OVERDUE = "overdue", _("Red")
    RETURNED = "returned", _("Orange")
    REJECTED = "rejected", _("Dark red")
    APPROVED = "approved", _("Green")
    SIGNED = "signed", _("Teal")
    GUEST = "guest", _("Violet")
    CANCELLED = "cancelled", _("Dark grey")


class DocumentType(TenantModel, Bilingual):
    """What kind of document: its fields, numbering, title, statuses and folder."""

    key = models.SlugField(_("key"), max_length=60)
    prefix = models.CharField(_("number prefix"), max_length=20, blank=True)
    numbering_pattern = models.CharField(
        _("numbering pattern"),
        max_length=100,
        default="{prefix}-{yyyy}-{seq:05}",
        help_text=_("Placeholders: {prefix}, {yyyy}, {yy}, {mm}, {seq} or {seq:05}."),
    )
    title_template = models.CharField(
        _("title template"),
        max_length=300,
        default="{type} {number}",
        help_text=_(
            "Placeholders: {number}, {type}, {counterparty}, {initiator}, "
            "{department} and any field key, e.g. {subject}."
        ),
    )
    folder_rule = models.CharField(
        _("folder rule"),
        max_length=300,
        blank=True,
        help_text=_(
            "Path of the folder for new documents, with the same placeholders."
        ),
    )
    has_files = models.BooleanField(_("has files"), default=True)
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_(
            "Only the initiator, their managers, participants and administrators "
            "see documents of this type."
        ),
    )
    is_active = models.BooleanField(_("available for new documents"), default=True)
    counterparty_category = models.CharField(
        _("category of new counterparties"),
        max_length=20,
        choices=CounterpartyCategory.choices,
        default=CounterpartyCategory.CUSTOMER,
        blank=True,
        help_text=_(
            "Offered first when a counterparty is created from a document of this type."
        ),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    class Meta:
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        ordering = ["order", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"], name="doctype_key_unique"
            )
        ]

    @property
    def description(self) -> str:
        return self.description_en if get_language() == "en" else self.description_ru


class FieldDef(TenantModel):
    """One typed field of a document type."""

    doc_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="fields"
    )
    key = models.SlugField(_("key"), max_length=60)
    label_ru = models.CharField(_("label (Russian)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=FieldKind.choices)
    required = models.BooleanField(_("required"), default=False)
    required_when = models.JSONField(
        _("required when"),
        default=None,
        null=True,
        blank=True,
        help_text=_(
            'A condition, e.g. {"field": "reason", "op": "eq", "value": "remote"}.'
        ),
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_(
            'For choice fields: [{"value": "short", "ru": "…", "en": "…"}, …].'
        ),
    )
    help_ru = models.CharField(_("hint (Russian)"), max_length=300, blank=True)
    help_en = models.CharField(_("hint (English)"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    show_in_registry = models.BooleanField(_("show in registry"), default=False)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["doc_type", "key"], name="fielddef_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_en if get_language() == "en" else self.label_ru

    @property
    def help(self) -> str:
        return self.help_en if get_language() == "en" else self.help_ru

    def choice_label(self, value: Any) -> str:
        lang = "en" if get_language() == "en" else "ru"
        for choice in self.choices or []:
            if choice.get("value") == value:
                return str(choice.get(lang) or value)
        return str(value)


class StatusDef(TenantModel, Bilingual):
    """A status of a document type, with its colour and what it means."""

    doc_type = models.ForeignKey(
        DocumentType, on_delete=models.CASCADE, related_name="statuses"
    )
    key = models.SlugField(_("key"), max_length=60)
    meaning = models.CharField(
        _("meaning"), max_length=20, choices=StatusMeaning.choices
    )
    token = models.CharField(
        _("colour"), max_length=20, choices=StatusToken.choices, default="neutral"
    )
    is_initial = models.BooleanField(_("initial"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["doc_type", "key"], name="status_key_unique"
            ),
            models.UniqueConstraint(
                fields=["doc_type"],
                condition=Q(is_initial=True),
                name="status_one_initial",
            ),
        ]


class NumberSequence(TenantModel):
    """The last number given to a document of a type in a year. Never goes back."""

    doc_type = models.ForeignKey(DocumentType, on_delete=models.CASCADE)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "year"], name="sequence_unique")
        ]
