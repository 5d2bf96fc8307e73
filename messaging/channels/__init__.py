"""Channel backends: email, SMS, the in-app inbox and letters, behind one interface.

Every backend subclasses ``compliance.channels.ChannelBackend``: callers hand it a permit
from the gate and an ``OutboundMessage``; ``send`` spends the permit before anything leaves.
Which class serves which channel is a setting (``REMINDER_CHANNEL_BACKENDS``). A call task is
not a backend: it sends nothing (see ``reminders.call_task``).
"""

from messaging.channels.base import (
    Found,
    OutcomeUnknown,
    PermanentError,
    ReminderBackend,
    TransientError,
    get_backend,
)

__all__ = [
    "Found",
    "OutcomeUnknown",
    "PermanentError",
    "ReminderBackend",
    "TransientError",
    "get_backend",
]
