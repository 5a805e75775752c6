"""Finding the people of a step, and the facts conditions read.

``Resolver(document)`` is the engine's ``ctx.resolve``: an ``Assignee`` becomes a list
of ``Participant`` or ``Unresolved(reason)`` in plain words. Inactive users are
skipped; delegation in force today is applied (the stand-in gets the task, acting
``on_behalf_of`` the seat). The engine calls it only when a stage opens, so a
decision on an open stage costs no query here.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import date, tzinfo
from typing import Any

from django.utils import timezone

from sogla.documents.models import Contact, Document
from sogla.engine.definition import Assignee, RouteDefinition
from sogla.engine.run import Unresolved
from sogla.engine.states import Participant
from sogla.orgs.access import manager_of
from sogla.orgs.models import Delegation, Department, User
from sogla.orgs.selectors import (
    active_delegate,
    delegations_in_force,
    role_holders,
    users_by_username,
)
from sogla.workflow.definitions import stage_usernames


def document_facts(
    document: Document, answers: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The document's field values plus derived facts for conditions.

    ``answers`` are the cleaned fields of the decision being handled: they are
    written to the document only after the engine returns, but the stage that opens
    in the same call must already see them.
    """
    facts: dict[str, Any] = {**(document.fields or {}), **(answers or {})}
    initiator = document.initiator
    department = initiator.department if initiator.department_id else None
    facts["initiator.department"] = department.code if department else ""
    facts["initiator.username"] = initiator.username
    party = document.counterparty if document.counterparty_id else None
    facts["counterparty.category"] = party.category if party is not None else ""
    facts["doc_type"] = document.doc_type.key
    return facts


