"""Two database roles: the **owner** of the tables, which runs the migrations, and the
**application's** role, which owns nothing.

Why: the append-only triggers (decision ledger, contact attempts, history, reveals, portal
events) are only as strong as the role that could switch them off. ``ALTER TABLE … DISABLE
TRIGGER``, ``DROP TRIGGER``, ``session_replication_role`` and ``TRUNCATE`` (which fires no row
trigger) are open to a table's owner or a superuser. The web process, the workers and beat
connect as ``DATABASE_URL``'s role, which is granted reading and writing rows and nothing
more; ``manage.py migrate`` connects as ``DATABASE_OWNER_URL``'s role and, after migrating,
grants the application's role what it needs on every table and sequence (and on those the
owner creates later).

Without ``DATABASE_OWNER_URL`` (development, tests, the demo) one role does both, as before.
In production ``migrate`` refuses to run without it, or with the same role for both, and
``manage.py check --database default`` reports an application role that is a superuser or
owns tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

# What the application's role may do with rows: no TRUNCATE (it bypasses row triggers), no
# REFERENCES or TRIGGER.
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"
CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def owner_settings() -> dict | None:
    """The owner role's connection settings (from ``DATABASE_OWNER_URL``), or None."""
    return getattr(settings, "DATABASE_OWNER", None)


def check_roles_for_migrate(alias: str) -> None:
    """Refuse, in production, to migrate without an owner role distinct from the app's."""
    if settings.APP_ENV != "production":
        return
    owner = owner_settings()
    if owner is None:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL is required to migrate in production: migrations run as the "
            "role that owns the tables, the application as DATABASE_URL's role, which owns "
            "nothing."
        )
    if owner.get("USER") == connections[alias].settings_dict.get("USER"):
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL and DATABASE_URL name the same role; the application's role "
            "must not own the tables (see README, Security and personal data)."
        )


@contextmanager
def connected_as(alias: str, role: dict) -> Iterator[None]:
    """Connect ``alias`` with another role's credentials for the duration, then reconnect as
    before. ``role`` is a settings dict (``NAME``, ``USER``, ``PASSWORD``, ``HOST``, ``PORT``,
    ``OPTIONS``); keys it leaves out keep their value."""
    connection = connections[alias]
    kept = {key: connection.settings_dict.get(key) for key in CONNECTION_KEYS}
    connection.close()
    connection.settings_dict.update(
        {key: role[key] for key in CONNECTION_KEYS if role.get(key) not in (None, "")}
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(kept)


def grant_to_application(alias: str, role: str) -> None:
    """Grant ``role`` row access to everything in the current schema, now and for tables the
    connected (owner) role creates later. Run as the owner; running it twice changes nothing."""
    with connections[alias].cursor() as cursor:
        quoted = connections[alias].ops.quote_name(role)
        cursor.execute("SELECT current_schema()")
        schema = connections[alias].ops.quote_name(cursor.fetchone()[0])
        for statement in (
            f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
            f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
            f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT {TABLE_PRIVILEGES} ON TABLES TO {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {quoted}",
        ):
            cursor.execute(statement)


def role_problems(alias: str = "default") -> list[str]:
    """What makes the connected role unfit to run the application: superuser, or owner of
    tables in its schema (either could switch the append-only triggers off)."""
    problems = []
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        role, superuser = cursor.fetchone()
        if superuser:
            problems.append(f"the role {role} is a superuser")
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND tableowner = current_user"
        )
        owned = cursor.fetchone()[0]
        if owned:
            problems.append(f"the role {role} owns {owned} tables")
    return problems


@checks.register(checks.Tags.database)
def check_application_role(app_configs=None, databases=None, **kwargs):
    """``manage.py check --database default``: in production, the application's role owns
    nothing and is no superuser."""
    if settings.APP_ENV != "production" or not databases or "default" not in databases:
        return []
    return [
        checks.Error(
            f"The application's database role cannot be trusted with the ledger: {problem}.",
            hint="Connect as a role that owns nothing (DATABASE_URL) and run migrations as the "
            "owner (DATABASE_OWNER_URL); see README, Security and personal data.",
            id="collections_app.E001",
        )
        for problem in role_problems("default")
    ]
