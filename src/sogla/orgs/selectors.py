"""Read-only queries about people: delegations in force, role holders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db.models import Exists, OuterRef

from sogla.orgs.models import Delegation, Invitation, User


def active_delegate(
    user: User, day: date, in_force: Mapping[int, Delegation] | None = None
) -> User | None:
    """Who stands in for ``user`` on ``day`` (the latest-starting delegation wins).

    Chains are followed (A away -> B, B away -> C gives C) up to the organisation's
    size, and a cycle ends at the last person not yet visited. ``in_force`` is
    ``delegations_in_force(organisation, day)`` when the caller has it (no query).
    """
    seen = {user.pk}
    current = user
    while True:
        if in_force is not None:
            delegation = in_force.get(current.pk)
        else:
            delegation = (
                Delegation.objects.for_org(user.organisation_id or 0)
                .filter(
                    from_user=current,
                    starts_on__lte=day,
                    ends_on__gte=day,
                    cancelled_at=None,
                )
                .select_related("to_user")
                .order_by("-starts_on", "-id")
                .first()
            )
        if delegation is None or delegation.to_user_id in seen:
            return current if current.pk != user.pk else None
        if not delegation.to_user.is_active:
            return current if current.pk != user.pk else None
        seen.add(delegation.to_user_id)
        current = delegation.to_user


def delegations_in_force(organisation_id: int, day: date) -> dict[int, Delegation]:
    """Per person who is away on ``day``, the delegation ``active_delegate`` follows
    for them (the latest-starting one), with one query."""
    found: dict[int, Delegation] = {}
    rows = (
        Delegation.objects.for_org(organisation_id)
        .filter(starts_on__lte=day, ends_on__gte=day, cancelled_at=None)
        .select_related("to_user")
        .order_by("-starts_on", "-id")
    )
    for delegation in rows:
        found.setdefault(delegation.from_user_id, delegation)
    return found


def role_holders(organisation_id: int, role_key: str) -> list[User]:
    return list(
        User.objects.filter(
            organisation_id=organisation_id,
            is_active=True,
            roles__key=role_key,
            roles__organisation_id=organisation_id,
        ).order_by("last_name", "first_name")
    )


def people_of(organisation_id: int | None) -> list[User]:
    """The organisation's people for the people screen, with ``joined`` and
    ``pending_invitation`` (the latest open one, or None) set on each."""
    if organisation_id is None:
        return []
    accepted = Invitation.objects.filter(user=OuterRef("pk"), accepted_at__isnull=False)
    people: list[User] = list(
        User.objects.filter(organisation_id=organisation_id)
        .select_related("department")
        .annotate(accepted=Exists(accepted))
        .order_by("-is_active", "last_name", "first_name", "email")
    )
    open_invitations: dict[int, Invitation] = {}
    for invitation in (
        Invitation.objects.for_org(organisation_id)
        .filter(accepted_at=None, revoked_at=None)
        .order_by("created_at")
    ):
        open_invitations[invitation.user_id] = invitation
    for person in people:
        person.joined = person.accepted or person.has_usable_password()  # type: ignore[attr-defined]
        person.pending_invitation = open_invitations.get(person.pk)  # type: ignore[attr-defined]
    return people
