"""The documents app's models, one module a concept; every name stays importable
from ``sogla.documents.models`` (migrations, callers)."""

from __future__ import annotations

from .counterparties import Contact, Counterparty, CounterpartyCategory
from .documents import EMPTY_FILES_SHA256, Document, DocumentFile, FileVersion, fold
from .folders import Folder
from .previews import FilePreview
from .saved_views import SavedView
from .search import FileText, SearchEntry
from .types import (
    Bilingual,
    DocumentType,
    FieldDef,
    FieldKind,
    NumberSequence,
    StatusDef,
    StatusMeaning,
    StatusToken,
)

__all__ = [
    "EMPTY_FILES_SHA256",
    "Bilingual",
    "Contact",
    "Counterparty",
    "CounterpartyCategory",
    "Document",
    "DocumentFile",
    "DocumentType",
    "FieldDef",
    "FieldKind",
    "FilePreview",
    "FileText",
    "FileVersion",
    "Folder",
    "NumberSequence",
    "SavedView",
    "SearchEntry",
    "StatusDef",
    "StatusMeaning",
    "StatusToken",
    "fold",
]
