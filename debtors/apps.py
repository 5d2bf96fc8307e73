from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DebtorsConfig(AppConfig):
    name = "debtors"
    verbose_name = _("Ledger of debts")

    def ready(self) -> None:
        from . import (
            audit,  # noqa: F401  (connects the history signal)
            crypto,  # noqa: F401  (registers the check of the field keys)
        )
