from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        # Imported once the apps are loaded: a provider selected without its credentials
        # stops the start, naming what is missing.
        from messaging.channels.base import check_backends

        check_backends()
        _register_personal_data()


def _register_personal_data() -> None:
    """What messages hold of a debtor is erased with the debtor's personal data."""
    # Imported once the apps are loaded: models.
    from debtors.erasure import personal_data
    from debtors.models import ContactPoint
    from messaging.models import (
        InboundMessage,
        InboxMessage,
        PrintJob,
        ReceivedMessage,
        SentMessage,
    )

    def inbound_of(debtor_ids):
        numbers = ContactPoint.objects.filter(debtor_id__in=debtor_ids).values("value")
        return InboundMessage.objects.filter(
            Q(received__debtor_id__in=debtor_ids) | Q(from_address__in=numbers)
        ).distinct()

    personal_data(SentMessage, "to", "subject", "body")
    personal_data(ReceivedMessage, "body")
    personal_data(InboxMessage, "subject", "body")
    personal_data(InboundMessage, "from_address", "body", "answer", select=inbound_of)
    personal_data(PrintJob, "address")
