from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        # Imported once the apps are loaded: a provider selected without its credentials
        # stops the start, naming what is missing.
        from messaging.channels.base import check_backends

        check_backends()
