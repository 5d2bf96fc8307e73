"""SMS: an HTTP provider adapter (with signed delivery callbacks) and a file backend.

The HTTP adapter speaks a small JSON protocol that most gateways offer in some form:

* ``POST {SMS_PROVIDER_URL}/messages`` with ``{"to", "body", "idempotency_key",
  "callback_url"}`` and ``Authorization: Bearer {SMS_PROVIDER_TOKEN}``; the answer carries the
  provider's ``id``. The provider keeps one message per idempotency key.
* ``GET {SMS_PROVIDER_URL}/messages?idempotency_key=...``: 200 with ``{"id", "status"}``, or
  404 when it never took the message (the status query used after a crash).
* Delivery reports are POSTed to ``callback_url`` with the header ``X-Signature``: the hex
  HMAC-SHA256 of the raw body under ``SMS_CALLBACK_SECRET`` (``verify_callback_signature``).

The file backend writes one JSON file per message under ``REMINDER_OUTBOX_DIR/sms``, named
after the idempotency key (created exclusively, so a second write of the same key is refused),
and appends each hand-over to ``deliveries.log``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings

from messaging.channels.base import (
    UNKNOWABLE,
    Found,
    OutcomeUnknown,
    PermanentError,
    ReminderBackend,
    TransientError,
)


def outbox_dir(kind: str) -> Path:
    base = Path(
        getattr(settings, "REMINDER_OUTBOX_DIR", Path(settings.BASE_DIR) / "var" / "outbox")
    )
    path = base / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def callback_signature(body: bytes, secret: str | None = None) -> str:
    secret = secret if secret is not None else settings.SMS_CALLBACK_SECRET
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_callback_signature(body: bytes, signature: str) -> bool:
    if not settings.SMS_CALLBACK_SECRET or not signature:
        return False
    return hmac.compare_digest(callback_signature(body), signature)


class HttpSmsBackend(ReminderBackend):
    channel = "sms"
    provider = "http"
    can_lookup = True

    @classmethod
    def missing_settings(cls) -> list[str]:
        return [
            name
            for name in ("SMS_PROVIDER_URL", "SMS_PROVIDER_TOKEN", "SMS_CALLBACK_SECRET")
            if not getattr(settings, name, "")
        ]

    def _request(self, method: str, path: str, payload: dict | None = None):
        url = settings.SMS_PROVIDER_URL.rstrip("/") + path
        if not url.startswith(("http://", "https://")):
            raise PermanentError("SMS_PROVIDER_URL must be an http(s) URL.")
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_PROVIDER_TOKEN}",
            },
        )
        timeout = getattr(settings, "SMS_PROVIDER_TIMEOUT_SECONDS", 10)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")

    def _deliver(self, attempt, message) -> str:
        key = message.metadata["idempotency_key"]
        payload = {
            "to": message.to,
            "body": message.body,
            "idempotency_key": key,
            "callback_url": getattr(settings, "SMS_CALLBACK_URL", ""),
        }
        try:
            _status, answer = self._request("POST", "/messages", payload)
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise TransientError(f"SMS provider answered {exc.code}.") from exc
            raise PermanentError(f"SMS provider refused the message ({exc.code}).") from exc
        except TimeoutError as exc:
            raise OutcomeUnknown("The SMS provider did not answer in time.") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionRefusedError):
                raise TransientError("The SMS provider refused the connection.") from exc
            raise OutcomeUnknown(f"SMS provider: {exc.reason}") from exc
        return str(answer.get("id", ""))

    def lookup(self, idempotency_key: str, **_hints):
        query = urllib.parse.urlencode({"idempotency_key": idempotency_key})
        try:
            _status, answer = self._request("GET", f"/messages?{query}")
        except urllib.error.HTTPError as exc:
            return None if exc.code == 404 else UNKNOWABLE
        except (OSError, ValueError):
            return UNKNOWABLE
        return Found(provider_ref=str(answer.get("id", "")), status=answer.get("status", "sent"))


class FileSmsBackend(ReminderBackend):
    """Development and benchmarks: each message is a JSON file named after its key."""

    channel = "sms"
    provider = "file"
    can_lookup = True

    def _path(self, key: str) -> Path:
        return outbox_dir("sms") / f"{key}.json"

    def _deliver(self, attempt, message) -> str:
        delay = float(getattr(settings, "REMINDER_FILE_BACKEND_DELAY_SECONDS", 0) or 0)
        if delay:
            time.sleep(delay)
        key = message.metadata["idempotency_key"]
        # Every hand-over is logged, repeats included, so a double send could not hide behind
        # the one-file-per-key rule (the tests count these lines).
        with (outbox_dir("sms") / "deliveries.log").open("a", encoding="utf-8") as log:
            log.write(key + "\n")
        document = json.dumps(
            {"to": message.to, "body": message.body, "key": key, "attempt": attempt.pk},
            ensure_ascii=False,
        ).encode()
        try:
            fd = os.open(self._path(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return key  # already delivered under this key: the provider keeps one
        with os.fdopen(fd, "wb") as handle:
            handle.write(document)
        return key

    def lookup(self, idempotency_key: str, **_hints):
        return Found(provider_ref=idempotency_key) if self._path(idempotency_key).exists() else None
