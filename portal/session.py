"""The portal's own session: a random key in its own cookie, the state in the cache.

It is separate from the back office's session on purpose: another cookie name, scoped to
``/p/``, holding nothing but the link it was opened with, whether the identity was confirmed,
the chosen language and a one-time message. A back-office session cookie is never read here,
so being signed in to the back office grants nothing on the portal.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache

COOKIE_NAME = "portal_session"
COOKIE_PATH = "/p/"
_PREFIX = "portal:session:"


@dataclass
class PortalSession:
    key: str
    link_id: int
    verified: bool = False
    language: str = ""
    flash: str = ""
    rate_prompt: bool = False

    def save(self, *, minutes: int) -> None:
        data = asdict(self)
        data.pop("key")
        cache.set(_PREFIX + self.key, data, timeout=minutes * 60)

    def end(self) -> None:
        cache.delete(_PREFIX + self.key)

    def pop_flash(self) -> str:
        message, self.flash = self.flash, ""
        return message


def session_start(link_id: int, *, language: str = "") -> PortalSession:
    """A new session (a new key: a key known before the identity check is never reused)."""
    return PortalSession(key=secrets.token_urlsafe(32), link_id=link_id, language=language)


def session_load(request) -> PortalSession | None:
    key = request.COOKIES.get(COOKIE_NAME, "")
    if not key or len(key) > 100:
        return None
    data = cache.get(_PREFIX + key)
    if not isinstance(data, dict):
        return None
    try:
        return PortalSession(key=key, **data)
    except TypeError:
        return None


def set_cookie(response, session: PortalSession, *, minutes: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session.key,
        max_age=minutes * 60,
        path=COOKIE_PATH,
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )


def clear_cookie(response) -> None:
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")
