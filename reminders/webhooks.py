"""The generic HTTP SMS gateway's delivery reports (``/reminders/sms/delivery/``), for every
SMS sent through it: a reminder's or a collector's."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging import inbound
from messaging.channels.sms import verify_callback_signature

# The gateway's statuses, as delivery statuses.
STATUSES = {
    "queued": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "bounced": "failed",
}


@csrf_exempt
@require_POST
def sms_delivery_report(request: HttpRequest) -> JsonResponse:
    """A delivery report from the SMS gateway, signed with ``SMS_CALLBACK_SECRET``. A report
    for a message we never sent answers 200 and changes nothing."""
    body = request.body
    if not verify_callback_signature(body, request.headers.get("X-Signature", "")):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        report = json.loads(body)
        key, status = str(report["idempotency_key"]), str(report["status"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad report"}, status=400)
    if status not in STATUSES:
        return JsonResponse({"error": f"unknown status {status[:40]!r}"}, status=400)
    found = inbound.delivery_reported(
        provider="http",
        idempotency_key=key,
        status=STATUSES[status],
        error=str(report.get("error", ""))[:100],
        permanent=bool(report.get("permanent", False)),
    )
    return JsonResponse({"updated": found is not None})
