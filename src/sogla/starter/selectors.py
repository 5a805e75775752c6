"""What the template library screen shows: each template, whether the organisation
installed it (and as which type), whether its type key is taken by a type of the
organisation's own, and the people who could hold its roles."""

from __future__ import annotations

from dataclasses import dataclass

from sogla.documents.models import DocumentType
from sogla.orgs.models import Role, User
from sogla.starter.library import LibraryTemplate, library
from sogla.starter.models import TemplateInstall


@dataclass(frozen=True)
class LibraryEntry:
    template: LibraryTemplate
    installed_as: DocumentType | None
    clash: bool  # the type key is taken by a type that did not come from the template


def library_entries(org_id: int) -> list[LibraryEntry]:
    installs = {
        i.template_key: i.doc_type
        for i in TemplateInstall.objects.for_org(org_id).select_related("doc_type")
    }
    taken = set(DocumentType.objects.for_org(org_id).values_list("key", flat=True))
    return [
        LibraryEntry(
            template=t,
            installed_as=installs.get(t.key),
            clash=t.key not in installs and t.document_type.key in taken,
        )
        for t in library()
    ]


def library_entry(org_id: int, key: str) -> LibraryEntry | None:
    return next((e for e in library_entries(org_id) if e.template.key == key), None)


def org_people(org_id: int) -> list[User]:
    """The organisation's active people, by name."""
    return list(
        User.objects.filter(organisation_id=org_id, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )


def role_holders(org_id: int, keys: list[str]) -> dict[str, list[int]]:
    """The ids of the current holders of each of the roles ``keys``."""
    holders: dict[str, list[int]] = {key: [] for key in keys}
    for role in (
        Role.objects.for_org(org_id).filter(key__in=keys).prefetch_related("members")
    ):
        holders[role.key] = [u.pk for u in role.members.all() if u.is_active]
    return holders
