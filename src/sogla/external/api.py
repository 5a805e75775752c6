"""REST endpoints: guest links (invite/re-send, list, revoke) for the initiator,
the route owner and administrators; one-time code challenges for one's own task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sogla.api.auth import api_user as _user
from sogla.api.schemas import Id, InSchema
from sogla.api.schemas import responses as _ok
from sogla.core.errors import NotFound
from sogla.core.request_meta import request_meta
from sogla.external.models import GuestLink
from sogla.external.recipients import recipient_of_user
from sogla.external.services.codes import challenge_create, codes_unlock
from sogla.external.services.links import (
    guest_links_revoke,
    guest_task_for,
    link_resend,
    link_revoke,
    managed_task_for,
)
from sogla.workflow import selectors as workflow_selectors
from sogla.workflow import services as workflow

router = Router(tags=["guests and codes"])


class GuestLinkOut(Schema):
    id: int
    task_id: int
    email: str
    round: int
    state: str = Field(description="active, expired, used_up or revoked")
    created_at: datetime
    expires_at: datetime
    uses: int = Field(description="Times the link was opened (at most 5).")
    scanner_hits: int = Field(description="Opens by mail scanners (not counted).")
    revoked_at: datetime | None


def _state(link: GuestLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if timezone.now() >= link.expires_at:
        return "expired"
    if link.uses >= 5:
        return "used_up"
    return "active"


def _link_out(link: GuestLink) -> dict[str, Any]:
    return {
        "id": link.pk,
        "task_id": link.task_id,
        "email": link.email,
        "round": link.round,
        "state": _state(link),
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "uses": link.uses,
        "scanner_hits": link.scanner_hits,
        "revoked_at": link.revoked_at,
    }


class SentOut(Schema):
    notification_id: int = Field(description="The invitation mail in the outbox.")


class RevokedOut(Schema):
    revoked: int


@router.get(
    "/tasks/{task_id}/guest-links",
    response=_ok(list[GuestLinkOut]),
    operation_id="guest_links_list",
    summary="The links of a guest's task (never the tokens)",
)
def guest_links_list(request: HttpRequest, task_id: Id) -> list[dict[str, Any]]:
    task = guest_task_for(_user(request), task_id)
    return [_link_out(link) for link in GuestLink.objects.filter(task=task)]


@router.post(
    "/tasks/{task_id}/guest-links",
    response=_ok(SentOut, 202, conflict=True),
    operation_id="guest_link_send",
    summary="Invite (or invite again) the guest of an open task: a new link is "
    "mailed and the older ones stop working",
)
def guest_link_send(request: HttpRequest, task_id: Id) -> Status[dict[str, Any]]:
    task = guest_task_for(_user(request), task_id)
    row = link_resend(actor=_user(request), task=task, meta=request_meta(request))
    return Status(202, {"notification_id": row.pk})


@router.post(
    "/tasks/{task_id}/guest-links/revoke",
    response=_ok(RevokedOut),
    operation_id="guest_links_revoke",
    summary="Revoke every link of a guest's task and end its sessions",
)
def guest_links_revoke_all(request: HttpRequest, task_id: Id) -> dict[str, Any]:
    user = _user(request)
    task = guest_task_for(user, task_id)
    count = guest_links_revoke(actor=user, task=task, meta=request_meta(request))
    return {"revoked": count}


@router.post(
    "/guest-links/{link_id}/revoke",
    response=_ok(GuestLinkOut),
    operation_id="guest_link_revoke",
    summary="Revoke one link",
)
def guest_link_revoke(request: HttpRequest, link_id: Id) -> dict[str, Any]:
    link = link_revoke(
        actor=_user(request), link_id=link_id, meta=request_meta(request)
    )
    return _link_out(link)


class ChallengeIn(InSchema):
    outcome: str = Field(
        min_length=1, max_length=30, description="The decision the code confirms."
    )


class ChallengeOut(Schema):
    challenge_id: str = Field(
        description="Pass with the code to POST /tasks/{id}/decision."
    )
    channel: str = Field(description="email or sms")
    sent_to: str = Field(description="Where the code went, masked.")
    expires_at: datetime


@router.post(
    "/tasks/{task_id}/challenge",
    response=_ok(ChallengeOut, 201, conflict=True),
    operation_id="task_challenge",
    summary="Send a one-time code to confirm a decision on my task (sign, confirm: otp)",
    description="6 digits, valid 10 minutes, at most 5 checks; then decide with "
    "`challenge_id` and `code`. Sending is limited (3 in 15 minutes, 10 a day); "
    "after 3 dead codes the initiator must unlock (`code_locked`).",
)
def task_challenge(
    request: HttpRequest, task_id: Id, payload: ChallengeIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    panel = workflow_selectors.task_get_for_decision(user=user, task_id=task_id)
    if not panel.task.is_open:
        raise NotFound()
    challenge = challenge_create(
        task=panel.task,
        recipient=recipient_of_user(user),
        outcome=payload.outcome,
        files_sha256=workflow.files_sha256(panel.document),
        meta=request_meta(request),
    )
    return Status(
        201,
        {
            "challenge_id": str(challenge.pk),
            "channel": challenge.channel,
            "sent_to": challenge.sent_to,
            "expires_at": challenge.expires_at,
        },
    )


class UnlockIn(InSchema):
    person: str = Field(
        max_length=300,
        description="`user:<id>` or `guest:<e-mail>` of the locked person.",
    )


@router.post(
    "/tasks/{task_id}/codes/unlock",
    response=_ok(RevokedOut),
    operation_id="task_codes_unlock",
    summary="Let a person locked out of codes try again (initiator, route owner, admin)",
)
def task_codes_unlock(
    request: HttpRequest, task_id: Id, payload: UnlockIn
) -> dict[str, Any]:
    user = _user(request)
    task = managed_task_for(user, task_id)
    count = codes_unlock(
        actor=user,
        task=task,
        participant_ref=payload.person,
        meta=request_meta(request),
    )
    return {"revoked": count}
