"""``manage.py migrate`` as the role that owns the tables.

With ``DATABASE_OWNER_URL`` set, the migrations run connected as that role, which then grants
``DATABASE_URL``'s role row access to every table and sequence (see
``collections_app.database_roles``). Without it, Django's ``migrate`` runs as it always does.
"""

from __future__ import annotations

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from collections_app import database_roles


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        alias = options["database"]
        database_roles.check_roles_for_migrate(alias)
        owner = database_roles.owner_settings()
        application_role = connections[alias].settings_dict.get("USER")
        if owner is None or owner.get("USER") in (None, "", application_role):
            return super().handle(*args, **options)
        with database_roles.connected_as(alias, owner):
            super().handle(*args, **options)
            database_roles.grant_to_application(alias, application_role)
        if options["verbosity"] >= 1:
            self.stdout.write(f"Row access granted to the application's role {application_role}.")
