"""How an address a code went to is shown: enough to recognise, not to reuse."""

from __future__ import annotations


def mask_email(email: str) -> str:
    """``maria@example.com`` -> ``m***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str) -> str:
    """``+7 912 345-12-34`` -> ``+7 *** ***-12-34``: only the last 4 digits show."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 6:
        return "***"
    return f"+{digits[0]} *** ***-{digits[-4:-2]}-{digits[-2:]}"
