"""First-run setup: the one-time code that guards creating the first organisation.

``sogla serve`` (and so ``make run``) issues a code when the server has no
organisation of its own yet and prints it to the console; whoever opens the setup
page must type it, so reaching a fresh server first is not enough to take it.
Only the code's SHA-256 is stored. A wrong code counts against the live code;
after ``SOGLA_SETUP_CODE_FAILURES`` wrong codes the code is burnt and a new one
must be printed (restart ``sogla serve`` or run ``sogla org setup-code``). A used,
replaced or expired code is refused like a wrong one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sogla.core.errors import RateLimited, ValidationFailed
from sogla.orgs.models import SetupCode

# No 0/O, 1/I/L: a code is read off a console and typed by hand.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_LIFETIME = timedelta(days=1)


def _normalise(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def _hash(raw: str) -> str:
    return hashlib.sha256(_normalise(raw).encode()).hexdigest()


def max_failures() -> int:
    return int(getattr(settings, "SOGLA_SETUP_CODE_FAILURES", 10))


def _live() -> SetupCode | None:
    return (
        SetupCode.objects.filter(used_at=None, expires_at__gt=timezone.now())
        .filter(failures__lt=max_failures())
        .order_by("-created_at")
        .first()
    )


def setup_pending() -> bool:
    """Whether a live setup code exists (the setup page is offered)."""
    return _live() is not None


@transaction.atomic
def setup_code_issue() -> str:
    """A new code, replacing any earlier one; shown here once, stored hashed."""
    now = timezone.now()
    SetupCode.objects.filter(used_at=None, expires_at__gt=now).update(expires_at=now)
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    SetupCode.objects.create(code_hash=_hash(raw), expires_at=now + CODE_LIFETIME)
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _refused() -> RateLimited:
    return RateLimited(
        _(
            "Too many wrong setup codes. Restart the server (or run “sogla org "
            "setup-code”) to print a new code."
        ),
        retry_after=60,
    )


def setup_code_check(raw: str) -> SetupCode:
    """Lock and return the live code when ``raw`` is it, else count a failure.

    Must run inside the transaction that uses the code (``setup_code_consume``).
    ValidationFailed for a wrong code, RateLimited once the code is burnt.
    """
    now = timezone.now()
    code = (
        SetupCode.objects.select_for_update()
        .filter(used_at=None, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if code is None or code.failures >= max_failures():
        raise _refused() if code is not None else _wrong()
    if not hmac.compare_digest(code.code_hash, _hash(raw)):
        raise _wrong()
    return code


def setup_code_failed() -> None:
    """Count a wrong code against the live code (its own transaction, so a refused
    attempt is counted even though the setup command is rolled back)."""
    with transaction.atomic():
        code = (
            SetupCode.objects.select_for_update()
            .filter(used_at=None, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if code is not None:
            code.failures += 1
            code.save(update_fields=["failures", "updated_at"])


def setup_code_burnt() -> bool:
    """The latest unused code was guessed at too often."""
    code = (
        SetupCode.objects.filter(used_at=None, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )
    return code is not None and code.failures >= max_failures()


def _wrong() -> ValidationFailed:
    return ValidationFailed.single(
        "setup_code",
        "wrong_code",
        _(
            "This setup code is wrong or no longer valid. Use the code the server printed."
        ),
    )


def setup_code_consume(code: SetupCode) -> None:
    code.used_at = timezone.now()
    code.save(update_fields=["used_at", "updated_at"])
