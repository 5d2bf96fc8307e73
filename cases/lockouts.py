"""Sign-in lockouts (``django-axes``) and who is asking.

* ``LockoutBackend``: the lockout, checked before any password (the first authentication
  backend); ten failures for one username from one address lock it.
* ``client_ip``: the client's address, as the lockout and the API throttles see it. Behind
  ``TRUSTED_PROXY_COUNT`` proxies that each append the address they received the request from
  to ``X-Forwarded-For``, the client is the entry that many places from the right; any entry
  further left was written by the client itself and proves nothing. Without proxies it is the
  connection's address.
* Which usernames are locked now, and a supervisor's unlock, recorded (``LoginUnlock``).
"""

from __future__ import annotations

import datetime as dt

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from cases.models import LoginUnlock


def client_ip(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class LockoutBackend(AxesStandaloneBackend):
    """The sign-in lockout, checked before any password. A sign-in without a request (a
    script or a test calling ``authenticate`` directly) has no address to lock on: the check
    is skipped for it; every page and the token endpoint pass their request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockouts_current(*, now: dt.datetime | None = None) -> QuerySet[AccessAttempt]:
    """The username and address pairs locked now: at the failure limit within the cool-off."""
    now = now or timezone.now()
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=now - settings.AXES_COOLOFF_TIME,
    ).order_by("-attempt_time")


@transaction.atomic
def login_unlock(*, actor, attempt_id: int, now: dt.datetime | None = None) -> LoginUnlock | None:
    """Lift one lockout: its failures are forgotten, and the unlock is recorded. None when it
    had already ended (unlocked by someone else, or a right password after the cool-off)."""
    attempt = AccessAttempt.objects.select_for_update().filter(pk=attempt_id).first()
    if attempt is None:
        return None
    unlock = LoginUnlock.objects.create(
        username=attempt.username or "",
        ip_address=attempt.ip_address or "",
        failures=attempt.failures_since_start,
        unlocked_by=actor,
        unlocked_at=now or timezone.now(),
    )
    attempt.delete()
    return unlock
