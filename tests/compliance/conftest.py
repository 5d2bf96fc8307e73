"""Helpers for the compliance tests: debtors in known zones and policies with chosen rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from compliance.models import ContactPolicy
from compliance.services import policy_save
from tests.factories import make_contact_point, make_debtor, make_loan

NY = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def local(tz, *args) -> dt.datetime:
    """An aware instant from local wall-clock fields: ``local(NY, 2026, 3, 2, 9, 0)``."""
    return dt.datetime(*args, tzinfo=tz).astimezone(UTC)


def current_policy(slug: str) -> ContactPolicy:
    return ContactPolicy.objects.get(slug=slug, is_current=True)


def set_rules(slug: str, rules: dict) -> ContactPolicy:
    return policy_save(actor="tests", policy=current_policy(slug), rules=rules)


@pytest.fixture
def us_debtor(db):
    debtor = make_debtor(country="US", timezone="America/New_York", national_id="")
    make_contact_point(debtor, value="+12125550123")
    return debtor


@pytest.fixture
def us_loan(us_debtor):
    return make_loan(us_debtor, currency="USD")


@pytest.fixture
def cn_debtor(db):
    debtor = make_debtor(country="CN", timezone="Asia/Shanghai")
    return debtor


@pytest.fixture
def cn_phone(cn_debtor):
    return make_contact_point(cn_debtor, value="+8613800138000")


@pytest.fixture
def default_debtor(db):
    """A debtor no jurisdiction policy covers (the default policy applies)."""
    return make_debtor(country="GB", timezone="Europe/London", national_id="")
