"""Show times in the viewer's zone (stored in UTC)."""

import zoneinfo

from django.conf import settings
from django.utils import timezone


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
