"""Commands on counterparties: create and update, refusing duplicates by tax id or
by normalised name, each audited in its transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.core.errors import (
    NOT_FOUND_MESSAGE,
    FieldProblem,
    PermissionDenied,
    ValidationFailed,
)
from sogla.core.request_meta import RequestMeta
from sogla.documents import tax_ids
from sogla.documents.counterparties import normalize_name
from sogla.documents.models import Contact, Counterparty, CounterpartyCategory
from sogla.documents.services._shared import changes_between, org_id_of
from sogla.documents.services.search import search_mark
from sogla.orgs.models import User


@dataclass
class ContactData:
    name: str
    email: str = ""
    phone: str = ""
    position: str = ""


@dataclass
class CounterpartyData:
    name: str
    tax_id: str = ""
    category: str = CounterpartyCategory.CUSTOMER
    kpp: str = ""
    ogrn: str = ""
    address: str = ""
    note: str = ""
    contacts: list[ContactData] = field(default_factory=list)


def _clean_counterparty(
    data: CounterpartyData,
) -> tuple[str, str, str, list[FieldProblem]]:
    problems: list[FieldProblem] = []
    name = " ".join(data.name.split())
    if not name:
        problems.append(FieldProblem("name", "required", _("This field is required.")))
    elif len(name) > 300:
        problems.append(FieldProblem("name", "too_long", _("At most 300 characters.")))
    tax_id = tax_ids.compact(data.tax_id)
    problems += _registration_problems(tax_id, data)
    if data.category not in CounterpartyCategory.values:
        problems.append(FieldProblem("category", "invalid", _("Choose a category.")))
    for index, contact in enumerate(data.contacts):
        if not contact.name.strip():
            problems.append(
                FieldProblem(
                    f"contacts[{index}].name", "required", _("This field is required.")
                )
            )
        if contact.email and not re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", contact.email
        ):
            problems.append(
                FieldProblem(
                    f"contacts[{index}].email", "invalid", _("Enter a valid e-mail.")
                )
            )
    return name, tax_id, normalize_name(name), problems


def _registration_problems(tax_id: str, data: CounterpartyData) -> list[FieldProblem]:
    return registration_problems(tax_id, data.kpp, data.ogrn)


def registration_problems(tax_id: str, kpp: str, ogrn: str) -> list[FieldProblem]:
    """INN, KPP and OGRN: their form and check digits, each with what to do."""
    problems: list[FieldProblem] = []
    tax_id = tax_ids.compact(tax_id)
    kpp, ogrn = tax_ids.compact(kpp).upper(), tax_ids.compact(ogrn)
    inn = tax_ids.inn_problem(tax_id) if tax_id else ""
    if inn == "length":
        problems.append(
            FieldProblem(
                "tax_id",
                "invalid",
                _("A tax id (INN) has 10 digits for a company or 12 for a person."),
            )
        )
    elif inn == "checksum":
        problems.append(
            FieldProblem(
                "tax_id",
                "checksum",
                _(
                    "The check digit of this tax id (INN) does not match: one of the "
                    "digits is mistyped. Copy it from the counterparty's documents."
                ),
            )
        )
    if kpp and tax_ids.kpp_problem(kpp):
        problems.append(
            FieldProblem(
                "kpp",
                "invalid",
                _(
                    "A KPP has 9 characters: 4 digits, 2 digits or capital Latin "
                    "letters, 3 digits."
                ),
            )
        )
    elif kpp and len(tax_id) == 12:
        problems.append(
            FieldProblem(
                "kpp",
                "invalid",
                _("A KPP is issued only to organisations (a 10-digit INN)."),
            )
        )
    ogrn_state = tax_ids.ogrn_problem(ogrn) if ogrn else ""
    if ogrn_state == "length":
        problems.append(
            FieldProblem(
                "ogrn",
                "invalid",
                _("An OGRN has 13 digits (an OGRNIP of a sole trader has 15)."),
            )
        )
    elif ogrn_state == "checksum":
        problems.append(
            FieldProblem(
                "ogrn",
                "checksum",
                _(
                    "The check digit of this OGRN does not match: one of the digits "
                    "is mistyped. Copy it from the counterparty's documents."
                ),
            )
        )
    return problems


def _duplicate_problems(
    org_id: int, tax_id: str, normalized: str, exclude: int | None
) -> list[FieldProblem]:
    others = Counterparty.objects.for_org(org_id)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if tax_id:
        same = others.filter(tax_id=tax_id).first()
        if same is not None:
            return [
                FieldProblem(
                    "tax_id",
                    "duplicate",
                    _("A counterparty with this tax id already exists: %(name)s.")
                    % {"name": same.name},
                )
            ]
        return []
    same = others.filter(normalized_name=normalized, tax_id="").first()
    if same is not None:
        return [
            FieldProblem(
                "name",
                "duplicate",
                _("It looks like this counterparty already exists: %(name)s.")
                % {"name": same.name},
            )
        ]
    return []


def _counterparty_state(party: Counterparty) -> dict[str, str]:
    return {
        "name": party.name,
        "tax_id": party.tax_id,
        "kpp": party.kpp,
        "ogrn": party.ogrn,
        "category": party.category,
        "address": party.address,
        "note": party.note,
    }


@transaction.atomic
def counterparty_create(
    *, actor: User, data: CounterpartyData, meta: RequestMeta | None = None
) -> Counterparty:
    """Create a counterparty; refuses a duplicate tax id or name with the field named."""
    org_id = org_id_of(actor)
    name, tax_id, normalized, problems = _clean_counterparty(data)
    problems += _duplicate_problems(org_id, tax_id, normalized, None)
    if problems:
        raise ValidationFailed(problems)
    try:
        with transaction.atomic():
            party = Counterparty.objects.create(
                organisation_id=org_id,
                name=name,
                normalized_name=normalized,
                tax_id=tax_id,
                kpp=tax_ids.compact(data.kpp).upper(),
                ogrn=tax_ids.compact(data.ogrn),
                category=data.category,
                address=data.address.strip()[:500],
                note=data.note.strip(),
            )
    except IntegrityError:  # a concurrent create of the same counterparty
        raise ValidationFailed(
            _duplicate_problems(org_id, tax_id, normalized, None)
            or [
                FieldProblem(
                    "name", "duplicate", _("This counterparty already exists.")
                )
            ]
        ) from None
    Contact.objects.bulk_create(
        Contact(
            organisation_id=org_id,
            counterparty=party,
            name=c.name.strip(),
            email=c.email.strip(),
            phone=c.phone.strip(),
            position=c.position.strip(),
        )
        for c in data.contacts
    )
    audit_record(
        organisation_id=org_id,
        verb="counterparty.created",
        actor=actor,
        target_type="counterparty",
        target_id=party.pk,
        payload={**_counterparty_state(party), "contacts": len(data.contacts)},
        request_meta=meta,
    )
    return party


@transaction.atomic
def counterparty_update(
    *,
    actor: User,
    counterparty: Counterparty,
    data: CounterpartyData,
    meta: RequestMeta | None = None,
) -> Counterparty:
    org_id = org_id_of(actor)
    if counterparty.organisation_id != org_id:
        raise PermissionDenied(NOT_FOUND_MESSAGE)
    name, tax_id, normalized, problems = _clean_counterparty(data)
    # A number stored before check digits were checked may stay while other
    # details change; a new one must be right.
    kept = {
        "tax_id": tax_id == counterparty.tax_id,
        "kpp": tax_ids.compact(data.kpp).upper() == counterparty.kpp,
        "ogrn": tax_ids.compact(data.ogrn) == counterparty.ogrn,
    }
    problems = [p for p in problems if not (p.code == "checksum" and kept[p.field])]
    problems += _duplicate_problems(org_id, tax_id, normalized, counterparty.pk)
    if problems:
        raise ValidationFailed(problems)
    before = _counterparty_state(counterparty)
    counterparty.name = name
    counterparty.tax_id = tax_id
    counterparty.kpp = tax_ids.compact(data.kpp).upper()
    counterparty.ogrn = tax_ids.compact(data.ogrn)
    counterparty.normalized_name = normalized
    counterparty.category = data.category
    counterparty.address = data.address.strip()[:500]
    counterparty.note = data.note.strip()
    counterparty.save()
    changes = changes_between(before, _counterparty_state(counterparty))
    if {"name", "tax_id"} & set(changes):
        search_mark(counterparty.documents.values_list("pk", flat=True))
    if changes:
        audit_record(
            organisation_id=org_id,
            verb="counterparty.updated",
            actor=actor,
            target_type="counterparty",
            target_id=counterparty.pk,
            payload={"changes": changes},
            request_meta=meta,
        )
    return counterparty
