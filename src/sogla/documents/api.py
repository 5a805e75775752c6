"""REST endpoints for document types, documents, files and counterparties.

Thin: parse, call selectors and services, serialise. Access is decided by the
selectors (``documents.access``): ids of other organisations' objects, and of
documents the caller may not see, answer 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Status, UploadedFile

from sogla.api.auth import api_user as _user
from sogla.api.errors import found, stale_cursor
from sogla.api.schemas import ERRORS, Id, Key, OptionalFormId
from sogla.api.schemas import responses as _ok
from sogla.core.request_meta import request_meta
from sogla.documents import selectors, services
from sogla.documents.access import access_document, can_edit
from sogla.documents.downloads import download_link
from sogla.documents.schemas import (
    CounterpartyIn,
    CounterpartyOut,
    CounterpartyPatchIn,
    DocumentDetailOut,
    DocumentFilterIn,
    DocumentIn,
    DocumentListOut,
    DocumentPatchIn,
    DocumentTypeCreateIn,
    DocumentTypeOut,
    DocumentTypePatchIn,
    FieldDefIn,
    FileOut,
    FileVersionOut,
    StatusDefIn,
    counterparty_out,
    document_detail_out,
    document_out,
    document_type_out,
    file_out,
    file_version_out,
)
from sogla.documents.uploads import check_upload
from sogla.orgs.models import User

router = Router(tags=["documents"])


# --- document types --------------------------------------------------------------------


@router.get(
    "/document-types",
    response=_ok(list[DocumentTypeOut]),
    operation_id="document_types_list",
    url_name="document_types_list",
    summary="Document types available for new documents",
)
def document_types_list(request: HttpRequest) -> list[dict[str, Any]]:
    types = selectors.document_types_for(_user(request)).prefetch_related(
        "fields", "statuses"
    )
    return [
        document_type_out(t, list(t.fields.all()), list(t.statuses.all()))
        for t in types
    ]


@router.get(
    "/document-types/{key}",
    response=_ok(DocumentTypeOut),
    operation_id="document_type_get",
    url_name="document_type_get",
    summary="One document type with its fields and statuses",
)
def document_type_get(request: HttpRequest, key: Key) -> dict[str, Any]:
    found = selectors.document_type_with_fields(_user(request), key)
    statuses = list(found.doc_type.statuses.all())
    return document_type_out(found.doc_type, found.field_defs, statuses)


def _admin_type_out(user: User, key: str) -> dict[str, Any]:
    doc_type = selectors.document_type_for_admin(user, key)
    return document_type_out(
        doc_type, list(doc_type.fields.all()), list(doc_type.statuses.all())
    )


def _field_spec(payload: FieldDefIn) -> services.FieldSpec:
    return services.FieldSpec(
        **payload.model_dump(exclude={"choices"}),
        choices=[c.model_dump() for c in payload.choices],
    )


def _status_spec(payload: StatusDefIn) -> services.StatusSpec:
    return services.StatusSpec(**payload.model_dump())


@router.post(
    "/document-types",
    response={201: DocumentTypeOut, **ERRORS},
    operation_id="document_type_create",
    url_name="document_type_create",
    summary="Create a document type with its fields and statuses (administrators)",
    description="Without statuses the type gets the usual set: draft (initial), "
    "on_approval, returned, approved, rejected, cancelled. The checks are those of "
    "the settings screen: keys, kinds, choices, conditions, one initial status, "
    "the placeholders of the numbering pattern, title and folder rule.",
)
def document_type_create(
    request: HttpRequest, payload: DocumentTypeCreateIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    spec = services.TypeSpec(
        **payload.model_dump(exclude={"fields", "statuses"}),
        fields=[_field_spec(f) for f in payload.fields],
        statuses=[_status_spec(s) for s in payload.statuses],
    )
    doc_type = services.document_type_create(
        actor=user, spec=spec, meta=request_meta(request)
    )
    return Status(201, _admin_type_out(user, doc_type.key))


@router.patch(
    "/document-types/{key}",
    response=_ok(DocumentTypeOut),
    operation_id="document_type_update",
    url_name="document_type_update",
    summary="Change a type's names, numbering, title, folder rule and flags "
    "(administrators)",
)
def document_type_update(
    request: HttpRequest, key: Key, payload: DocumentTypePatchIn
) -> dict[str, Any]:
    user = _user(request)
    doc_type = selectors.document_type_for_admin(user, key)
    services.document_type_update(
        actor=user,
        doc_type=doc_type,
        changes=payload.model_dump(exclude_unset=True, exclude_none=True),
        meta=request_meta(request),
    )
    return _admin_type_out(user, key)


@router.post(
    "/document-types/{key}/fields",
    response={201: DocumentTypeOut, **ERRORS},
    operation_id="document_type_field_add",
    url_name="document_type_field_add",
    summary="Add a field to a type (administrators)",
)
def document_type_field_add(
    request: HttpRequest, key: Key, payload: FieldDefIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    services.document_type_field_add(
        actor=user,
        doc_type=selectors.document_type_for_admin(user, key),
        spec=_field_spec(payload),
        meta=request_meta(request),
    )
    return Status(201, _admin_type_out(user, key))


@router.post(
    "/document-types/{key}/statuses",
    response={201: DocumentTypeOut, **ERRORS},
    operation_id="document_type_status_add",
    url_name="document_type_status_add",
    summary="Add a status to a type (administrators)",
)
def document_type_status_add(
    request: HttpRequest, key: Key, payload: StatusDefIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    services.document_type_status_add(
        actor=user,
        doc_type=selectors.document_type_for_admin(user, key),
        spec=_status_spec(payload),
        meta=request_meta(request),
    )
    return Status(201, _admin_type_out(user, key))


@router.delete(
    "/document-types/{key}/statuses/{status}",
    response={204: None, **ERRORS},
    operation_id="document_type_status_remove",
    url_name="document_type_status_remove",
    summary="Remove a status no document is in; never the initial one",
)
def document_type_status_remove(
    request: HttpRequest, key: Key, status: Key
) -> Status[None]:
    user = _user(request)
    services.document_type_status_remove(
        actor=user,
        doc_type=selectors.document_type_for_admin(user, key),
        key=status,
        meta=request_meta(request),
    )
    return Status(204, None)


# --- documents -------------------------------------------------------------------------


@router.get(
    "/documents",
    response=_ok(DocumentListOut),
    operation_id="documents_list",
    url_name="documents_list",
    summary="Documents I may see, newest first (cursor pagination)",
)
def documents_list(
    request: HttpRequest, filters: Query[DocumentFilterIn]
) -> dict[str, Any]:
    wanted = selectors.DocumentFilter(
        doc_type=filters.doc_type,
        status=filters.status,
        counterparty=filters.counterparty,
        created_from=filters.created_from,
        created_to=filters.created_to,
        mine=filters.mine,
        q=filters.q,
        archived=filters.archived,
    )
    with stale_cursor():
        page = selectors.document_list(
            user=_user(request),
            filters=wanted,
            cursor=filters.cursor,
            limit=filters.limit,
        )
    return {
        "items": [document_out(d) for d in page.items],
        "total": page.total,
        "total_approximate": page.approximate,
        "next_cursor": page.next_cursor,
        "snippets": page.extra.get("snippets", {}),
    }


def _detail(user: User, document_id: Id) -> dict[str, Any]:
    card = selectors.document_get(user=user, pk=document_id)
    return document_detail_out(card, can_edit=can_edit(user, card.document))


@router.post(
    "/documents",
    response=_ok(DocumentDetailOut, 201),
    operation_id="document_create",
    url_name="document_create",
    summary="Create a draft document",
)
def document_create(
    request: HttpRequest, payload: DocumentIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    doc_type = selectors.document_type_chosen(user, payload.doc_type)
    document = services.document_create(
        actor=user,
        doc_type=doc_type,
        values=payload.fields,
        files_later=True,
        meta=request_meta(request),
    )
    return Status(201, _detail(user, document.pk))


@router.get(
    "/documents/{document_id}",
    response=_ok(DocumentDetailOut),
    operation_id="document_get",
    url_name="document_get",
    summary="One document with its files",
)
def document_get(request: HttpRequest, document_id: Id) -> dict[str, Any]:
    return _detail(_user(request), document_id)


@router.patch(
    "/documents/{document_id}",
    response=_ok(DocumentDetailOut),
    operation_id="document_update",
    url_name="document_update",
    summary="Change field values of a draft",
)
def document_update(
    request: HttpRequest, document_id: Id, payload: DocumentPatchIn
) -> dict[str, Any]:
    user = _user(request)
    document = access_document(user, document_id)
    services.document_update_fields(
        actor=user,
        document=document,
        values=payload.fields,
        meta=request_meta(request),
    )
    return _detail(user, document_id)


@router.post(
    "/documents/{document_id}/archive",
    response=_ok(DocumentDetailOut),
    operation_id="document_archive",
    url_name="document_archive",
    summary="Archive a document (nothing is erased)",
)
def document_archive(request: HttpRequest, document_id: Id) -> dict[str, Any]:
    user = _user(request)
    document = access_document(user, document_id)
    services.document_archive(actor=user, document=document, meta=request_meta(request))
    return _detail(user, document_id)


# --- files -------------------------------------------------------------------------------


@router.get(
    "/documents/{document_id}/files",
    response=_ok(list[FileOut]),
    operation_id="document_files_list",
    url_name="document_files_list",
    summary="Files of a document with their versions",
)
def document_files_list(request: HttpRequest, document_id: Id) -> list[dict[str, Any]]:
    card = selectors.document_get(user=_user(request), pk=document_id)
    return [file_out(f) for f in card.files]


@router.post(
    "/documents/{document_id}/files",
    response=_ok(FileVersionOut, 201),
    operation_id="document_file_upload",
    url_name="document_file_upload",
    summary="Upload a file, or a new version of a file (multipart/form-data)",
)
def document_file_upload(
    request: HttpRequest,
    document_id: Id,
    file: File[UploadedFile],
    field_key: Form[str] = "",
    file_id: Form[OptionalFormId] = None,
) -> Status[dict[str, Any]]:
    user = _user(request)
    card = selectors.document_get(user=user, pk=document_id)
    existing = None
    if file_id is not None:
        existing = found(
            card.file(file_id), "file_id", _("No such file."), "unknown_file"
        )
    checked = check_upload("file", file.name or "", file, file.size or 0)
    version = services.file_add(
        actor=user,
        document=card.document,
        new=services.NewFile(checked, field_key.strip()),
        file=existing,
        meta=request_meta(request),
    )
    return Status(201, file_version_out(version))


@router.get(
    "/files/{version_id}/download",
    response={302: None, **ERRORS},
    operation_id="file_download",
    url_name="file_download",
    summary="Download one file version: a redirect to a short-lived link",
    description=(
        "Checks that you may see the version, then answers 302 with `Location`: a "
        "link minted now, valid for `SOGLA_DOWNLOAD_LINK_SECONDS` (at most 300 s), "
        "that needs no authentication and serves the bytes as an attachment "
        "(on S3 a presigned URL). Follow redirects (`curl -L`); never store the link."
    ),
    openapi_extra={
        "responses": {
            302: {
                "description": "Redirect to the file's short-lived download link",
                "headers": {
                    "Location": {
                        "description": "The link (relative on the file system, "
                        "absolute on S3)",
                        "schema": {"type": "string"},
                    }
                },
            }
        }
    },
)
def file_download(request: HttpRequest, version_id: Id) -> HttpResponse:
    """Access checked, then a redirect to a link living at most 300 s (T37)."""
    user = _user(request)
    version = selectors.file_version_get(user=user, pk=version_id)
    response = HttpResponseRedirect(download_link(version, user_id=user.pk))
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- counterparties ----------------------------------------------------------------------


@router.get(
    "/counterparties",
    response=_ok(list[CounterpartyOut]),
    operation_id="counterparties_list",
    url_name="counterparties_list",
    summary="Counterparties by name or tax id",
)
def counterparties_list(
    request: HttpRequest,
    q: Query[str] = "",
    limit: Query[Annotated[int, Field(20, ge=1, le=100)]] = 20,
) -> list[dict[str, Any]]:
    parties = selectors.counterparty_search(
        user=_user(request),
        q=q[:200].replace("\x00", ""),
        limit=limit,
    ).prefetch_related("contacts")
    return [counterparty_out(p) for p in parties]


def _contacts(payload: CounterpartyIn) -> list[services.ContactData]:
    return [
        services.ContactData(
            name=c.name, email=c.email, phone=c.phone, position=c.position
        )
        for c in payload.contacts
    ]


@router.post(
    "/counterparties",
    response=_ok(CounterpartyOut, 201),
    operation_id="counterparty_create",
    url_name="counterparty_create",
    summary="Create a counterparty with contacts (duplicates are refused)",
)
def counterparty_create(
    request: HttpRequest, payload: CounterpartyIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    data = services.CounterpartyData(
        name=payload.name,
        tax_id=payload.tax_id,
        kpp=payload.kpp,
        ogrn=payload.ogrn,
        category=payload.category.value,
        address=payload.address,
        note=payload.note,
        contacts=_contacts(payload),
    )
    party = services.counterparty_create(
        actor=user, data=data, meta=request_meta(request)
    )
    return Status(
        201, counterparty_out(selectors.counterparty_get(user=user, pk=party.pk))
    )


@router.get(
    "/counterparties/{counterparty_id}",
    response=_ok(CounterpartyOut),
    operation_id="counterparty_get",
    url_name="counterparty_get",
    summary="One counterparty with its contacts",
)
def counterparty_get(request: HttpRequest, counterparty_id: Id) -> dict[str, Any]:
    return counterparty_out(
        selectors.counterparty_get(user=_user(request), pk=counterparty_id)
    )


@router.patch(
    "/counterparties/{counterparty_id}",
    response=_ok(CounterpartyOut),
    operation_id="counterparty_update",
    url_name="counterparty_update",
    summary="Change a counterparty (absent keys keep their values)",
)
def counterparty_update(
    request: HttpRequest, counterparty_id: Id, payload: CounterpartyPatchIn
) -> dict[str, Any]:
    user = _user(request)
    party = selectors.counterparty_get(user=user, pk=counterparty_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    category = changes.get("category", party.category)
    data = services.CounterpartyData(
        name=changes.get("name", party.name),
        tax_id=changes.get("tax_id", party.tax_id),
        kpp=changes.get("kpp", party.kpp),
        ogrn=changes.get("ogrn", party.ogrn),
        category=getattr(category, "value", category),
        address=changes.get("address", party.address),
        note=changes.get("note", party.note),
    )
    services.counterparty_update(
        actor=user, counterparty=party, data=data, meta=request_meta(request)
    )
    return counterparty_out(selectors.counterparty_get(user=user, pk=counterparty_id))
