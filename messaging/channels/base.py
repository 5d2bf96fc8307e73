"""The interface every reminder channel backend shares, and the registry of backends.

Errors a transport may raise, and what the dispatcher does with them:

* ``TransientError``: nothing was delivered and trying later may work (a provider down, a
  rate limit). The reminder is tried again on the backoff schedule.
* ``PermanentError``: nothing was delivered and trying again will not help (a number the
  provider rejects). The reminder fails at once, with the error, for supervisors.
* ``OutcomeUnknown``: the provider may or may not have the message (a timeout after the
  request left). The dispatcher asks ``lookup``; if that cannot tell, the reminder is marked
  "outcome unknown" and never re-sent blindly.

``lookup(key, to=..., since=..., body=...)`` answers from the provider's idempotency key or
status query: ``Found`` when the message exists, ``None`` when the backend knows it does not,
``UNKNOWABLE`` when it has no way to tell (plain SMTP). ``to``, ``since`` and ``body`` help the
providers that search by recipient and date rather than by key.

Which backend serves a channel is a setting: ``REMINDER_CHANNEL_BACKENDS`` (dotted paths),
and for SMS ``SMS_BACKEND`` with ``SMS_BACKEND_ROUTES`` (by number prefix, the longest that
matches: ``+86`` to Alibaba Cloud, ``+1`` to Twilio). ``check_backends`` runs when the app
starts: a selected backend that lacks a setting stops the start with the setting's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from compliance.channels import ChannelBackend

DEFAULT_BACKENDS = {
    "email": "messaging.channels.email.EmailBackend",
    "sms": "messaging.channels.sms.FileSmsBackend",
    "in_app": "messaging.channels.inbox.InboxBackend",
    "letter": "messaging.channels.letter.LetterBackend",
}


class TransientError(Exception):
    """Not delivered; worth trying again later."""


class PermanentError(Exception):
    """Not delivered; trying again will not help."""


class OutcomeUnknown(Exception):
    """The provider may or may not have taken the message."""


@dataclass(frozen=True)
class Found:
    provider_ref: str
    status: str = "sent"  # sent, delivered, failed, bounced


UNKNOWABLE = object()


class ReminderBackend(ChannelBackend):
    """A channel backend the dispatcher can use and, after a crash, question."""

    # The name its sent messages are recorded under (delivery reports find them by it).
    provider = ""
    # Whether ``lookup`` can say for sure that a message was never delivered.
    can_lookup = False

    @classmethod
    def missing_settings(cls) -> list[str]:
        """The settings this backend needs and does not have (checked at start-up)."""
        return []

    def lookup(self, idempotency_key: str, *, to: str = "", since=None, body: str = ""):
        """``Found``, ``None`` (certainly not delivered) or ``UNKNOWABLE``."""
        return UNKNOWABLE


# Short names for the SMS backends (``SMS_BACKEND``, ``SMS_BACKEND_ROUTES``); a dotted path
# works too.
SMS_BACKENDS = {
    "file": "messaging.channels.sms.FileSmsBackend",
    "http": "messaging.channels.sms.HttpSmsBackend",
    "twilio": "messaging.channels.twilio.TwilioSmsBackend",
    "aliyun": "messaging.channels.aliyun.AliyunSmsBackend",
}


@cache
def _backend_class(path: str):
    return import_string(SMS_BACKENDS.get(path, path))


def _configured(channel: str) -> str:
    configured = {**DEFAULT_BACKENDS, **getattr(settings, "REMINDER_CHANNEL_BACKENDS", {})}
    try:
        return configured[channel]
    except KeyError as exc:
        raise PermanentError(f"No backend is configured for channel {channel}.") from exc


def sms_route(to: str) -> str | None:
    """The SMS backend ``SMS_BACKEND_ROUTES`` names for number ``to`` (longest prefix)."""
    routes = getattr(settings, "SMS_BACKEND_ROUTES", {}) or {}
    matches = [prefix for prefix in routes if to.startswith(prefix)]
    return routes[max(matches, key=len)] if matches else None


def get_backend(channel: str, *, to: str = "") -> ReminderBackend:
    """The backend for ``channel`` (for SMS, the one routed for number ``to``)."""
    path = (sms_route(to) if channel == "sms" and to else None) or _configured(channel)
    return _backend_class(path)()


def backend_by_provider(provider: str) -> ReminderBackend | None:
    """The selected backend recording messages under ``provider`` (for lookups), or None."""
    for path in selected_backends():
        cls = _backend_class(path)
        if cls.provider == provider:
            return cls()
    return None


def selected_backends() -> list[str]:
    """Every backend the settings select, for any channel or route."""
    configured = {**DEFAULT_BACKENDS, **getattr(settings, "REMINDER_CHANNEL_BACKENDS", {})}
    routes = getattr(settings, "SMS_BACKEND_ROUTES", {}) or {}
    return sorted({*configured.values(), *routes.values()})


def check_backends() -> None:
    """Refuse to start with a selected backend that lacks a setting, naming it."""
    problems = []
    for path in selected_backends():
        try:
            cls = _backend_class(path)
        except ImportError as exc:
            problems.append(f"{path}: cannot be imported ({exc})")
            continue
        missing = cls.missing_settings()
        if missing:
            problems.append(
                f"{cls.provider or path} is selected but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set"
            )
    if problems:
        raise ImproperlyConfigured("Channel backends: " + "; ".join(problems) + ".")
