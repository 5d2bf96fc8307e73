"""What every channel backend must respect: no permit, no sending.

A concrete backend (SMS gateway, email, dialer, letters) subclasses ``ChannelBackend`` and
implements ``_deliver``, its low-level transport. Callers only ever call ``send``, which spends
the permit first (``gate.redeem_permit``) and only then calls ``_deliver``. Subclasses may not
override ``send``, and no module other than this one calls a transport method: a test scans
the project's source for such calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .gate import redeem_permit
from .models import ContactAttempt

# The names of the low-level transport methods only ``ChannelBackend.send`` may call.
TRANSPORT_METHODS = frozenset({"_deliver"})


@dataclass(frozen=True)
class OutboundMessage:
    debtor_id: int
    to: str
    body: str
    subject: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    attempt: ContactAttempt
    provider_ref: str = ""


class ChannelBackend:
    """Base class of the channel backends. ``channel`` is a ``debtors.models.Channel`` value."""

    channel: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "send" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} may not override send(): the permit check lives there."
            )

    def send(self, permit_token: str, message: OutboundMessage) -> DeliveryResult:
        """Spend the permit, then deliver. Raises ``gate.InvalidPermit`` without a valid one."""
        attempt = redeem_permit(permit_token, channel=self.channel, debtor_id=message.debtor_id)
        provider_ref = self._deliver(attempt, message)
        return DeliveryResult(attempt=attempt, provider_ref=provider_ref or "")

    def _deliver(self, attempt: ContactAttempt, message: OutboundMessage) -> str:
        """Hand the message to the transport; return the provider's reference."""
        raise NotImplementedError