class Resolver:
    """``ctx.resolve`` for one document at one moment.

    ``answers`` (the cleaned fields of the decision being handled) override the
    document's stored values, so a step that names "the designer" picked in the same
    decision is assigned to that designer. ``definition`` (the route) lets it read
    the people a stage names by username together.
    """

    def __init__(
        self,
        document: Document,
        today: date | None = None,
        *,
        answers: Mapping[str, Any] | None = None,
        definition: RouteDefinition | None = None,
    ) -> None:
        self.document = document
        self.org_id = document.organisation_id
        self.today = today or timezone.localdate()
        self.fields: dict[str, Any] = {**(document.fields or {}), **(answers or {})}
        self._zones: dict[str, str] = {}
        self._in_force: dict[int, Delegation] | None = None
        # The active users of this organisation the resolver assigned, by id.
        self.users: dict[int, User] = {}
        self.definition = definition
        self._together: dict[str, frozenset[str]] | None = None
        self._by_name: dict[str, User | None] = {}

    def __call__(self, assignee: Assignee) -> Sequence[Participant] | Unresolved:
        try:
            found = self._find(assignee)
        except _Nobody as nobody:
            return Unresolved(nobody.reason)
        if isinstance(found, Unresolved):
            return found
        return found

    # -- users --------------------------------------------------------------------

    def _users(self, users: Sequence[User], what: str) -> list[Participant]:
        active = [u for u in users if u.is_active and u.organisation_id == self.org_id]
        if not active:
            raise _Nobody(f"{what}: nobody active to assign")
        return [self._delegated(u) for u in active]

    def _delegated(self, user: User) -> Participant:
        if self._in_force is None:  # one query for every person of the command
            self._in_force = delegations_in_force(self.org_id, self.today)
        stand_in = active_delegate(user, self.today, self._in_force)
        if stand_in is not None and stand_in.pk != user.pk:
            self._remember(stand_in)
            return Participant.user(stand_in.pk, on_behalf_of=Participant.user(user.pk))
        self._remember(user)
        return Participant.user(user.pk)

    def _remember(self, user: User) -> None:
        self._zones[str(user.pk)] = user.time_zone
        if user.is_active and user.organisation_id == self.org_id:
            self.users[user.pk] = user

    def zone(self, person: Participant) -> tzinfo | None:
        """``ctx.zone``: the time zone a person set in their profile, if any."""
        if person.kind != "user":
            return None
        if person.id not in self._zones:
            self._zones[person.id] = (
                User.objects.filter(organisation_id=self.org_id, pk=person.id)
                .values_list("time_zone", flat=True)
                .first()
                or ""
            )
        name = self._zones[person.id]
        try:
            return zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None

    def _user_ids(self, key: str) -> list[int]:
        value = self.fields.get(key)
        if value is None or value == "" or value == []:
            raise _Nobody(f'the field "{key}" is empty')
        values = value if isinstance(value, list) else [value]
        ids = []
        for item in values:
            try:
                ids.append(int(item))
            except (TypeError, ValueError):
                raise _Nobody(f'the field "{key}" does not name a person') from None
        return ids

    def _named(self, username: str) -> User | None:
        """The organisation's user with this username, read together with the other
        people its stage names (``definitions.stage_usernames``): a stage of several
        named approvers costs one statement."""
        if self._together is None:
            self._together = (
                stage_usernames(self.definition) if self.definition is not None else {}
            )
        if username not in self._by_name:
            stage = self._together.get(username, frozenset())
            wanted = {username, *stage} - self._by_name.keys()
            found = users_by_username(self.org_id, wanted)
            by_name = {user.username: user for user in found}
            self._by_name.update({name: by_name.get(name) for name in wanted})
        return self._by_name[username]

    def _users_by_ids(self, ids: list[int]) -> list[User]:
        by_id = {
            u.pk: u
            for u in User.objects.filter(organisation_id=self.org_id, pk__in=ids)
        }
        return [by_id[i] for i in ids if i in by_id]

    def _find(self, a: Assignee) -> list[Participant] | Unresolved:
        if a.user:
            user = self._named(a.user)
            if user is None:
                raise _Nobody(f'no user "{a.user}" in this organisation')
            return self._users([user], f'user "{a.user}"')
        if a.role:
            holders = role_holders(self.org_id, a.role)
            if not holders:
                raise _Nobody(f'nobody holds the role "{a.role}"')
            return self._users(holders, f'role "{a.role}"')
        if a.manager_of:
            return self._manager(a.manager_of, a.levels)
        if a.department_head:
            return self._department_head(a.department_head)
        if a.department_head_field:
            return self._department_head_from(a.department_head_field)
        if a.user_field:
            users = self._users_by_ids(self._user_ids(a.user_field)[:1])
            return self._users(users, f'the field "{a.user_field}"')
        if a.users_field:
            users = self._users_by_ids(self._user_ids(a.users_field))
            return self._users(users, f'the field "{a.users_field}"')
        if a.initiator:
            return self._users([self.document.initiator], "the initiator")
        if a.guests is not None:
            return self._guests(a.guests, "the route's guest list")
        if a.guest_field:
            raw = self.fields.get(a.guest_field)
            emails = [raw] if isinstance(raw, str) else list(raw or [])
            return self._guests(
                [str(e) for e in emails], f'the field "{a.guest_field}"'
            )
        if a.counterparty_contacts:
            if not self.document.counterparty_id:
                raise _Nobody("the document has no counterparty")
            emails = list(
                Contact.objects.filter(
                    organisation_id=self.org_id,
                    counterparty_id=self.document.counterparty_id,
                )
                .exclude(email="")
                .order_by("id")
                .values_list("email", flat=True)
            )
            return self._guests(emails, "the counterparty's contacts")
        return Unresolved("the step has no assignee")  # pragma: no cover

    def _manager(self, of: str, levels: int) -> list[Participant]:
        if of == "initiator":
            person: User = self.document.initiator
            what = "the initiator"
        else:
            users = self._users_by_ids(self._user_ids(of)[:1])
            if not users:
                raise _Nobody(f'the field "{of}" does not name a person')
            person = users[0]
            what = f'the person in "{of}"'
        for _level in range(levels):
            boss = manager_of(person)
            if boss is None:
                raise _Nobody(f"{what} has no manager {levels} level(s) up")
            person = boss
        return self._users([person], f"the manager of {what}")

    def _department_head(
        self, which: str, *, by_code: bool = False
    ) -> list[Participant]:
        if which == "initiator" and not by_code:
            department = self.document.initiator.department
            if department is None:
                raise _Nobody("the initiator has no department")
        else:
            department = Department.objects.filter(
                organisation_id=self.org_id, code=which
            ).first()
            if department is None:
                raise _Nobody(f'no department "{which}" in this organisation')
        if department.head_id is None or department.head is None:
            raise _Nobody(f'the department "{department.code}" has no head')
        return self._users([department.head], f'the head of "{department.code}"')

    def _department_head_from(self, key: str) -> list[Participant]:
        """The head of the department whose code the choice field ``key`` holds."""
        value = self.fields.get(key)
        if value is None or str(value).strip() == "" or isinstance(value, list | dict):
            raise _Nobody(f'the field "{key}" is empty')
        return self._department_head(str(value).strip(), by_code=True)

    def _guests(self, emails: Sequence[str], what: str) -> list[Participant]:
        clean = [e.strip().lower() for e in emails if e and "@" in e]
        if not clean:
            raise _Nobody(f"{what}: no e-mail address")
        return [Participant.guest(e) for e in dict.fromkeys(clean)]


class _Nobody(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
