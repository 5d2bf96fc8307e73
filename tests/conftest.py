"""Shared fixtures: users of each role and small factories for the ledger.

The suite runs against real PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``, set by
``make test``), never against a stand-in, so that nothing passes here and fails in production.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from cases.roles import ADMIN, COLLECTOR, SUPERVISOR

from .factories import make_case, make_debtor, make_loan


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine and not os.environ.get("ALLOW_NON_POSTGRES_TESTS"):
        raise pytest.UsageError(
            "The tests run against PostgreSQL: set DATABASE_URL (make test does), "
            f"got engine {engine}."
        )


@pytest.fixture(autouse=True)
def _ledger_anchors_of_this_test(settings, tmp_path):
    """Each test anchors its own ledger in its own file."""
    settings.LEDGER_ANCHOR_PATH = str(tmp_path / "ledger-anchors.jsonl")


@pytest.fixture(autouse=True)
def _api_rates_out_of_the_way(settings):
    """The suite calls the API far faster than anyone does; the throttle tests set their own
    rates."""
    settings.API_THROTTLE_RATES = {"user": "100000/min", "address": "100000/min"}


@pytest.fixture
def fast_password_hashing(settings):
    """For tests that make many users and sign nobody in by password on purpose: a proper
    hash costs half a second a user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str, role: str | None) -> User:
    user = User.objects.create_user(
        username=username, password="test-pass-123", email=f"{username}@example.com"
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def collector(db) -> User:
    return _user("alice", COLLECTOR)


@pytest.fixture
def other_collector(db) -> User:
    return _user("bob", COLLECTOR)


@pytest.fixture
def supervisor(db) -> User:
    return _user("sam", SUPERVISOR)


@pytest.fixture
def admin_user(db) -> User:
    return _user("ada", ADMIN)


@pytest.fixture
def debtor(db):
    return make_debtor()


@pytest.fixture
def loan(debtor):
    return make_loan(debtor)


@pytest.fixture
def case(debtor, collector):
    return make_case(debtor, collector)


def pytest_collection_modifyitems(config, items):
    """Every transactional test restores the migrated data (roles, policy presets, shipped
    strategies) with a serialized rollback.

    A transactional test empties the tables when it ends. Mixing tests that restore the data
    with tests that do not breaks the former (their restore collides with rows that
    ``post_migrate`` re-created), so all of them restore it.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction"):
            continue
        if marker.kwargs.get("serialized_rollback"):
            continue
        restore = pytest.mark.django_db(
            *marker.args, **{**marker.kwargs, "serialized_rollback": True}
        )
        # Prepended, so that it is the closest django_db marker of the test.
        item.add_marker(restore, append=False)
