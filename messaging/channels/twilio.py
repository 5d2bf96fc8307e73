"""SMS through Twilio Programmable Messaging, with the official ``twilio`` SDK.

Settings: ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, a sender (``TWILIO_FROM`` or
``TWILIO_MESSAGING_SERVICE_SID``) and ``WEBHOOK_BASE_URL``, the public address Twilio calls
back: each message is sent with a status callback to ``/webhooks/twilio/status/`` there.

How Twilio's answers map onto the dispatcher's errors:

* HTTP 429 and 5xx, or a connection that never opened: ``TransientError`` (tried again later).
* Any other error answer (an invalid or unsubscribed number: 21211, 21610, 21614 ...):
  ``PermanentError``.
* A timeout or a connection lost after the request left: ``OutcomeUnknown``. Twilio keeps no
  idempotency key for messages, so ``lookup`` searches the messages sent to the number since
  the attempt began and matches the body; with no body it answers "certainly not sent" only
  when nothing went to the number since then, and otherwise cannot tell.
"""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from messaging.channels.base import (
    UNKNOWABLE,
    Found,
    OutcomeUnknown,
    PermanentError,
    ReminderBackend,
    TransientError,
)

# Twilio's message statuses, as our delivery statuses.
STATUSES = {
    "accepted": "queued",
    "queued": "queued",
    "scheduled": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# Error codes that say the number itself cannot take messages (Twilio's error dictionary):
# invalid "To", unreachable or unknown destination, landline, not a mobile number.
PERMANENT_CODES = frozenset({"21211", "21214", "21407", "21612", "21614", "30005", "30006"})


def webhook_url(name: str) -> str:
    return settings.WEBHOOK_BASE_URL.rstrip("/") + reverse(name)


def client() -> Client:
    http = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS)
    twilio = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
    if settings.TWILIO_API_BASE_URL:
        # The API domain's address (a stand-in on loopback in the tests).
        twilio.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")
    return twilio


class TwilioSmsBackend(ReminderBackend):
    channel = "sms"
    provider = "twilio"
    can_lookup = True

    @classmethod
    def missing_settings(cls) -> list[str]:
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "WEBHOOK_BASE_URL")
            if not getattr(settings, name, "")
        ]
        if not (settings.TWILIO_FROM or settings.TWILIO_MESSAGING_SERVICE_SID):
            missing.append("TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID)")
        return missing

    def _deliver(self, attempt, message) -> str:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM}
        )
        try:
            sent = client().messages.create(
                to=message.to,
                body=message.body,
                status_callback=webhook_url("webhook-twilio-status"),
                **sender,
            )
        except TwilioRestException as exc:
            text = f"Twilio answered {exc.status} (error {exc.code}): {exc.msg}"
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(text) from exc
            raise PermanentError(text) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientError(f"Twilio could not be reached: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise TransientError(f"Twilio could not be reached: {exc}") from exc
            raise OutcomeUnknown(f"Twilio: the connection broke: {exc}") from exc
        except (requests.exceptions.Timeout, TwilioException) as exc:
            raise OutcomeUnknown(f"Twilio did not answer in time: {exc}") from exc
        return sent.sid

    def lookup(self, idempotency_key: str, *, to: str = "", since=None, body: str = ""):
        if not to or since is None:
            return UNKNOWABLE
        try:
            found = client().messages.list(
                to=to, date_sent_after=since - dt.timedelta(days=1), limit=50
            )
        except (TwilioException, requests.exceptions.RequestException):
            return UNKNOWABLE
        candidates = [
            m
            for m in found
            if (m.date_created is None or m.date_created >= since - dt.timedelta(minutes=1))
            and (not body or m.body == body)
        ]
        if not candidates:
            return None
        if body:
            sent = candidates[0]
            return Found(provider_ref=sent.sid, status=STATUSES.get(sent.status, "sent"))
        # Without the words, another message to the number cannot be told from this one.
        return UNKNOWABLE


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """Whether the request cannot have left (refused, unknown host), as opposed to broken."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, NewConnectionError)


class TwimlReply(ReminderBackend):
    """An answer Twilio sends itself, as the ``<Message>`` of the TwiML that answers its
    inbound webhook: no API call, so the webhook answers at once. The permit is spent as for
    any send; the words are kept here for the response."""

    channel = "sms"
    provider = "twilio"

    def __init__(self):
        self.words: list[str] = []

    def _deliver(self, attempt, message) -> str:
        self.words.append(message.body)
        return ""


def twiml(words: list[str]) -> str:
    """A TwiML response that sends ``words`` back to the sender (none: an empty response)."""
    messages = "".join(f"<Message>{escape(text)}</Message>" for text in words)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{messages}</Response>'
