"""Guest links: 256 random bits in the URL, only their SHA-256 in the database.

A link is bound to one guest (its e-mail), one task and that task's round. The
first GET of ``/g/<token>/`` exchanges it for a short session (an HttpOnly cookie,
idle timeout 30 minutes) and redirects to the clean ``/g/``; a link opens at most
``MAX_USES`` times, and never after it expired or was revoked. Nothing here acts on
the task: decisions are POSTs of the guest page (``decisions``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.audit import audit_record
from sogla.core.errors import NotFound, PermissionDenied, RateLimited
from sogla.core.request_meta import RequestMeta
from sogla.external import throttle
from sogla.external.models import GuestLink, GuestSession
from sogla.external.selectors import current_task_for
from sogla.notifications.kinds import site_url
from sogla.notifications.models import Notification
from sogla.notifications.services import notification_enqueue
from sogla.orgs.models import User
from sogla.workflow.definitions import definition_for
from sogla.workflow.models import Task

TOKEN_BYTES = 32  # 256 bits
MAX_USES = 5  # times a link may be exchanged for a session (T12)
SESSION_IDLE = timedelta(minutes=30)  # T17
MAX_DAYS = 30
MISSES_PER_MINUTE = 30  # wrong tokens from one IP before 429 (T16)
RENEWALS_PER_DAY = 3  # "send me a new link" per guest and task

# User agents of mail scanners and link previews: their GET is logged, not counted.
SCANNER_MARKS = (
    "bot",
    "crawler",
    "spider",
    "preview",
    "scanner",
    "safelinks",
    "proofpoint",
    "mimecast",
    "barracuda",
    "curl",
    "python-requests",
    "wget",
    "outlook",
    "microsoft office",
    "skypeuripreview",
)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_url(raw: str) -> str:
    return site_url(reverse("external:open", args=[raw]))


def link_days(task: Task) -> int:
    """The route's link lifetime (``guest_link_days``, default 14, at most 30)."""
    try:
        definition = definition_for(task.process.route_version)
    except ValueError:  # a broken route still gets the default
        return 14
    return min(definition.guest_link_days, MAX_DAYS)


