"""Personal API tokens: created once, stored only as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.errors import NotFound, ValidationFailed
from sogla.orgs.models import ApiToken, User

TOKEN_PREFIX = "sgl_"  # noqa: S105 (a visible marker, not a secret)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``actor``; the plain token is returned here and never again."""
    clean = name.strip()
    if not clean:
        raise ValidationFailed.single("name", "required", _("This field is required."))
    if len(clean) > 100:
        raise ValidationFailed.single("name", "too_long", _("At most 100 characters."))
    if actor.organisation_id is None:
        raise NotFound()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organisation_id=actor.organisation_id,
        user=actor,
        name=clean,
        prefix=raw[:12],
        token_hash=_hash(raw),
    )
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


def api_token_user(raw: str) -> User | None:
    """The active user owning a live token, or None. Records when it was last used."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(token_hash=_hash(raw), revoked_at=None)
        .first()
    )
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
