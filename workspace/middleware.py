"""Show times in the viewer's zone (stored in UTC); end staff sessions idle or old."""

import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _


class ViewerTimezoneMiddleware:
    """Activate the zone the viewer chose (session), or the deployment's default."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.session.get("viewer_timezone") if hasattr(request, "session") else None
        try:
            timezone.activate(zoneinfo.ZoneInfo(name or settings.DEFAULT_VIEWER_TIMEZONE))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SessionLimitsMiddleware:
    """Staff sessions end after ``SESSION_IDLE_MINUTES`` without a request and after
    ``SESSION_MAX_HOURS`` in all, whatever the cookie says. The instants are kept in the session
    (server-side); the last-seen one is written at most once a minute, so a page costs no
    session write. A session ended here is signed out before the view runs: pages send the
    user to the login page, the API answers as to anyone not signed in."""

    STARTED, SEEN = "staff_session_started", "staff_session_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, int(time.time()))
        return self.get_response(request)

    def _check(self, request, now: int) -> None:
        session = request.session
        started, seen = session.get(self.STARTED), session.get(self.SEEN)
        if started is None or seen is None:
            session[self.STARTED] = session[self.SEEN] = now
            return
        idle = settings.SESSION_IDLE_MINUTES * 60
        whole = settings.SESSION_MAX_HOURS * 3600
        if now - seen > idle or now - started > whole:
            logout(request)
            messages.info(request, _("Your session ended. Please sign in again."))
            return
        if now - seen >= 60:
            session[self.SEEN] = now


@receiver(user_logged_in)
def _session_started(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SessionLimitsMiddleware.STARTED] = now
        request.session[SessionLimitsMiddleware.SEEN] = now