def link_mint(
    *,
    task: Task,
    by: User | None = None,
    notification_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A new link for the task's guest; the raw token is returned once (for the
    mail) and never stored. A re-delivery of the same notification replaces the
    link it minted before."""
    if not task.guest_email:
        raise NotFound()
    now = now or timezone.now()
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        if notification_id is not None:
            GuestLink.objects.filter(
                task=task, notification_id=notification_id, revoked_at=None
            ).update(revoked_at=now, revoked_reason="redelivered")
        GuestLink.objects.create(
            organisation_id=task.organisation_id,
            task=task,
            email=task.guest_email,
            round=task.round,
            token_hash=token_hash(raw),
            created_at=now,
            expires_at=now + timedelta(days=link_days(task)),
            created_by=by,
            notification_id=notification_id,
        )
    return raw


# --- opening a link -----------------------------------------------------------------------


class LinkState:
    OK = "ok"
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"
    SCANNER = "scanner"


@dataclass(frozen=True)
class Opened:
    state: str
    link: GuestLink | None = None
    session_key: str = ""


def is_scanner(user_agent: str) -> bool:
    agent = user_agent.lower()
    return not agent or any(mark in agent for mark in SCANNER_MARKS)


def _why_closed(link: GuestLink, now: datetime) -> str | None:
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if now >= link.expires_at:
        return LinkState.EXPIRED
    if link.uses >= MAX_USES:
        return LinkState.USED_UP
    return None


def find_link(raw: str) -> GuestLink | None:
    if not raw or len(raw) > 100:
        return None
    return (
        GuestLink.objects.select_related("task__process", "organisation")
        .filter(token_hash=token_hash(raw))
        .first()
    )


def link_open(
    raw: str, *, meta: RequestMeta, confirmed: bool = False, now: datetime | None = None
) -> Opened:
    """Exchange a link for a session; ``confirmed`` is a person's click on the
    scanner page (a POST), which counts even for an unusual user agent.

    Raises RateLimited after ``MISSES_PER_MINUTE`` wrong tokens from one IP."""
    now = now or timezone.now()
    miss_key = f"link-miss:{meta.ip}"
    if throttle.hits(miss_key, timedelta(minutes=1), now) >= MISSES_PER_MINUTE:
        raise RateLimited("", retry_after=60)
    link = find_link(raw)
    if link is None:
        throttle.hit(miss_key, now)
        return Opened(LinkState.INVALID)
    closed = _why_closed(link, now)
    if closed is not None:
        return Opened(closed, link)
    if not confirmed and is_scanner(meta.user_agent):
        GuestLink.objects.filter(pk=link.pk).update(scanner_hits=F("scanner_hits") + 1)
        _audit(link, "guest_link.opened_automated", meta)
        return Opened(LinkState.SCANNER, link)
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        counted = GuestLink.objects.filter(
            pk=link.pk, uses__lt=MAX_USES, revoked_at=None, expires_at__gt=now
        ).update(
            uses=F("uses") + 1,
            last_used_at=now,
            first_used_at=Coalesce(F("first_used_at"), Value(now)),
        )
        if not counted:
            return Opened(LinkState.USED_UP, link)
        GuestSession.objects.create(
            organisation_id=link.organisation_id,
            link=link,
            key_hash=token_hash(key),
            created_at=now,
            last_seen_at=now,
            expires_at=link.expires_at,
            ip=meta.ip[:45],
            user_agent=meta.user_agent[:500],
        )
        _audit(link, "guest_link.opened", meta)
    return Opened(LinkState.OK, link, key)


def session_for(key: str, *, now: datetime | None = None) -> GuestSession | None:
    """The live session behind a cookie (and it is seen now), else None."""
    if not key or len(key) > 100:
        return None
    now = now or timezone.now()
    session = (
        GuestSession.objects.select_related(
            "link__task__process__route_version", "organisation"
        )
        .filter(key_hash=token_hash(key), ended_at=None)
        .first()
    )
    if session is None:
        return None
    if now >= session.expires_at or now - session.last_seen_at > SESSION_IDLE:
        GuestSession.objects.filter(pk=session.pk).update(ended_at=now)
        return None
    GuestSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return session


def session_end(key: str) -> None:
    GuestSession.objects.filter(key_hash=token_hash(key), ended_at=None).update(
        ended_at=timezone.now()
    )


# --- the initiator's commands --------------------------------------------------------------


def may_manage(actor: User, task: Task) -> bool:
    """The initiator, the route's owner or an administrator of the organisation."""
    process = task.process
    if actor.organisation_id != task.organisation_id:
        return False
    if actor.pk == process.initiator_id or actor.is_staff:
        return True
    owner = process.route_version.template.owner_id
    return owner is not None and owner == actor.pk


def managed_task_for(actor: User, task_id: int) -> Task:
    """A task of a process the actor manages (initiator, route owner, admin)."""
    task = (
        Task.objects.select_related("process__route_version__template")
        .filter(pk=int(task_id), organisation_id=actor.organisation_id or 0)
        .first()
    )
    if task is None or not may_manage(actor, task):
        raise NotFound()
    return task


def guest_task_for(actor: User, task_id: int) -> Task:
    try:
        task = Task.objects.select_related(
            "process__route_version__template", "process__document"
        ).get(pk=int(task_id), organisation_id=actor.organisation_id or 0)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if not task.guest_email or not may_manage(actor, task):
        raise NotFound()
    return task


