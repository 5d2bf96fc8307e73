from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfServiceConfig(AppConfig):
    name = "selfservice"
    verbose_name = _("Self-service")

    def ready(self) -> None:
        # What the portal holds of a debtor is erased with its personal data (debtors.erasure).
        from debtors.erasure import personal_data
        from selfservice.models import PortalDispute, PortalEvent, PortalFeedback, PortalPlanRequest

        personal_data(PortalEvent, "detail")
        personal_data(PortalDispute, "reason", "document", "document_name", files=["document"])
        personal_data(PortalPlanRequest, "note")
        personal_data(PortalFeedback, "comment")
