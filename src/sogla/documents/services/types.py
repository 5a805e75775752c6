"""Commands that set up document types: create a type with its fields and statuses,
change its settings, add a field or a status, remove a status.

The checks the settings screen, the API and the template library share: field keys
and kinds, choice lists, ``required_when`` over known fields, one initial status, the
placeholders of numbering, title and folder rule. A type created without statuses
gets the usual six (draft … cancelled); its initial status cannot be removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.documents import naming
from sogla.documents.models import (
    Document,
    DocumentType,
    FieldDef,
    FieldKind,
    StatusDef,
    StatusMeaning,
    StatusToken,
)
from sogla.documents.services._shared import org_id_of
from sogla.engine.conditions import parse_condition, referenced_fields
from sogla.orgs.models import User

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,59}$"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label_ru: str
    label_en: str
    kind: str
    required: bool = False
    required_when: Mapping[str, Any] | None = None
    choices: Sequence[Mapping[str, str]] = ()
    help_ru: str = ""
    help_en: str = ""
    show_in_registry: bool = False


@dataclass(frozen=True)
class StatusSpec:
    key: str
    name_ru: str
    name_en: str
    meaning: str
    token: str
    initial: bool = False


@dataclass(frozen=True)
class TypeSpec:
    key: str
    name_ru: str
    name_en: str
    prefix: str = ""
    numbering_pattern: str = "{prefix}-{yyyy}-{seq:05}"
    title_template: str = "{type} {number}"
    folder_rule: str = ""
    has_files: bool = True
    confidential: bool = False
    description_ru: str = ""
    description_en: str = ""
    fields: Sequence[FieldSpec] = ()
    statuses: Sequence[StatusSpec] = ()


#: The statuses a new type starts with when none are given.
DEFAULT_STATUSES: tuple[StatusSpec, ...] = (
    StatusSpec("draft", "Черновик", "Draft", "draft", "neutral", initial=True),
    StatusSpec("on_approval", "На согласовании", "On approval", "active", "active"),
    StatusSpec(
        "returned", "На доработке", "Returned for revision", "active", "returned"
    ),
    StatusSpec("approved", "Согласован", "Approved", "success", "approved"),
    StatusSpec("rejected", "Отклонён", "Rejected", "failure", "rejected"),
    StatusSpec("cancelled", "Отменён", "Cancelled", "failure", "cancelled"),
)

#: The settings of a type that ``document_type_update`` may change.
TYPE_SETTINGS = frozenset(
    {
        "name_ru", "name_en", "prefix", "numbering_pattern", "title_template",
        "folder_rule", "has_files", "confidential", "description_ru",
        "description_en", "is_active",
    }
)  # fmt: skip


def _admin_org(actor: User) -> int:
    org_id = org_id_of(actor)
    if not is_org_admin(actor):
        raise PermissionDenied(_("Only an administrator can change document types."))
    return org_id


def _valid_key(key: str) -> bool:
    return re.fullmatch(KEY_PATTERN, key) is not None


# --- checks ---------------------------------------------------------------------------


def field_problems(
    fields: Sequence[FieldSpec], known: Iterable[str] = ()
) -> list[FieldProblem]:
    """Problems of a list of fields (``known``: keys of the type's other fields)."""
    problems: list[FieldProblem] = []
    keys = {f.key for f in fields} | set(known)
    seen: set[str] = set(known)
    for index, f in enumerate(fields):
        where = f"fields[{index}]"
        if not _valid_key(f.key):
            problems.append(
                FieldProblem(
                    f"{where}.key",
                    "invalid",
                    _("A key is lowercase latin letters, digits and _, from a letter."),
                )
            )
        if f.key in seen:
            problems.append(
                FieldProblem(
                    f"{where}.key",
                    "duplicate",
                    _("The field key “%(key)s” repeats.") % {"key": f.key},
                )
            )
        seen.add(f.key)
        if not (f.label_ru.strip() or f.label_en.strip()):
            problems.append(
                FieldProblem(f"{where}.label_ru", "required", _("Name the field."))
            )
        if f.kind not in FieldKind.values:
            problems.append(
                FieldProblem(
                    f"{where}.kind",
                    "invalid",
                    _("Unknown field kind “%(kind)s”.") % {"kind": f.kind},
                )
            )
        if f.kind == FieldKind.CHOICE and not f.choices:
            problems.append(
                FieldProblem(
                    f"{where}.choices",
                    "required",
                    _("A choice field needs at least one choice."),
                )
            )
        if f.required_when is not None:
            problems += _condition_problems(f"{where}.required_when", f, keys)
    return problems


def _condition_problems(where: str, f: FieldSpec, keys: set[str]) -> list[FieldProblem]:
    try:
        condition = parse_condition(dict(f.required_when or {}))
    except PydanticValidationError:
        return [FieldProblem(where, "invalid", _("The condition is not valid."))]
    return [
        FieldProblem(
            where,
            "unknown_field",
            _("The condition reads an unknown field “%(key)s”.") % {"key": name},
        )
        for name in sorted(referenced_fields(condition) - keys)
    ]


def status_problems(statuses: Sequence[StatusSpec]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for index, s in enumerate(statuses):
        where = f"statuses[{index}]"
        if not _valid_key(s.key):
            problems.append(
                FieldProblem(
                    f"{where}.key",
                    "invalid",
                    _("A key is lowercase latin letters, digits and _, from a letter."),
                )
            )
        if s.key in seen:
            problems.append(
                FieldProblem(
                    f"{where}.key",
                    "duplicate",
                    _("The status key “%(key)s” repeats.") % {"key": s.key},
                )
            )
        seen.add(s.key)
        if s.meaning not in StatusMeaning.values:
            problems.append(
                FieldProblem(f"{where}.meaning", "invalid", _("Unknown meaning."))
            )
        if s.token not in StatusToken.values:
            problems.append(
                FieldProblem(f"{where}.token", "invalid", _("Unknown colour."))
            )
    if statuses and sum(s.initial for s in statuses) != 1:
        problems.append(
            FieldProblem(
                "statuses", "initial", _("Exactly one status must be the initial one.")
            )
        )
    return problems


def template_problems(
    *,
    numbering_pattern: str,
    title_template: str,
    folder_rule: str,
    field_keys: Iterable[str],
) -> list[FieldProblem]:
    problems = [
        FieldProblem(
            "numbering_pattern",
            "unknown_placeholder",
            _("Unknown placeholder {%(name)s}.") % {"name": name},
        )
        for name in sorted(
            naming.unknown_placeholders(numbering_pattern, naming.NUMBER_PLACEHOLDERS)
        )
    ]
    if "{seq" not in numbering_pattern:
        problems.append(
            FieldProblem(
                "numbering_pattern",
                "no_sequence",
                _("The numbering pattern needs {seq} so that numbers differ."),
            )
        )
    known = naming.TITLE_BUILTINS | {"yyyy"} | set(field_keys)
    for name, template in (
        ("title_template", title_template),
        ("folder_rule", folder_rule),
    ):
        problems += [
            FieldProblem(
                name,
                "unknown_placeholder",
                _("Unknown placeholder {%(name)s}.") % {"name": unknown},
            )
            for unknown in sorted(naming.unknown_placeholders(template, known))
        ]
    return problems


def type_problems(spec: TypeSpec) -> list[FieldProblem]:
    """Every problem of a new type's settings, fields and statuses."""
    problems: list[FieldProblem] = []
    if not _valid_key(spec.key):
        problems.append(
            FieldProblem(
                "key",
                "invalid",
                _("A key is lowercase latin letters, digits and _, from a letter."),
            )
        )
    if not (spec.name_ru.strip() or spec.name_en.strip()):
        problems.append(FieldProblem("name_ru", "required", _("Name the type.")))
    problems += field_problems(spec.fields)
    problems += status_problems(spec.statuses)
    problems += template_problems(
        numbering_pattern=spec.numbering_pattern,
        title_template=spec.title_template,
        folder_rule=spec.folder_rule,
        field_keys=[f.key for f in spec.fields],
    )
    return problems


# --- commands -------------------------------------------------------------------------


def _field_row(
    org_id: int, doc_type: DocumentType, f: FieldSpec, order: int
) -> FieldDef:
    return FieldDef(
        organisation_id=org_id,
        doc_type=doc_type,
        key=f.key,
        label_ru=f.label_ru or f.label_en,
        label_en=f.label_en or f.label_ru,
        kind=f.kind,
        required=f.required,
        required_when=dict(f.required_when) if f.required_when else None,
        choices=[dict(c) for c in f.choices],
        help_ru=f.help_ru,
        help_en=f.help_en,
        order=order,
        show_in_registry=f.show_in_registry,
    )


def _status_row(
    org_id: int, doc_type: DocumentType, s: StatusSpec, order: int
) -> StatusDef:
    return StatusDef(
        organisation_id=org_id,
        doc_type=doc_type,
        key=s.key,
        name_ru=s.name_ru or s.name_en,
        name_en=s.name_en or s.name_ru,
        meaning=s.meaning,
        token=s.token,
        is_initial=s.initial,
        order=order,
    )


@transaction.atomic
def document_type_create(
    *,
    actor: User | None,
    spec: TypeSpec,
    organisation_id: int | None = None,
    meta: RequestMeta | None = None,
) -> DocumentType:
    """A new type with its fields and statuses (the usual set when none are given).

    ``actor`` is an administrator of their organisation; without one (the demo, a
    command run by the server's owner) ``organisation_id`` names the organisation.
    """
    if actor is not None:
        org_id = _admin_org(actor)
    elif organisation_id is not None:
        org_id = organisation_id
    else:
        raise PermissionDenied(_("Only an administrator can change document types."))
    problems = type_problems(spec)
    if DocumentType.objects.filter(organisation_id=org_id, key=spec.key).exists():
        problems.append(
            FieldProblem(
                "key",
                "taken",
                _("A document type with the key “%(key)s” exists already.")
                % {"key": spec.key},
            )
        )
    if problems:
        raise ValidationFailed(problems)
    order = (
        DocumentType.objects.filter(organisation_id=org_id).aggregate(m=Max("order"))[
            "m"
        ]
        or 0
    ) + 1
    doc_type = DocumentType.objects.create(
        organisation_id=org_id,
        key=spec.key,
        name_ru=spec.name_ru or spec.name_en,
        name_en=spec.name_en or spec.name_ru,
        prefix=spec.prefix,
        numbering_pattern=spec.numbering_pattern,
        title_template=spec.title_template,
        folder_rule=spec.folder_rule,
        has_files=spec.has_files,
        confidential=spec.confidential,
        description_ru=spec.description_ru,
        description_en=spec.description_en,
        order=order,
    )
    FieldDef.objects.bulk_create(
        _field_row(org_id, doc_type, f, index) for index, f in enumerate(spec.fields)
    )
    statuses = spec.statuses or DEFAULT_STATUSES
    # One by one, not in bulk: saving a status tells the caches that keep a type's
    # statuses (workflow's tenant cache) to forget what they hold for this type id.
    for index, s in enumerate(statuses):
        _status_row(org_id, doc_type, s, index).save()
    audit_record(
        organisation_id=org_id,
        verb="doctype.created",
        actor=actor,
        actor_label="" if actor is not None else "system",
        target_type="doctype",
        target_id=doc_type.pk,
        payload={
            "key": spec.key,
            "fields": [f.key for f in spec.fields],
            "statuses": [s.key for s in statuses],
        },
        request_meta=meta,
    )
    return doc_type


def _locked_type(actor: User, doc_type: DocumentType) -> tuple[int, DocumentType]:
    org_id = _admin_org(actor)
    found = (
        DocumentType.objects.select_for_update()
        .filter(pk=doc_type.pk, organisation_id=org_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return org_id, found


@transaction.atomic
def document_type_update(
    *,
    actor: User,
    doc_type: DocumentType,
    changes: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> DocumentType:
    """Change a type's names, numbering, title, folder rule and flags."""
    org_id, doc_type = _locked_type(actor, doc_type)
    unknown = set(changes) - TYPE_SETTINGS
    if unknown:
        raise ValidationFailed(
            FieldProblem(name, "unknown", _("This setting cannot be changed."))
            for name in sorted(unknown)
        )
    new = {name: changes.get(name, getattr(doc_type, name)) for name in TYPE_SETTINGS}
    problems = template_problems(
        numbering_pattern=new["numbering_pattern"],
        title_template=new["title_template"],
        folder_rule=new["folder_rule"],
        field_keys=FieldDef.objects.filter(doc_type=doc_type).values_list(
            "key", flat=True
        ),
    )
    if not (str(new["name_ru"]).strip() or str(new["name_en"]).strip()):
        problems.append(FieldProblem("name_ru", "required", _("Name the type.")))
    if problems:
        raise ValidationFailed(problems)
    changed = {
        name: {"old": getattr(doc_type, name), "new": value}
        for name, value in new.items()
        if getattr(doc_type, name) != value
    }
    for name in changed:
        setattr(doc_type, name, new[name])
    if changed:
        doc_type.save(update_fields=sorted(changed))
        audit_record(
            organisation_id=org_id,
            verb="doctype.changed",
            actor=actor,
            target_type="doctype",
            target_id=doc_type.pk,
            payload={"key": doc_type.key, "changes": changed},
            request_meta=meta,
        )
    return doc_type


@transaction.atomic
def document_type_field_add(
    *,
    actor: User,
    doc_type: DocumentType,
    spec: FieldSpec,
    meta: RequestMeta | None = None,
) -> FieldDef:
    org_id, doc_type = _locked_type(actor, doc_type)
    existing = list(
        FieldDef.objects.filter(doc_type=doc_type).values_list("key", flat=True)
    )
    problems = field_problems([spec], known=existing)
    if problems:
        raise ValidationFailed(
            FieldProblem(p.field.removeprefix("fields[0]."), p.code, p.message)
            for p in problems
        )
    row = _field_row(org_id, doc_type, spec, len(existing))
    row.save()
    audit_record(
        organisation_id=org_id,
        verb="doctype.field_added",
        actor=actor,
        target_type="doctype",
        target_id=doc_type.pk,
        payload={"key": doc_type.key, "field": spec.key, "kind": spec.kind},
        request_meta=meta,
    )
    return row


@transaction.atomic
def document_type_status_add(
    *,
    actor: User,
    doc_type: DocumentType,
    spec: StatusSpec,
    meta: RequestMeta | None = None,
) -> StatusDef:
    org_id, doc_type = _locked_type(actor, doc_type)
    existing = list(StatusDef.objects.filter(doc_type=doc_type))
    problems = status_problems(
        [
            *(
                StatusSpec(
                    s.key, s.name_ru, s.name_en, s.meaning, s.token, s.is_initial
                )
                for s in existing
            ),
            spec,
        ]
    )
    if spec.initial or not (spec.name_ru.strip() or spec.name_en.strip()):
        problems.append(
            FieldProblem(
                "initial" if spec.initial else "name_ru",
                "invalid",
                _("Name the status; the type has its initial status already.")
                if spec.initial
                else _("Name the status."),
            )
        )
    if problems:
        raise ValidationFailed(
            FieldProblem(
                "key" if p.code == "duplicate" else p.field.split(".")[-1],
                p.code,
                p.message,
            )
            for p in problems
        )
    row = _status_row(org_id, doc_type, spec, len(existing))
    row.save()
    audit_record(
        organisation_id=org_id,
        verb="doctype.status_added",
        actor=actor,
        target_type="doctype",
        target_id=doc_type.pk,
        payload={"key": doc_type.key, "status": spec.key},
        request_meta=meta,
    )
    return row


@transaction.atomic
def document_type_status_remove(
    *, actor: User, doc_type: DocumentType, key: str, meta: RequestMeta | None = None
) -> None:
    """Remove a status no document has; the initial status always stays."""
    org_id, doc_type = _locked_type(actor, doc_type)
    status = StatusDef.objects.filter(doc_type=doc_type, key=key).first()
    if status is None:
        raise NotFound()
    if status.is_initial:
        raise ValidationFailed(
            [
                FieldProblem(
                    "key",
                    "initial",
                    _(
                        "The initial status cannot be removed: new documents start in it."
                    ),
                )
            ]
        )
    if Document.objects.filter(doc_type=doc_type, status=status).exists():
        raise ValidationFailed(
            [
                FieldProblem(
                    "key",
                    "in_use",
                    _("Documents are in this status; it cannot be removed."),
                )
            ]
        )
    status.delete()
    audit_record(
        organisation_id=org_id,
        verb="doctype.status_removed",
        actor=actor,
        target_type="doctype",
        target_id=doc_type.pk,
        payload={"key": doc_type.key, "status": key},
        request_meta=meta,
    )
