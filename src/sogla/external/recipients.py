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


def recipient_of_guest(email: str, language: str = "", phone: str = "") -> Recipient:
    return Recipient(f"guest:{email.strip().lower()}", email, phone, language)


def guest_phone(organisation_id: int, counterparty_id: int | None, email: str) -> str:
    """The phone the organisation keeps on the document counterparty's contact
    with this e-mail (set by people of the organisation, never by the guest), or
    "" (codes then go by e-mail)."""
    if not counterparty_id:
        return ""
    from sogla.documents.models import Contact

    phone = (
        Contact.objects.filter(
            organisation_id=organisation_id,
            counterparty_id=counterparty_id,
            email__iexact=email.strip(),
        )
        .exclude(phone="")
        .order_by("id")
        .values_list("phone", flat=True)
        .first()
    )
    return phone or ""
