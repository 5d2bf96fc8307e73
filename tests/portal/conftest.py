"""Helpers for the portal tests: a debtor with something owed, their link, a portal client."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from portal.session import COOKIE_NAME
from selfservice.links import link_make
from tests.factories import make_case, make_debtor, make_loan

DOB = dt.date(1990, 3, 7)
ZONE = ZoneInfo("Asia/Shanghai")


def local_today() -> dt.date:
    """Today where the test debtors live (the portal's limits count in their days)."""
    return timezone.localdate(timezone=ZONE)


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    # The rate limits are counted in the shared cache per address: every test client is
    # 127.0.0.1, so the ordinary tests lift them; the rate-limit tests set their own.
    settings.PORTAL_RATE_PER_ADDRESS = 100_000
    settings.PORTAL_RATE_PER_LINK = 100_000


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def owing_debtor(**fields):
    """A debtor owing 600.00 CNY in six monthly installments from next month."""
    fields.setdefault("date_of_birth", DOB)
    fields.setdefault("national_id", "11010119900307123X")
    fields.setdefault("preferred_language", "en")
    debtor = make_debtor(**fields)
    start = local_today() + dt.timedelta(days=20)
    loan = make_loan(
        debtor,
        installments=[(start + dt.timedelta(days=30 * n), Decimal("100.00")) for n in range(6)],
    )
    make_case(debtor)
    return debtor, loan


@pytest.fixture
def owing(db):
    return owing_debtor()


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def address() -> str:
    """A client address of its own, so rate-limit counters of two tests never meet."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


class Portal:
    """A browser-like client for one debtor's link."""

    def __init__(self, debtor, loan=None, client: Client | None = None):
        self.debtor = debtor
        self.url = path_of(link_make(debtor, loan))
        self.client = client or Client(REMOTE_ADDR=address())

    def open(self):
        return self.client.get(self.url)

    def verify(self, **data):
        data = data or {"date_of_birth": DOB.isoformat()}
        return self.client.post("/p/verify/", data)

    def signed_in(self):
        response = self.open()
        assert response.status_code == 302, response.status_code
        response = self.verify()
        assert response.status_code == 302, response.content[:500]
        return self

    @property
    def session_key(self) -> str:
        cookie = self.client.cookies.get(COOKIE_NAME)
        return cookie.value if cookie else ""


@pytest.fixture
def portal(owing):
    debtor, loan = owing
    return Portal(debtor, loan)
