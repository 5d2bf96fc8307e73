from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DebtorsConfig(AppConfig):
    name = "debtors"
    verbose_name = _("Ledger of debts")

    def ready(self) -> None:
        # Imported once the apps are ready: the history signal connects, the check of the
        # field keys registers, the debtors' own personal data is named for erasure.
        from . import audit, crypto, erasure  # noqa: F401
