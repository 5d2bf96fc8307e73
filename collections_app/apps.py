from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from .roles import sync_role_permissions

    sync_role_permissions()


class CollectionsAppConfig(AppConfig):
    name = "collections_app"
    verbose_name = _("Collections")

    def ready(self) -> None:
        # Keep the role groups' permissions in step with models added by later migrations.
        post_migrate.connect(_sync_roles, sender=self)
