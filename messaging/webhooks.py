"""``/webhooks/``: what providers post back. Every endpoint checks the provider's signature or
token first (403 and nothing changes when it fails), makes its change in the database before
it answers, and answers 200 to a message id it does not know (nothing changes).

* Twilio (form-encoded, ``X-Twilio-Signature`` over the URL Twilio requested and the POST
  parameters, with ``TWILIO_AUTH_TOKEN``): ``sms/`` inbound messages, answered with TwiML;
  ``status/`` status callbacks.
* Alibaba Cloud (JSON arrays, ``?token=`` equal to ``ALIYUN_SMS_PUSH_TOKEN``): ``sms-up/``
  replies, ``sms-report/`` delivery reports; each answered ``{"code": 0, "msg": "成功"}``.
* Email (a raw RFC 5322 message, header ``X-Webhook-Token`` equal to ``EMAIL_INBOUND_TOKEN``):
  ``email/inbound/`` bounces (RFC 3464), complaints (RFC 5965) and mailto unsubscribes.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from debtors.validators import normalize_phone
from messaging import inbound, tasks
from messaging.channels import aliyun, twilio

logger = logging.getLogger(__name__)

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
ALIYUN_OK = {"code": 0, "msg": "成功"}
MAX_ITEMS = 1000


def _same(given: str, expected: str) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(given, expected)


# --- Twilio -----------------------------------------------------------------------------------


def _twilio_url(request: HttpRequest) -> str:
    """The URL Twilio requested: ``WEBHOOK_BASE_URL`` + the path when set (behind a proxy),
    else the one Django sees."""
    if settings.WEBHOOK_BASE_URL:
        return settings.WEBHOOK_BASE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def _twilio_signed(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return validator.validate(_twilio_url(request), request.POST.dict(), signature)


def _e164(number: str, region: str = "") -> str:
    try:
        return normalize_phone(number, region or None)
    except Exception:  # noqa: BLE001 - kept as sent: it simply matches no contact point
        return number.strip()


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    if not _twilio_signed(request):
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    data = request.POST
    sid = data.get("MessageSid") or data.get("SmsSid") or ""
    sender = data.get("From", "")
    if not sid or not sender:
        return HttpResponse("MessageSid and From are required.", status=400)
    outcome = inbound.sms_received(
        inbound.Sms(
            provider="twilio",
            provider_ref=sid,
            from_number=_e164(sender, data.get("FromCountry", "")),
            to_number=data.get("To", ""),
            body=data.get("Body", ""),
        )
    )
    # The answer to a keyword goes back in the TwiML itself (its permit spent like any send):
    # Twilio delivers it, and the webhook answers without waiting for another request.
    reply = twilio.TwimlReply()
    if outcome.inbound and outcome.answer:
        inbound.send_answer(outcome.inbound.pk, backend=reply)
    return HttpResponse(twilio.twiml(reply.words), content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _twilio_signed(request):
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    data = request.POST
    sid = data.get("MessageSid") or data.get("SmsSid") or ""
    status = twilio.STATUSES.get(data.get("MessageStatus") or data.get("SmsStatus") or "")
    if sid and status:
        code = data.get("ErrorCode", "")
        inbound.delivery_reported(
            provider="twilio",
            provider_ref=sid,
            status=status,
            error=code,
            permanent=code in twilio.PERMANENT_CODES,
        )
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")


# --- Alibaba Cloud ----------------------------------------------------------------------------


def _aliyun_items(request: HttpRequest):
    """The pushed JSON array, or an error response."""
    if not _same(request.GET.get("token", ""), settings.ALIYUN_SMS_PUSH_TOKEN):
        return None, JsonResponse({"code": 403, "msg": "bad token"}, status=403)
    try:
        items = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, JsonResponse({"code": 400, "msg": "the body is not JSON"}, status=400)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        return None, JsonResponse({"code": 400, "msg": "expected a JSON array"}, status=400)
    return [item for item in items if isinstance(item, dict)], None


def _answer_later(inbound_id: int) -> None:
    """Alibaba Cloud has no answer in the response: the keyword's answer is sent by a worker
    once the keyword's change is committed, so the webhook answers at once."""
    transaction.on_commit(lambda: tasks.answer_keyword.delay(inbound_id))


def _china_time(text) -> dt.datetime | None:
    try:
        moment = dt.datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=aliyun.CHINA)


def _aliyun_number(phone) -> str:
    number = str(phone or "").strip()
    if number.startswith("+"):
        return _e164(number)
    if number.startswith("00"):
        return _e164("+" + number[2:])
    return _e164(number, "CN")


@csrf_exempt
@require_POST
def aliyun_sms_up(request: HttpRequest) -> HttpResponse:
    items, refused = _aliyun_items(request)
    if refused:
        return refused
    for item in items:
        phone, sequence = item.get("phone_number"), item.get("sequence_id")
        if not phone or sequence in (None, ""):
            continue
        received = _china_time(item.get("send_time"))
        outcome = inbound.sms_received(
            inbound.Sms(
                provider="aliyun",
                provider_ref=str(sequence),
                from_number=_aliyun_number(phone),
                to_number=str(item.get("dest_code") or ""),
                body=str(item.get("content") or ""),
                received_at=min(received, timezone.now()) if received else None,
            )
        )
        if outcome.inbound and outcome.answer:
            _answer_later(outcome.inbound.pk)
    return JsonResponse(ALIYUN_OK, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def aliyun_sms_report(request: HttpRequest) -> HttpResponse:
    items, refused = _aliyun_items(request)
    if refused:
        return refused
    for item in items:
        success = item.get("success")
        if isinstance(success, str):
            success = success.lower() == "true"
        code = str(item.get("err_code") or "")
        inbound.delivery_reported(
            provider="aliyun",
            provider_ref=str(item.get("biz_id") or ""),
            idempotency_key=str(item.get("out_id") or ""),
            status="delivered" if success else "failed",
            error=code,
            permanent=not success and code in aliyun.permanent_codes(),
        )
    return JsonResponse(ALIYUN_OK, json_dumps_params={"ensure_ascii": False})


# --- Email ------------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def email_inbound(request: HttpRequest) -> HttpResponse:
    if not _same(request.headers.get("X-Webhook-Token", ""), settings.EMAIL_INBOUND_TOKEN):
        return JsonResponse({"error": "bad token"}, status=403)
    if not request.body:
        return JsonResponse({"error": "the body must be a raw RFC 5322 message"}, status=400)
    message = inbound.mail_received(request.body)
    return JsonResponse({"kind": message.kind, "effect": message.effect})
