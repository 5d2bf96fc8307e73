"""What every channel backend must respect: no permit, no sending.

A concrete backend (SMS gateway, email, dialer, letters) subclasses ``ChannelBackend`` and
implements ``_deliver``, its low-level transport. Callers only ever call ``send``, which spends
the permit first (``gate.redeem_permit``) and only then calls ``_deliver``, or ``send_many``,
which spends every permit of a batch in one transaction and then delivers each message.
Subclasses may override neither, and no module other than this one calls a transport method:
a test scans the project's source for such calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .gate import redeem_permit, redeem_permits
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
        for name in ("send", "send_many"):
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} may not override {name}(): the permit check lives there."
                )

    def send(self, permit_token: str, message: OutboundMessage) -> DeliveryResult:
        """Spend the permit, then deliver. Raises ``gate.InvalidPermit`` without a valid one."""
        attempt = redeem_permit(permit_token, channel=self.channel, debtor_id=message.debtor_id)
        provider_ref = self._deliver(attempt, message)
        return DeliveryResult(attempt=attempt, provider_ref=provider_ref or "")

    def send_many(
        self, items: Sequence[tuple[str, OutboundMessage]]
    ) -> list[DeliveryResult | Exception]:
        """``send`` for a batch of ``(permit_token, message)``: every permit is spent first, in
        one transaction, then each message with a spent permit is delivered. One result per
        item, in order: its ``DeliveryResult``, its ``gate.InvalidPermit`` (nothing delivered),
        or the exception its transport raised (the batch goes on with the next message)."""
        attempts = redeem_permits(
            [(token, self.channel, message.debtor_id) for token, message in items]
        )
        results: list[DeliveryResult | Exception] = []
        for (_token, message), attempt in zip(items, attempts, strict=True):
            if isinstance(attempt, Exception):
                results.append(attempt)
                continue
            try:
                provider_ref = self._deliver(attempt, message)
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who records it
                results.append(exc)
                continue
            results.append(DeliveryResult(attempt=attempt, provider_ref=provider_ref or ""))
        return results

    def _deliver(self, attempt: ContactAttempt, message: OutboundMessage) -> str:
        """Hand the message to the transport; return the provider's reference."""
        raise NotImplementedError
