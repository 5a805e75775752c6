"""Sign-in lock-out: failed password checks counted per account and address.

django-axes counts every failed password check (``/accounts/login/``,
``/admin/login/``, the old password on the password-change form) in its
AccessAttempt table, one row per username, address and browser. The policy
(docs/admin-guide.md) has three limits within the cool-off window
(``SOGLA_LOCKOUT_MINUTES``, 15 by default):

* **account from one address** (``SOGLA_LOCKOUT_FAILURES``, 5): that username is
  refused from that address. Someone guessing cannot lock the real person out
  from their own computer.
* **account from anywhere** (``SOGLA_LOCKOUT_ACCOUNT_FAILURES``, 20): a guess
  spread over many addresses locks the account everywhere; the lock-out is in
  the organisation's audit log and the users list, so it is noticed.
* **address** (``SOGLA_LOCKOUT_ADDRESS_FAILURES``, 30): one address trying many
  accounts is refused for every account.

While refused, the password is not checked at all and further tries are not
counted, so the wait is never longer than the cool-off. The answer is the same
whether or not the account exists. Each new lock-out of a known account is
audited (``auth.locked_out``) in its organisation; an administrator's unlock is
audited too (``auth.unlocked``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery, Sum
from django.http import HttpRequest
from django.utils import timezone

from sogla.core.access import is_org_admin
from sogla.core.audit import audit_record
from sogla.core.errors import NotFound
from sogla.core.request_meta import RequestMeta, request_meta
from sogla.orgs.models import User

logger = logging.getLogger("sogla.security")

# The order of AXES_LOCKOUT_PARAMETERS in settings; each has its own limit.
SCOPES = ("account_address", "account", "address")
PARAMETERS = [["username", "ip_address"], "username", "ip_address"]


def cool_off() -> timedelta:
    return timedelta(minutes=int(settings.SOGLA_LOCKOUT_MINUTES))


def limits() -> tuple[int, int, int]:
    """Failures that lock, per scope (in the order of SCOPES)."""
    return (
        int(settings.SOGLA_LOCKOUT_FAILURES),
        int(settings.SOGLA_LOCKOUT_ACCOUNT_FAILURES),
        int(settings.SOGLA_LOCKOUT_ADDRESS_FAILURES),
    )


def client_ip(request: HttpRequest) -> str | None:
    """The client address as the audit log records it (SOGLA_TRUST_PROXY aware)."""
    return request_meta(request).ip or None


class LockoutBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked-out sign-in before any
    password is checked. A check without a request (server-side code such as a
    management command or the shell, never a browser) has no client to count and
    passes on to the password check."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)  # type: ignore[no-any-return]


class SoglaAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with one limit per scope, and audited lock-outs."""

    def __init__(self) -> None:
        if settings.AXES_LOCKOUT_PARAMETERS != PARAMETERS:
            msg = f"AXES_LOCKOUT_PARAMETERS must be {PARAMETERS} (sogla.orgs.lockout)"
            raise ImproperlyConfigured(msg)

    def scope_failures(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> list[int]:
        """Recent failures counted in each scope for this request."""
        return [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]

    def get_failures(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """Failures scaled to AXES_FAILURE_LIMIT: at or over it when any scope is
        at its own limit (axes compares this one number with one limit)."""
        base = int(settings.AXES_FAILURE_LIMIT)
        counts = self.scope_failures(request, credentials)
        return max(
            (
                count * base // limit
                for count, limit in zip(counts, limits(), strict=True)
            ),
            default=0,
        )

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        was_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or was_locked or not request.axes_locked_out:  # type: ignore[attr-defined]
            return
        counts = self.scope_failures(request, credentials)
        locked = [
            scope
            for scope, count, limit in zip(SCOPES, counts, limits(), strict=True)
            if count >= limit
        ]
        _record_lockout(
            request, get_client_username(request, credentials) or "", locked, counts
        )

    def user_logged_in(
        self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any
    ) -> None:
        """A success forgets this account's failures from this address only (the
        account-wide and address-wide counts stay, so a valid account of one's own
        cannot be used to reset a guess at someone else's)."""
        super().user_logged_in(sender, request, user, **kwargs)
        AccessAttempt.objects.filter(
            username=user.get_username(),
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        ).delete()


def _record_lockout(
    request: HttpRequest, username: str, scopes: list[str], counts: list[int]
) -> None:
    until = timezone.now() + cool_off()
    meta = request_meta(request)
    user = User.objects.filter(username=username).only("pk", "organisation_id").first()
    payload = {
        "scopes": scopes,
        "failures": dict(zip(SCOPES, counts, strict=True)),
        "until": until.isoformat(),
        "path": request.path[:200],
    }
    if user is None or user.organisation_id is None:
        # No organisation's log to write to: an unknown name or platform staff.
        logger.warning(
            "sign-in locked out: username %r from %s (%s)", username, meta.ip, payload
        )
        return
    audit_record(
        organisation_id=user.organisation_id,
        verb="auth.locked_out",
        target_type="user",
        target_id=user.pk,
        payload=payload,
        request_meta=meta,
    )


# --- what administrators see and do ------------------------------------------------


@dataclass(frozen=True)
class LockState:
    """An account's recent failed sign-ins and whether they lock it anywhere."""

    failures: int
    locked_addresses: int
    locked_everywhere: bool
    until: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_everywhere or self.locked_addresses > 0


def _recent(now: datetime | None = None) -> Any:
    threshold = (now or timezone.now()) - cool_off()
    return AccessAttempt.objects.filter(attempt_time__gte=threshold)


def failures_subquery() -> Subquery:
    """Recent failed sign-ins of the row's username (for annotating users)."""
    return Subquery(
        _recent()
        .filter(username=OuterRef("username"))
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")[:1]
    )


def lock_state(username: str, *, now: datetime | None = None) -> LockState:
    per_address = list(
        _recent(now)
        .filter(username=username)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    combo_limit, account_limit, _address_limit = limits()
    total = sum(row["failures"] for row in per_address)
    locked_rows = [row for row in per_address if row["failures"] >= combo_limit]
    everywhere = total >= account_limit
    lasts = [row["last"] for row in (per_address if everywhere else locked_rows)]
    until = max(lasts) + cool_off() if lasts else None
    return LockState(total, len(locked_rows), everywhere, until)


def locked_usernames(usernames: list[str] | None = None) -> set[str]:
    """Of ``usernames`` (all when None), those locked from somewhere."""
    rows = _recent()
    if usernames is not None:
        rows = rows.filter(username__in=usernames)
    combo_limit, account_limit, _address_limit = limits()
    locked: set[str] = set()
    totals: dict[str, int] = {}
    for row in rows.values("username", "ip_address").annotate(
        failures=Sum("failures_since_start")
    ):
        name = row["username"] or ""
        totals[name] = totals.get(name, 0) + row["failures"]
        if row["failures"] >= combo_limit:
            locked.add(name)
    locked |= {name for name, total in totals.items() if total >= account_limit}
    return locked


@transaction.atomic
def signin_unlock(
    *, actor: User, user: User, request_meta: RequestMeta | None = None
) -> int:
    """Forget the account's failed sign-ins (every address); the failures forgotten.

    An organisation administrator unlocks their organisation's people; platform
    staff anyone. Audited as ``auth.unlocked`` when there was something to forget.
    """
    platform = actor.is_active and actor.is_superuser and actor.organisation_id is None
    same_org = is_org_admin(actor) and actor.organisation_id == user.organisation_id
    if not (platform or same_org):
        raise NotFound()
    attempts = AccessAttempt.objects.filter(username=user.get_username())
    state = lock_state(user.get_username())
    forgotten = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
    if not forgotten:
        return 0
    attempts.delete()
    if user.organisation_id is not None:
        audit_record(
            organisation_id=user.organisation_id,
            verb="auth.unlocked",
            actor=actor,
            target_type="user",
            target_id=user.pk,
            payload={"failures_forgotten": forgotten, "was_locked": state.locked},
            request_meta=request_meta,
        )
    else:
        logger.warning("sign-in unlocked by %s: %s", actor.get_username(), user)
    return int(forgotten)
