from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from cases.roles import sync_role_permissions


def _sync_roles(sender, **kwargs) -> None:
    sync_role_permissions()


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # After each app's migrate, so that the last one gives the role groups the permissions
        # of every app (an app's permissions are created by its own post_migrate).
        post_migrate.connect(_sync_roles, dispatch_uid="cases.sync_roles")
        from cases import receivers  # noqa: F401 - connects the receivers

        # Notes and callbacks are erased with the debtor's personal data (debtors.erasure).
        from cases.models import Callback, Note
        from debtors.erasure import personal_data

        personal_data(Note, "body")
        personal_data(Callback, "note")
