from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_presets(sender, **kwargs) -> None:
    # Models cannot be imported while the app registry loads this module.
    from .models import ContactPolicy
    from .presets import install_presets

    install_presets(ContactPolicy)


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self) -> None:
        # The presets come with migration 0003; after a ``flush`` they come back here.
        post_migrate.connect(_install_presets, sender=self)
        # A preference's note is erased with the debtor's personal data (debtors.erasure).
        from compliance.models import DebtorContactPreference
        from debtors.erasure import personal_data

        personal_data(DebtorContactPreference, "note")
