"""The application runs as a database role that owns nothing; migrations run as the owner.

``manage.py migrate`` with ``DATABASE_OWNER_URL`` connects as the owner and grants the
application's role row access. As that role the product does its day's work (debtors, gate
decisions, sealing and verifying the ledger, an import through COPY), and cannot switch the
append-only triggers off, drop them, truncate, or rewrite a record.
"""

from __future__ import annotations

import contextlib
import io
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from collections_app import database_roles
from compliance import gate
from compliance.models import ContactDecision
from debtors.models import Debtor
from imports.models import ImportJob
from imports.services import import_create, import_run
from tests.compliance.conftest import NY, local
from tests.factories import make_contact_point, make_debtor, make_loan

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "application-role-" + secrets.token_hex(8)


@pytest.fixture
def application_role(worker_id):
    """A login role with no rights of its own, for this test only (roles are cluster-wide)."""
    name = f"collections_app_{worker_id}_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE ROLE {name} LOGIN PASSWORD %s NOSUPERUSER NOCREATEDB NOCREATEROLE",
            [PASSWORD],
        )
    yield name
    with connection.cursor() as cursor:
        # Revokes its grants and default privileges in this database, then the role goes.
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")


@pytest.fixture
def owner():
    return {key: connection.settings_dict[key] for key in database_roles.CONNECTION_KEYS}


@pytest.fixture
def as_application(application_role, owner, settings, tmp_path):
    """Connected as the application's role, after ``migrate`` ran as the owner."""
    settings.DATABASE_OWNER = owner
    settings.MEDIA_ROOT = tmp_path / "media"
    with database_roles.connected_as("default", {"USER": application_role, "PASSWORD": PASSWORD}):
        call_command("migrate", verbosity=0)
        yield application_role


def _refused(statement: str, params=None) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(statement, params)
    return str(refused.value)


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def test_the_application_role_does_the_days_work(as_application):
    assert _current_user() == as_application
    assert database_roles.role_problems() == []

    debtor = make_debtor(country="US", timezone="America/New_York")
    make_contact_point(debtor)
    make_loan(debtor, currency="USD")
    for minute in range(3):
        with contextlib.suppress(gate.ContactBlocked):
            gate.request(
                debtor=debtor, channel="call", actor="tests", now=local(NY, 2026, 3, 2, 9, minute)
            )
    assert ContactDecision.objects.filter(debtor=debtor).count() == 3
    call_command("seal_ledger", verbosity=0)
    call_command("verify_ledger", stdout=io.StringIO())

    job = import_create(
        actor="tests",
        kind="debtors",
        file=io.BytesIO(b"external_ref,full_name,country,national_id\nR-1,Role Test,CN,110101\n"),
        name="debtors.csv",
    )
    assert import_run(job_id=job.pk).status == ImportJob.Status.DONE
    assert Debtor.objects.get(external_ref="R-1").national_id == "110101"


def test_the_application_role_cannot_switch_the_ledger_off_or_rewrite_it(as_application):
    debtor = make_debtor(country="US", timezone="America/New_York")
    make_contact_point(debtor)
    with contextlib.suppress(gate.ContactBlocked):
        gate.request(debtor=debtor, channel="call", actor="tests", now=local(NY, 2026, 3, 2, 23))
    # A permit in the day records a pending contact attempt.
    gate.request(debtor=debtor, channel="call", actor="tests", now=local(NY, 2026, 3, 2, 10))
    table = "compliance_contactdecision"

    assert "must be owner" in _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    assert "must be owner" in _refused(f"DROP TRIGGER compliance_decision_append_only ON {table}")
    assert "permission denied" in _refused("SET session_replication_role = replica")
    # TRUNCATE fires no row trigger, so the role is not granted it.
    assert "permission denied" in _refused(f"TRUNCATE {table}")
    assert "append-only" in _refused("UPDATE compliance_contactdecision SET allowed = NOT allowed")
    assert "append-only" in _refused("DELETE FROM compliance_contactdecision")
    assert "append-only" in _refused("DELETE FROM compliance_contactattempt")
    assert "append-only" in _refused("DELETE FROM debtors_historicaldebtor")
    assert "permission denied" in _refused("CREATE TABLE role_test (id int)")
    assert ContactDecision.objects.filter(debtor=debtor).count() == 2


def test_the_owner_is_what_the_check_reports(owner):
    """Connected as the owner (here the test server's superuser), the database check names
    what makes it unfit to run the application."""
    problems = database_roles.role_problems()
    assert any("owns" in problem or "superuser" in problem for problem in problems)


def test_production_migrates_only_as_a_distinct_owner(settings, owner):
    settings.APP_ENV = "production"
    settings.DATABASE_OWNER = None
    with pytest.raises(ImproperlyConfigured, match="DATABASE_OWNER_URL is required"):
        call_command("migrate", verbosity=0)
    settings.DATABASE_OWNER = owner
    with pytest.raises(ImproperlyConfigured, match="name the same role"):
        call_command("migrate", verbosity=0)
