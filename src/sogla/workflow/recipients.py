"""Who a notice goes to: a participant ref or a route author's word, made people.

``Recipients.find`` turns one target into people (or e-mail addresses): the
engine's refs (``user:<id>``, ``guest:<e-mail>``, ``manager:<ref>``) or, with
``route_words``, what a route's author writes: ``initiator``, ``owner``,
``role:<key>``, ``user:<username>``, ``field:<key>`` (a user or users field, or a
string field holding e-mail addresses). A target that reaches nobody raises
``NoRecipient`` with the reason the audit log records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sogla.documents.models import Document, FieldDef, FieldKind
from sogla.orgs.access import manager_of
from sogla.orgs.models import User
from sogla.workflow.models import Process, RouteTemplate
from sogla.workflow.refs import ref_user_id

_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")

Found = list[tuple[User | None, str]]  # (a person, "") or (None, an e-mail address)


class NoRecipient(Exception):
    """A notify target that reaches nobody; ``reason`` goes to the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Recipients:
    """The people of one command's notices; each person is read once."""

    process: Process
    document: Document
    template: RouteTemplate | None = None
    users: dict[int, User] = field(default_factory=dict)  # active, of this tenant

    def __post_init__(self) -> None:
        # People already read in this command need no second query in user().
        initiator = self.document.initiator
        if initiator.is_active and initiator.organisation_id == self.org_id:
            self.users.setdefault(initiator.pk, initiator)

    @property
    def org_id(self) -> int:
        return self.process.organisation_id

    def user(self, user_id: int) -> User | None:
        """An active user of this organisation, or None."""
        if user_id not in self.users:
            found = User.objects.filter(
                pk=user_id, organisation_id=self.org_id, is_active=True
            ).first()
            if found is None:
                return None
            self.users[user_id] = found
        return self.users[user_id]

    def find(self, word: str, *, route_words: bool = False) -> Found:
        """The people or addresses of one target; ``NoRecipient`` when nobody."""
        if word == "initiator":
            user = self.user(self.process.initiator_id)
            if user is None:
                raise NoRecipient("the initiator is not active")
            return [(user, "")]
        if word == "owner":
            found = self._owners()
            if not found:
                raise NoRecipient("the route has no owner and there is no admin")
            return found
        kind, _sep, name = word.partition(":")
        if kind == "guest" and "@" in name:
            return [(None, name)]
        if not name:
            raise NoRecipient("unknown notify target")
        if kind == "user":
            return [(self._named(word, name, route_words=route_words), "")]
        if kind == "role":
            return self._role(name)
        if kind == "field":
            return self._field(name)
        if kind == "manager":
            return [(self._manager(name), "")]
        raise NoRecipient("unknown notify target")

    def _named(self, word: str, name: str, *, route_words: bool) -> User:
        if route_words:
            named = User.objects.filter(
                organisation_id=self.org_id, username=name, is_active=True
            ).first()
        else:
            user_id = ref_user_id(word)
            named = self.user(user_id) if user_id else None
        if named is None:
            raise NoRecipient(f'no active user "{name}"')
        return named

    def _role(self, key: str) -> Found:
        holders = User.objects.filter(
            organisation_id=self.org_id,
            is_active=True,
            roles__key=key,
            roles__organisation_id=self.org_id,
        ).distinct()
        found: Found = [(u, "") for u in holders]
        if not found:
            raise NoRecipient(f'nobody holds the role "{key}"')
        return found

    def _manager(self, ref: str) -> User:
        user_id = ref_user_id(ref)
        person = self.user(user_id) if user_id else None
        boss = manager_of(person) if person is not None else None
        if boss is None or not boss.is_active:
            raise NoRecipient("the assignee has no active manager")
        return boss

    def _field(self, key: str) -> Found:
        definition = FieldDef.objects.filter(
            doc_type_id=self.document.doc_type_id, key=key
        ).first()
        if definition is None:
            raise NoRecipient(f'no field "{key}" in this document type')
        value = (self.document.fields or {}).get(key)
        if value in (None, "", []):
            raise NoRecipient(f'the field "{key}" is empty')
        found: Found
        if definition.kind in (FieldKind.USER, FieldKind.USERS):
            ids = value if isinstance(value, list) else [value]
            people = [self.user(int(i)) for i in ids if isinstance(i, int)]
            found = [(u, "") for u in people if u is not None]
        elif definition.kind == FieldKind.STRING and isinstance(value, str):
            found = [
                (None, address.lower())
                for address in re.split(r"[,;\s]+", value)
                if _EMAIL.fullmatch(address)
            ]
        else:
            raise NoRecipient(f'the field "{key}" names neither people nor e-mail')
        if not found:
            raise NoRecipient(f'the field "{key}" names nobody active')
        return found

    def _owners(self) -> Found:
        template = self.template or self.process.route_version.template
        if template.owner_id is not None:
            owner = self.user(template.owner_id)
            if owner is not None:
                return [(owner, "")]
        admins = User.objects.filter(
            organisation_id=self.org_id, is_active=True, is_staff=True
        ).order_by("pk")[:5]
        return [(u, "") for u in admins]
