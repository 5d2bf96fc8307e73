"""Request limits per link and per client address, counted in Django's cache (Redis in tests
and production): a fixed one-minute window per key."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def per_link_limit() -> int:
    return int(getattr(settings, "PORTAL_RATE_PER_LINK", 30))


def per_address_limit() -> int:
    return int(getattr(settings, "PORTAL_RATE_PER_ADDRESS", 60))


def client_address(request) -> str:
    # The address the server saw; behind a proxy, the proxy is expected to set REMOTE_ADDR.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _hit(key: str, limit: int) -> bool:
    """Count one request; True while the key is within its limit."""
    window = int(time.time() // WINDOW_SECONDS)
    full_key = f"portal:rate:{key}:{window}"
    if cache.add(full_key, 1, timeout=WINDOW_SECONDS * 2):
        return limit >= 1
    try:
        count = cache.incr(full_key)
    except ValueError:  # expired between add and incr
        cache.add(full_key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= limit


def allow(request, *, link_key: str) -> bool:
    """Count the request against its address and its link (digest or link id)."""
    address_ok = _hit(f"addr:{client_address(request)}", per_address_limit())
    link_ok = _hit(f"link:{link_key}", per_link_limit()) if link_key else True
    return address_ok and link_ok
