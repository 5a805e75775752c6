"""Factories for the organisation and document models; every row is tenant-scoped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import factory
from factory.django import DjangoModelFactory

from sogla.documents.models import (
    Counterparty,
    DocumentType,
    FieldDef,
    FieldKind,
    StatusDef,
    StatusMeaning,
)
from sogla.documents.services import normalize_name
from sogla.orgs.models import Department, Organisation, Role, User

M = TypeVar("M")


class ModelFactory(DjangoModelFactory[M]):
    """A factory whose call is typed as the model it builds (``UserFactory()`` is a User).

    factory_boy types ``create()`` but not the class call, which mypy would otherwise
    read as an instance of the factory.
    """

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # mypy wants __new__ to return the class; the factory returns the model.
        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]


class OrganisationFactory(ModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class DepartmentFactory(ModelFactory[Department]):
    class Meta:
        model = Department

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"dep-{n}")


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("secret-pass-123")


class RoleFactory(ModelFactory[Role]):
    class Meta:
        model = Role

    organisation = factory.SubFactory(OrganisationFactory)
    key = factory.Sequence(lambda n: f"role-{n}")
    name_ru = factory.Sequence(lambda n: f"Роль {n}")
    name_en = factory.Sequence(lambda n: f"Role {n}")


class CounterpartyFactory(ModelFactory[Counterparty]):
    class Meta:
        model = Counterparty

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Romashka {n}")
    normalized_name = factory.LazyAttribute(lambda c: normalize_name(c.name))
    tax_id = factory.Sequence(lambda n: f"{7700000000 + n}")


class DocumentTypeFactory(ModelFactory[DocumentType]):
    class Meta:
        model = DocumentType
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    key = factory.Sequence(lambda n: f"type-{n}")
    name_ru = "Договор"
    name_en = "Contract"
    prefix = "D"
    title_template = "{type} {number} {subject}"

    @factory.post_generation
    def statuses(
        obj: DocumentType, create: bool, _extracted: Any, **kwargs: Any
    ) -> None:  # factory_boy passes the built model
        if not create:
            return
        for order, (key, meaning, token) in enumerate(
            [
                ("draft", StatusMeaning.DRAFT, "neutral"),
                ("on_approval", StatusMeaning.ACTIVE, "active"),
                ("approved", StatusMeaning.SUCCESS, "approved"),
            ]
        ):
            StatusDef.objects.create(
                organisation=obj.organisation,
                doc_type=obj,
                key=key,
                name_ru=key,
                name_en=key.replace("_", " ").capitalize(),
                meaning=meaning,
                token=token,
                is_initial=order == 0,
                order=order,
            )


def add_field(
    doc_type: DocumentType, key: str, kind: str = FieldKind.STRING, **extra: Any
) -> FieldDef:
    order = doc_type.fields.count()
    return FieldDef.objects.create(
        organisation=doc_type.organisation,
        doc_type=doc_type,
        key=key,
        label_ru=extra.pop("label_ru", key),
        label_en=extra.pop("label_en", key.replace("_", " ").capitalize()),
        kind=kind,
        order=order,
        **extra,
    )
