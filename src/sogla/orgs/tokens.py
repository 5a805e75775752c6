"""Personal API tokens: created once, stored only as SHA-256, revocable.

Creating one is limited to ``SOGLA_TOKENS_PER_HOUR`` per person (counted from the
tokens created in the last hour, revoked ones included) and refused while the
account's sign-in is locked out; the first refusal in an hour is audited.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sogla.core.audit import audit_record
from sogla.core.errors import NotFound, RateLimited, ValidationFailed
from sogla.core.models import AuditEvent
from sogla.core.prepared import Prepared
from sogla.core.request_meta import RequestMeta
from sogla.orgs.lockout import lock_state
from sogla.orgs.models import ApiToken, User

TOKEN_PREFIX = "sgl_"  # noqa: S105 (a visible marker, not a secret)
TOKEN_WINDOW = timedelta(hours=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _retry_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many API tokens were created recently. Try again in %(minutes)d minute.",
        "Too many API tokens were created recently. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _creation_refusal(actor: User, meta: RequestMeta | None) -> RateLimited | None:
    """Why the actor may not create a token now (audited once an hour), or None."""
    now = timezone.now()
    org_id = actor.organisation_id
    assert org_id is not None  # noqa: S101 - checked by the caller
    state = lock_state(actor.get_username(), now=now)
    if state.locked_everywhere and state.until is not None:
        reason, retry = "signin_locked", int((state.until - now).total_seconds())
    else:
        recent = list(
            ApiToken.objects.filter(user=actor, created_at__gte=now - TOKEN_WINDOW)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        )
        limit = int(settings.SOGLA_TOKENS_PER_HOUR)
        if len(recent) < limit:
            return None
        # Allowed again when the oldest of the last ``limit`` leaves the window.
        reason = "too_many_tokens"
        retry = int((recent[limit - 1] + TOKEN_WINDOW - now).total_seconds())
    audited = AuditEvent.objects.for_org(org_id).filter(
        verb="auth.locked_out",
        target_type="user",
        target_id=str(actor.pk),
        created_at__gte=now - TOKEN_WINDOW,
        payload__scopes=["token_create"],
    )
    if not audited.exists():
        audit_record(
            organisation_id=org_id,
            verb="auth.locked_out",
            actor=actor,
            target_type="user",
            target_id=actor.pk,
            payload={"scopes": ["token_create"], "reason": reason},
            request_meta=meta,
        )
    return RateLimited(_retry_message(retry), retry_after=retry)


def api_token_create(
    *, actor: User, name: str, request_meta: RequestMeta | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``actor``; the plain token is returned here and never again."""
    clean = name.strip()
    if not clean:
        raise ValidationFailed.single("name", "required", _("This field is required."))
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", _("At most 100 characters."))
    if actor.organisation_id is None:
        raise NotFound()
    with transaction.atomic():
        # One creation at a time per person, so the hourly count cannot be raced.
        list(User.objects.select_for_update().filter(pk=actor.pk).values("pk"))
        refusal = _creation_refusal(actor, request_meta)
        if refusal is None:
            raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
            token = ApiToken.objects.create(
                organisation_id=actor.organisation_id,
                user=actor,
                name=clean,
                prefix=raw[:12],
                token_hash=_hash(raw),
            )
    if refusal is not None:
        raise refusal  # after the commit, which keeps its audit event
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    try:
        token = ApiToken.objects.get(pk=token_id, user=actor, revoked_at=None)
    except ApiToken.DoesNotExist:
        raise NotFound() from None
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    return token


# Every API request reads its token: compiled once (``core.prepared``, ADR 0002).
_token_prepared = Prepared(
    lambda token_hash: (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(token_hash=token_hash, revoked_at=None)
        .order_by("-created_at")[:1]
    ),
    args=(str,),
)


def api_token_user(raw: str) -> User | None:
    """The active user owning a live token, or None. Records when it was last used."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    found = _token_prepared.all(_hash(raw))
    token = found[0] if found else None
    if token is None or not token.user.is_active:
        return None
    if token.user.organisation_id != token.organisation_id:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_tokens_of(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))
