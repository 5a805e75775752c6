"""Commands that change documents, files, folders and counterparties.

Each public function is one transaction: it either does everything or, raising an
ApplicationError, leaves the database as it was. The modules: ``documents``
(create, change fields, archive), ``files`` (files and their versions),
``numbering`` (numbers, titles, folders), ``counterparties``, ``previews``
(previews of file versions, built by the worker).
"""

from sogla.documents.counterparties import normalize_name
from sogla.documents.services.counterparties import (
    ContactData,
    CounterpartyData,
    counterparty_create,
    counterparty_update,
    registration_problems,
)
from sogla.documents.services.documents import (
    document_archive,
    document_create,
    document_fields_set,
    document_missing_required,
    document_update_fields,
)
from sogla.documents.services.files import (
    GENERAL_FILES,
    NewFile,
    document_files_sha256,
    file_add,
    file_add_for_step,
    file_add_generated,
)
from sogla.documents.services.numbering import folder_ensure, naming_values, next_number
from sogla.documents.services.previews import (
    preview_request,
    preview_retry,
    previews_build_due,
)
from sogla.documents.services.search import (
    register_talk_source,
    search_index_documents,
    search_index_due,
    search_mark,
    search_rebuild,
)
from sogla.documents.services.types import (
    DEFAULT_STATUSES,
    FieldSpec,
    StatusSpec,
    TypeSpec,
    document_type_create,
    document_type_field_add,
    document_type_status_add,
    document_type_status_remove,
    document_type_update,
    type_problems,
)

__all__ = [
    "DEFAULT_STATUSES",
    "GENERAL_FILES",
    "ContactData",
    "CounterpartyData",
    "FieldSpec",
    "NewFile",
    "StatusSpec",
    "TypeSpec",
    "counterparty_create",
    "counterparty_update",
    "document_archive",
    "document_create",
    "document_fields_set",
    "document_files_sha256",
    "document_missing_required",
    "document_type_create",
    "document_type_field_add",
    "document_type_status_add",
    "document_type_status_remove",
    "document_type_update",
    "document_update_fields",
    "file_add",
    "file_add_for_step",
    "file_add_generated",
    "folder_ensure",
    "naming_values",
    "next_number",
    "normalize_name",
    "preview_request",
    "preview_retry",
    "previews_build_due",
    "register_talk_source",
    "registration_problems",
    "search_index_documents",
    "search_index_due",
    "search_mark",
    "search_rebuild",
    "type_problems",
]
