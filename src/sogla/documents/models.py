"""Document types and their fields and statuses, documents, files, folders, counterparties."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sogla.core.models import TenantModel, TimeStampedModel


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


class CounterpartyCategory(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    SUPPLIER = "supplier", _("Supplier")
    CONTRACTOR = "contractor", _("Contractor")
    TENANT = "tenant", _("Tenant")
    GOVERNMENT = "government", _("Government body")
    PARTNER = "partner", _("Partner")
    PERSON = "person", _("Private person")
    OTHER = "other", _("Other")


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


class FilePreview(TenantModel):
    """The preview of one file content (by SHA-256) in an organisation.

    Written as ``pending`` in the transaction that adds the version (so a content is
    never converted twice, whatever the number of versions or documents holding it),
    built by the worker (``documents.services.previews``), then ``ready`` or ``failed``
    with a reason. ``pdf_key`` is the converted PDF ('' when the source PDF is shown
    itself); ``text`` is the extracted text, pages separated by form feeds.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        WORKING = "working", _("converting")
        READY = "ready", _("ready")
        FAILED = "failed", _("no preview")

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        IMAGE = "image", _("image")
        NONE = "none", _("none")

    sha256 = models.CharField(max_length=64)
    source_key = models.CharField(max_length=200)
    mime_type = models.CharField(max_length=100)
    source_name = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default="pending")
    kind = models.CharField(max_length=10, choices=Kind.choices, default="none")
    pdf_key = models.CharField(max_length=200, blank=True)
    thumb_key = models.CharField(max_length=200, blank=True)
    pages = models.PositiveIntegerField(default=0)
    text = models.TextField(blank=True)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("file preview")
        verbose_name_plural = _("file previews")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "sha256"], name="file_preview_unique"
            )
        ]
        indexes = [models.Index(fields=["state", "lease_until"], name="preview_queue")]

    def __str__(self) -> str:
        return f"preview {self.sha256[:12]} ({self.state})"


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
