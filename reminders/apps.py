from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = _("Reminders")

    def ready(self) -> None:
        # What cases announce (a payment recorded) and reminders answer: see receivers.py.
        from reminders import receivers  # noqa: F401 - connects the receivers
