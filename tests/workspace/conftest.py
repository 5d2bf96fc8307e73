"""Fixtures for the workspace pages: a collector's case with a Chinese debtor, a phone, a loan."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_case, make_contact_point, make_debtor, make_loan

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


# Inside the Chinese policy's call hours (08:00-22:00 Shanghai) and outside them.
DAYTIME = shanghai(2026, 3, 2, 10, 0)
NIGHT = shanghai(2026, 3, 2, 23, 30)


@pytest.fixture
def phone(debtor):
    return make_contact_point(debtor, value="+8613800138000", is_primary=True)


@pytest.fixture
def work(collector, debtor, phone, loan):
    """The collector's case: debtor, phone and a loan of 300.00 CNY past due."""
    return make_case(debtor, collector)


@pytest.fixture
def others_case(other_collector):
    debtor = make_debtor(full_name="Someone Else")
    make_contact_point(debtor, value="+8613900139000")
    make_loan(debtor)
    return make_case(debtor, other_collector)
