from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsAppConfig(AppConfig):
    """The project itself: settings, urls, the Celery app. Its migrations are the history of
    the tables from before each area became an app of its own (``0010`` hands them over,
    keeping every table and row)."""

    name = "collections_app"
    verbose_name = _("Collections")

    def ready(self):
        # Registers the check of the application's database role.
        from collections_app import database_roles  # noqa: F401
