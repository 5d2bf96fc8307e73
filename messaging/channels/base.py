"""The interface every reminder channel backend shares, and the registry of backends.

Errors a transport may raise, and what the dispatcher does with them:

* ``TransientError``: nothing was delivered and trying later may work (a provider down, a
  rate limit). The reminder is tried again on the backoff schedule.
* ``PermanentError``: nothing was delivered and trying again will not help (a number the
  provider rejects). The reminder fails at once, with the error, for supervisors.
* ``OutcomeUnknown``: the provider may or may not have the message (a timeout after the
  request left). The dispatcher asks ``lookup``; if that cannot tell, the reminder is marked
  "outcome unknown" and never re-sent blindly.

``lookup(key)`` answers from the provider's idempotency key or status query: ``Found`` when
the message exists, ``None`` when the backend knows it does not, ``UNKNOWABLE`` when it has no
way to tell (plain SMTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
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

    # Whether ``lookup`` can say for sure that a message was never delivered.
    can_lookup = False

    def lookup(self, idempotency_key: str):
        """``Found``, ``None`` (certainly not delivered) or ``UNKNOWABLE``."""
        return UNKNOWABLE


@cache
def _backend_class(path: str):
    return import_string(path)


def get_backend(channel: str) -> ReminderBackend:
    configured = {**DEFAULT_BACKENDS, **getattr(settings, "REMINDER_CHANNEL_BACKENDS", {})}
    try:
        path = configured[channel]
    except KeyError as exc:
        raise PermanentError(f"No backend is configured for channel {channel}.") from exc
    return _backend_class(path)()
