"""The in-app / self-service inbox: the message is stored and shown to the debtor."""

from __future__ import annotations

from messaging.channels.base import Found, ReminderBackend
from messaging.models import InboxMessage


class InboxBackend(ReminderBackend):
    channel = "in_app"
    provider = "inbox"
    can_lookup = True

    def _deliver(self, attempt, message) -> str:
        key = message.metadata["idempotency_key"]
        row, _created = InboxMessage.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "debtor_id": message.debtor_id,
                "subject": message.subject,
                "body": message.body,
            },
        )
        return f"inbox-{row.pk}"

    def lookup(self, idempotency_key: str, **_hints):
        row = InboxMessage.objects.filter(idempotency_key=idempotency_key).first()
        return Found(provider_ref=f"inbox-{row.pk}") if row else None
