"""What a document is called and where it is filed: its number from the type's
yearly sequence, its title and search text from the type's templates, and the folder
of the type's folder rule (created on first use)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db.models import F
from django.utils import timezone, translation

from sogla.documents import naming
from sogla.documents.fields import display_value
from sogla.documents.models import (
    Document,
    DocumentType,
    FieldDef,
    FieldKind,
    Folder,
    NumberSequence,
    fold,
)
from sogla.orgs.models import Organisation, User


def folder_ensure(*, organisation: Organisation | int, path: str) -> Folder | None:
    """The folder at ``path``, creating it and its parents on first use."""
    clean = naming.safe_folder_path(path)
    if not clean:
        return None
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    parent: Folder | None = None
    parts = clean.split("/")
    for depth in range(len(parts)):
        sub_path = "/".join(parts[: depth + 1])
        parent, _created = Folder.objects.get_or_create(
            organisation_id=org_id,
            path=sub_path[:1000],
            defaults={"name": parts[depth][:200], "parent": parent},
        )
    return parent


def next_number(
    *, doc_type: DocumentType, at: datetime, department_code: str = ""
) -> str:
    """Take the next number of the type's yearly sequence.

    The UPDATE locks the sequence row until the caller's transaction ends, so
    concurrent creations queue; a rolled-back creation gives its number back.
    Numbers are therefore unique and gap-free.
    """
    local = timezone.localtime(at)
    sequence, _created = NumberSequence.objects.get_or_create(
        organisation_id=doc_type.organisation_id, doc_type=doc_type, year=local.year
    )
    NumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    value = NumberSequence.objects.values_list("last_value", flat=True).get(
        pk=sequence.pk
    )
    return naming.render(
        doc_type.numbering_pattern,
        {
            "prefix": doc_type.prefix,
            "yyyy": f"{local.year:04d}",
            "yy": f"{local.year % 100:02d}",
            "mm": f"{local.month:02d}",
            "seq": value,
            "department": department_code,
        },
    )


def _naming_values(
    document: Document, fields: Sequence[FieldDef], users: Mapping[int, str]
) -> dict[str, object]:
    values: dict[str, object] = {
        "number": document.number,
        "type": document.doc_type.name,
        "counterparty": document.counterparty.name if document.counterparty else "",
        "initiator": document.initiator.short_name,
        "department": document.department.name if document.department else "",
        "yyyy": f"{timezone.localtime(document.created_at).year}",
    }
    for f in fields:
        value = document.fields.get(f.key)
        if f.kind == FieldKind.USER and value is not None:
            values[f.key] = users.get(value, "")
        elif f.kind == FieldKind.COUNTERPARTY:
            values[f.key] = values["counterparty"]
        elif f.kind not in (FieldKind.USERS, FieldKind.FILE):
            values[f.key] = display_value(f, value)
    return values


def naming_values(document: Document) -> dict[str, object]:
    """The values titles and folder rules render (``naming.render``) for a document.

    The same values as the type's title template: number, type, counterparty,
    initiator, department and every field shown as on the card, in the
    organisation's language. The caller may add more (the workflow's filing adds
    ``{<user field>.department}``).
    """
    fields = list(FieldDef.objects.filter(doc_type_id=document.doc_type_id))
    users = _user_names(document, fields)
    with translation.override(document.organisation.language):
        return _naming_values(document, fields, users)


def _user_names(document: Document, fields: Sequence[FieldDef]) -> dict[int, str]:
    user_ids = [
        document.fields[f.key]
        for f in fields
        if f.kind == FieldKind.USER and document.fields.get(f.key) is not None
    ]
    if not user_ids:
        return {}
    return {u.pk: u.short_name for u in User.objects.filter(pk__in=user_ids)}


def apply_naming(document: Document, fields: Sequence[FieldDef]) -> None:
    users = _user_names(document, fields)
    with translation.override(document.organisation.language):
        values = _naming_values(document, fields, users)
        title = naming.render(document.doc_type.title_template, values)
        document.title = (title or document.number)[:500]
        document.search_text = fold(
            " ".join([document.number, document.title, *map(str, values.values())])
        )
        if document.doc_type.folder_rule and document.folder_id is None:
            document.folder = folder_ensure(
                organisation=document.organisation_id,
                path=naming.render(document.doc_type.folder_rule, values),
            )
