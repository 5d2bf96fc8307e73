"""Unsubscribing from email: the signed one-click link (RFC 8058) and the mailto address that
every email's ``List-Unsubscribe`` header carries, and the VERP bounce address of its
``Return-Path``.

The one-click link names the address, signed with the project's secret key (salted, so no
other signature of ours fits it). It never expires: an unsubscribe link in an old email must
still work. The mailto address names the message (``unsubscribe+<key>@<domain>``), in the same
encoding as the VERP bounce address (``messaging.inbound_mail``).
"""

from __future__ import annotations

import email
import re

from django.conf import settings
from django.core import signing
from django.urls import reverse

from messaging import inbound_mail

SALT = "messaging.unsubscribe"
MAILTO_LOCAL = "unsubscribe"
_RECIPIENT_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "To")
_MAILTO_RE = re.compile(r"unsubscribe\+([^@\s<>]+)@", re.IGNORECASE)


def mail_domain() -> str:
    return settings.EMAIL_BOUNCE_DOMAIN or (
        settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    )


def bounce_address(message_key: str) -> str:
    """The VERP ``Return-Path`` of the message with ``message_key``."""
    return inbound_mail.verp_address(message_key, mail_domain())


def mailto_address(message_key: str) -> str:
    return MAILTO_LOCAL + "+" + bounce_address(message_key).split("+", 1)[1]


def token(address: str) -> str:
    return signing.dumps({"a": address.strip().lower()}, salt=SALT, compress=True)


def address_of(value: str) -> str | None:
    """The address a one-click token names, or None for a forged or damaged one."""
    try:
        data = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    address = data.get("a") if isinstance(data, dict) else None
    return address if isinstance(address, str) and "@" in address else None


def one_click_url(address: str) -> str:
    base = (settings.WEBHOOK_BASE_URL or settings.PORTAL_BASE_URL).rstrip("/")
    return base + reverse("unsubscribe", args=[token(address)])


def list_unsubscribe_headers(address: str, message_key: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: a mailto and an https one-click link."""
    return {
        "List-Unsubscribe": f"<mailto:{mailto_address(message_key)}?subject=unsubscribe>, "
        f"<{one_click_url(address)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def mailto_key(raw: bytes) -> str | None:
    """The message key of an email sent to one of our mailto unsubscribe addresses."""
    try:
        headers = email.message_from_bytes(raw[: 64 * 1024], policy=inbound_mail.POLICY)
        values = [str(v) for name in _RECIPIENT_HEADERS for v in headers.get_all(name) or ()]
    except Exception:  # noqa: BLE001 - unreadable headers name no key
        return None
    for value in values:
        found = _MAILTO_RE.search(value)
        if found:
            return inbound_mail.verp_key(f"{inbound_mail.VERP_LOCAL}+{found.group(1)}@x.invalid")
    return None
