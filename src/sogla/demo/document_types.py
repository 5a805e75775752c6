"""Loading the demo document types: their fields and statuses, checked first as an
administrator's form would check them. A type that exists already is left as it is
(its sample documents too)."""

from __future__ import annotations

from pydantic import ValidationError as PydanticValidationError

from sogla.demo.loading import DemoDataError, Loading
from sogla.documents import naming
from sogla.documents.models import (
    DocumentType,
    FieldDef,
    FieldKind,
    StatusDef,
    StatusMeaning,
    StatusToken,
)
from sogla.engine.conditions import parse_condition, referenced_fields
from sogla.starter.library import DocumentTypeIn


def load_document_types(loading: Loading) -> None:
    """The organisation's own types (the library's come with their templates)."""
    for doc_type in loading.data.document_types:
        if loading.data.own_type(doc_type.key):
            _document_type(loading, doc_type)


def _document_type(loading: Loading, data: DocumentTypeIn) -> None:
    if DocumentType.objects.for_org(loading.org).filter(key=data.key).exists():
        return
    check_document_type(data)
    doc_type = DocumentType.objects.create(
        organisation=loading.org,
        key=data.key,
        name_ru=data.name_ru,
        name_en=data.name_en,
        prefix=data.prefix,
        numbering_pattern=data.numbering_pattern,
        title_template=data.title_template,
        folder_rule=data.folder_rule,
        has_files=data.has_files,
        confidential=data.confidential,
        description_ru=data.description_ru,
        description_en=data.description_en,
        order=len(loading.new_types) + 1,
    )
    department_choices = [
        {
            "value": code,
            "ru": department.name,
            "en": department.name_en or department.name,
        }
        for code, department in loading.departments.items()
    ]
    FieldDef.objects.bulk_create(
        FieldDef(
            organisation=loading.org,
            doc_type=doc_type,
            key=f.key,
            label_ru=f.label_ru,
            label_en=f.label_en,
            kind=f.kind,
            required=f.required,
            required_when=f.required_when,
            choices=(
                department_choices
                if f.choices_from == "departments"
                else [c.model_dump() for c in f.choices]
            ),
            help_ru=f.help_ru,
            help_en=f.help_en,
            order=order,
            show_in_registry=f.show_in_registry,
        )
        for order, f in enumerate(data.fields)
    )
    StatusDef.objects.bulk_create(
        StatusDef(
            organisation=loading.org,
            doc_type=doc_type,
            key=s.key,
            name_ru=s.name_ru,
            name_en=s.name_en,
            meaning=s.meaning,
            token=s.token,
            is_initial=s.initial,
            order=order,
        )
        for order, s in enumerate(data.statuses)
    )
    loading.new_types[data.key] = doc_type
    loading.created["document types"] += 1


def check_document_type(data: DocumentTypeIn) -> None:
    """The checks an administrator's form would make, applied to the demo data."""
    problems = [
        *_field_problems(data),
        *_status_problems(data),
        *_template_problems(data),
    ]
    if problems:
        raise DemoDataError(f"document type {data.key}: " + "; ".join(problems))


def _field_problems(data: DocumentTypeIn) -> list[str]:
    problems: list[str] = []
    keys = {f.key for f in data.fields}
    if len(keys) != len(data.fields):
        problems.append("field keys repeat")
    for f in data.fields:
        if f.kind not in FieldKind.values:
            problems.append(f"{f.key}: unknown kind {f.kind}")
        if f.kind == FieldKind.CHOICE and not (f.choices or f.choices_from):
            problems.append(f"{f.key}: a choice field without choices")
        if f.required_when is not None:
            try:
                condition = parse_condition(f.required_when)
            except PydanticValidationError as error:
                problems.append(f"{f.key}: bad condition: {error}")
            else:
                problems += [
                    f"{f.key}: condition reads unknown field {name}"
                    for name in referenced_fields(condition) - keys
                ]
    return problems


def _status_problems(data: DocumentTypeIn) -> list[str]:
    problems: list[str] = []
    statuses = {s.key for s in data.statuses}
    if len(statuses) != len(data.statuses):
        problems.append("status keys repeat")
    if sum(s.initial for s in data.statuses) != 1:
        problems.append("exactly one status must be initial")
    problems += [
        f"status {s.key}: unknown meaning or colour"
        for s in data.statuses
        if s.meaning not in StatusMeaning.values or s.token not in StatusToken.values
    ]
    return problems


def _template_problems(data: DocumentTypeIn) -> list[str]:
    problems = [
        f"numbering pattern: unknown {{{name}}}"
        for name in naming.unknown_placeholders(
            data.numbering_pattern, naming.NUMBER_PLACEHOLDERS
        )
    ]
    known = naming.TITLE_BUILTINS | {"yyyy"} | {f.key for f in data.fields}
    for what, template in (
        ("title", data.title_template),
        ("folder", data.folder_rule),
    ):
        problems += [
            f"{what} template: unknown {{{name}}}"
            for name in naming.unknown_placeholders(template, known)
        ]
    return problems
