"""The SMS provider's delivery reports for reminders (``/reminders/sms/delivery/``)."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from compliance.models import ContactAttempt
from messaging.channels.sms import verify_callback_signature
from reminders import services
from reminders.models import Reminder


@csrf_exempt
@require_POST
def sms_delivery_report(request: HttpRequest) -> JsonResponse:
    """A delivery report from the SMS provider, signed with ``SMS_CALLBACK_SECRET``."""
    body = request.body
    if not verify_callback_signature(body, request.headers.get("X-Signature", "")):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        report = json.loads(body)
        key, status = str(report["idempotency_key"]), str(report["status"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad report"}, status=400)
    reminder = Reminder.objects.filter(pk=_reminder_id(key)).first() if _reminder_id(key) else None
    if reminder is None or reminder.contact_attempt_id is None:
        return JsonResponse({"error": "unknown message"}, status=404)
    attempt = ContactAttempt.objects.get(pk=reminder.contact_attempt_id)
    changed = services.attempt_delivery_status_set(attempt=attempt, status=status)
    return JsonResponse({"updated": changed})


def _reminder_id(key: str) -> int | None:
    prefix = "reminder-"
    if key.startswith(prefix) and key[len(prefix) :].isdigit():
        return int(key[len(prefix) :])
    return None