def link_revoke(
    *, actor: User, link_id: int, meta: RequestMeta, now: datetime | None = None
) -> GuestLink:
    """Revoke a link and end its sessions (initiator, route owner, admin)."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            link = GuestLink.objects.select_for_update().get(
                pk=int(link_id), organisation_id=actor.organisation_id or 0
            )
        except (GuestLink.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
        guest_task_for(actor, link.task_id)
        if link.revoked_at is None:
            link.revoked_at, link.revoked_by, link.revoked_reason = (
                now,
                actor,
                "revoked",
            )
            link.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
            link.sessions.filter(ended_at=None).update(ended_at=now)
            _audit(link, "guest_link.revoked", meta, actor=actor)
    return link


def guest_links_revoke(*, actor: User, task: Task, meta: RequestMeta) -> int:
    """Revoke every live link of a guest's task and end their sessions."""
    now = timezone.now()
    with transaction.atomic():
        count = GuestLink.objects.filter(task=task, revoked_at=None).count()
        links_revoke_for_task(task, now=now, reason="revoked", by=actor)
        audit_record(
            organisation_id=task.organisation_id,
            verb="guest_link.revoked",
            actor=actor,
            target_type="task",
            target_id=task.pk,
            document_id=task.process.document_id,
            payload={"task": task.pk, "links": count},
            request_meta=meta,
        )
    return count


def links_revoke_for_task(
    task: Task, *, now: datetime, reason: str, by: User | None = None
) -> None:
    links = GuestLink.objects.filter(task=task, revoked_at=None)
    GuestSession.objects.filter(link__in=links, ended_at=None).update(ended_at=now)
    links.update(revoked_at=now, revoked_reason=reason, revoked_by=by)


def link_resend(
    *, actor: User | None, task: Task, meta: RequestMeta, reason: str = "resent"
) -> Notification:
    """A new invitation mail to the task's guest; the older links stop working.
    The new link is minted when the mail is delivered (``notices``), so nobody,
    the sender included, ever sees the token outside the guest's mail."""
    if not task.is_open:
        raise PermissionDenied(
            _("The guest's task is closed; there is nothing to send.")
        )
    now = timezone.now()
    process = task.process
    document = process.document
    with transaction.atomic():
        links_revoke_for_task(task, now=now, reason=reason)
        row = notification_enqueue(
            organisation_id=task.organisation_id,
            kind="workflow.task_assigned",
            recipient_email=task.guest_email,
            document_id=document.pk,
            context={
                "process": process.pk,
                "document": document.pk,
                "number": document.number,
                "title": document.title,
                "task": task.pk,
                "resent": True,
            },
            idempotency_key=f"guest-{reason}:{task.pk}:{secrets.token_hex(8)}",
        )
        audit_record(
            organisation_id=task.organisation_id,
            verb=f"guest_link.{reason}",
            actor=actor,
            actor_label="" if actor is not None else task.guest_email,
            target_type="task",
            target_id=task.pk,
            document_id=document.pk,
            payload={"task": task.pk, "round": task.round, "notification": row.pk},
            request_meta=meta,
        )
    return row


def link_renew(raw: str, *, meta: RequestMeta) -> bool:
    """The guest's "send me a new link" on an expired or used-up link page: a
    fresh link goes only to the bound address, at most ``RENEWALS_PER_DAY`` a day.
    True when a link was sent (the page says the same either way)."""
    link = find_link(raw)
    if link is None or link.revoked_at is not None:
        return False
    task = link.task
    current = current_task_for(task)
    if current is None:
        return False
    key = f"link-renew:{current.pk}"
    if throttle.hits(key, timedelta(days=1)) >= RENEWALS_PER_DAY:
        return False
    throttle.hit(key)
    current = Task.objects.select_related("process__document").get(pk=current.pk)
    link_resend(actor=None, task=current, meta=meta, reason="renewed")
    return True


def _audit(
    link: GuestLink, verb: str, meta: RequestMeta, *, actor: User | None = None
) -> None:
    audit_record(
        organisation_id=link.organisation_id,
        verb=verb,
        actor=actor,
        actor_label="" if actor is not None else link.email,
        target_type="task",
        target_id=link.task_id,
        document_id=Task.objects.filter(pk=link.task_id)
        .values_list("process__document_id", flat=True)
        .first(),
        payload={"link": link.pk, "task": link.task_id, "round": link.round},
        request_meta=meta,
    )


def secure_cookie() -> bool:
    return settings.SITE_URL.startswith("https://")
