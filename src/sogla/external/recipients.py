"""Where a person's one-time code goes."""

from __future__ import annotations

from dataclasses import dataclass

from sogla.orgs.models import User


@dataclass(frozen=True)
class Recipient:
    """Where a person's code goes."""

    participant_ref: str
    email: str
    phone: str = ""
    language: str = ""


def recipient_of_user(user: User) -> Recipient:
    return Recipient(f"user:{user.pk}", user.email, user.phone, user.language)


def recipient_of_guest(email: str, language: str = "") -> Recipient:
    return Recipient(f"guest:{email.strip().lower()}", email, "", language)
