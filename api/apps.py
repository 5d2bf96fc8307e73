from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self):
        # Token revocations listen to sign-outs and user saves.
        from api import authentication  # noqa: F401
