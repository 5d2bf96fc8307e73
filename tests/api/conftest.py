"""API clients authenticated as each role, by token (the way integrations call the API)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import make_case, make_contact_point, make_debtor, make_loan


def token_client(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_collector(collector) -> APIClient:
    return token_client(collector)


@pytest.fixture
def as_other_collector(other_collector) -> APIClient:
    return token_client(other_collector)


@pytest.fixture
def as_supervisor(supervisor) -> APIClient:
    return token_client(supervisor)


@pytest.fixture
def as_admin(admin_user) -> APIClient:
    return token_client(admin_user)


# --- Debtors in a known zone, for the compliance endpoints ------------------------------------

NY = ZoneInfo("America/New_York")
# A Monday in March 2026 (no US holiday), 10:00 in New York.
MONDAY_10_NY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=NY)


@pytest.fixture
def us_debtor(collector):
    """A US debtor (Regulation F preset) assigned to ``collector``, with one mobile phone."""
    debtor = make_debtor(country="US", timezone="America/New_York", national_id="")
    make_case(debtor, collector)
    make_contact_point(debtor, value="+12125550123")
    return debtor


@pytest.fixture
def us_loan(us_debtor):
    return make_loan(us_debtor, currency="USD")


@pytest.fixture
def their_debtor(other_collector):
    """A debtor of another collector, with a loan and a phone."""
    debtor = make_debtor(country="US", timezone="America/New_York", national_id="")
    make_case(debtor, other_collector)
    make_contact_point(debtor, value="+12125550199")
    make_loan(debtor, currency="USD")
    return debtor
