"""«Замещение / I'm away»: a person names their deputy for a period.

A person sets their own; an administrator anyone's in their organisation. One
away period at a time per person: setting a new one cancels the earlier ones
that have not ended. Moving the tasks themselves is workflow's job
(``sogla.workflow.services.delegation.delegations_sync``), called by the screen
right after these commands and by the worker when a period starts or ends.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.access import is_org_admin, organisation_id_of
from sogla.core.audit import audit_record
from sogla.core.errors import FieldProblem, NotFound, ValidationFailed
from sogla.core.request_meta import RequestMeta
from sogla.orgs.models import Delegation, User


def _today(user: User) -> date:
    zone = user.organisation.time_zone if user.organisation is not None else "UTC"
    return timezone.localdate(timezone=ZoneInfo(zone))


def _may_manage(actor: User, person: User) -> bool:
    same_org = person.organisation_id == actor.organisation_id
    return same_org and (person.pk == actor.pk or is_org_admin(actor))


def delegations_of(person: User) -> list[Delegation]:
    """The person's away periods that have not ended (current and future)."""
    return list(
        Delegation.objects.for_org(organisation_id_of(person))
        .filter(from_user=person, cancelled_at=None, ends_on__gte=_today(person))
        .select_related("to_user")
        .order_by("starts_on", "pk")
    )


def standing_in_for(person: User) -> list[Delegation]:
    """Whose work ``person`` does today (the deputy's banner)."""
    if person.organisation_id is None:
        return []
    today = _today(person)
    return list(
        Delegation.objects.for_org(person.organisation_id)
        .filter(
            to_user=person,
            cancelled_at=None,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .select_related("from_user")
        .order_by("ends_on", "pk")
    )


@transaction.atomic
def delegation_set(
    *,
    actor: User,
    person_id: int,
    deputy_id: int | None,
    starts_on: date | None,
    ends_on: date | None,
    reason: str = "",
    request_meta: RequestMeta | None = None,
) -> Delegation:
    org_id = organisation_id_of(actor)
    person = User.objects.filter(pk=person_id, organisation_id=org_id).first()
    if person is None or not _may_manage(actor, person):
        raise NotFound()
    problems: list[FieldProblem] = []
    deputy = (
        User.objects.filter(
            pk=deputy_id, organisation_id=org_id, is_active=True
        ).first()
        if deputy_id is not None
        else None
    )
    if deputy is None:
        problems.append(FieldProblem("deputy", "invalid", _("Choose a colleague.")))
    elif deputy.pk == person.pk:
        problems.append(
            FieldProblem(
                "deputy", "self", _("Choose someone other than the person away.")
            )
        )
    today = _today(person)
    if starts_on is None:
        problems.append(
            FieldProblem("starts_on", "required", _("This field is required."))
        )
    if ends_on is None:
        problems.append(
            FieldProblem("ends_on", "required", _("This field is required."))
        )
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            problems.append(
                FieldProblem(
                    "ends_on", "before_start", _("The end is before the start.")
                )
            )
        elif ends_on < today:
            problems.append(
                FieldProblem("ends_on", "past", _("The period has already ended."))
            )
    clean_reason = " ".join(reason.split())[:200]
    if problems or deputy is None or starts_on is None or ends_on is None:
        raise ValidationFailed(problems)
    now = timezone.now()
    # one away period at a time: the new one replaces those not yet ended
    list(User.objects.select_for_update().filter(pk=person.pk).values("pk"))
    Delegation.objects.for_org(org_id).filter(
        from_user=person, cancelled_at=None, ends_on__gte=today
    ).update(cancelled_at=now)
    delegation = Delegation.objects.create(
        organisation_id=org_id,
        from_user=person,
        to_user=deputy,
        starts_on=max(starts_on, today),
        ends_on=ends_on,
        reason=clean_reason,
        created_by=actor,
    )
    audit_record(
        organisation_id=org_id,
        verb="delegation.set",
        actor=actor,
        target_type="user",
        target_id=person.pk,
        payload={
            "delegation": delegation.pk,
            "deputy": deputy.pk,
            "from": delegation.starts_on.isoformat(),
            "to": ends_on.isoformat(),
        },
        request_meta=request_meta,
    )
    return delegation


@transaction.atomic
def delegation_cancel(
    *, actor: User, delegation_id: int, request_meta: RequestMeta | None = None
) -> Delegation:
    """End an away period now (or drop a future one); the tasks come back."""
    org_id = organisation_id_of(actor)
    delegation = (
        Delegation.objects.for_org(org_id)
        .select_related("from_user")
        .filter(pk=delegation_id, cancelled_at=None)
        .first()
    )
    if delegation is None or not _may_manage(actor, delegation.from_user):
        raise NotFound()
    delegation.cancelled_at = timezone.now()
    delegation.save(update_fields=["cancelled_at"])
    audit_record(
        organisation_id=org_id,
        verb="delegation.cancelled",
        actor=actor,
        target_type="user",
        target_id=delegation.from_user_id,
        payload={"delegation": delegation.pk},
        request_meta=request_meta,
    )
    return delegation
