"""Where a request came from, for the audit log: client IP and user agent.

The client IP is ``REMOTE_ADDR``. ``X-Forwarded-For`` is believed only when
``SOGLA_TRUST_PROXY`` says a reverse proxy in front of Sogla sets it (ASVS 4.1.3):
then the proxy's view of the client, the right-most address it appended, is used.
Without a trusted proxy a client-supplied header is ignored.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX = 500


@dataclass(frozen=True)
class RequestMeta:
    """Client IP (normalised, '' when unknown) and user agent (trimmed)."""

    ip: str = ""
    user_agent: str = ""


def clean_ip(value: str) -> str:
    """The canonical text of an IP address, or '' when ``value`` is not one."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def clean_user_agent(value: str) -> str:
    """Printable text only (no NUL or control characters), at most 500 characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in value)
    return printable.strip()[:USER_AGENT_MAX]


def request_meta(request: HttpRequest) -> RequestMeta:
    ip = ""
    if getattr(settings, "TRUST_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            ip = clean_ip(hops[-1])
    if not ip:
        ip = clean_ip(str(request.META.get("REMOTE_ADDR", "")))
    return RequestMeta(
        ip=ip, user_agent=clean_user_agent(str(request.META.get("HTTP_USER_AGENT", "")))
    )
