"""Helpers for the reminder tests: debtors reachable on every channel, loans due on a day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from debtors.models import ChannelConsent, ContactPoint
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def reachable_debtor(*, country="CN", tz="Asia/Shanghai", language="en", phone=None, **fields):
    """A debtor with a mobile, an email, an address and an in-app id, and SMS consent."""
    debtor = make_debtor(country=country, timezone=tz, preferred_language=language, **fields)
    n = debtor.pk
    phone = phone or (f"+1212555{n % 10000:04d}" if country == "US" else f"+86138{n:08d}")
    make_contact_point(debtor, value=phone, is_primary=True)
    make_contact_point(debtor, kind=ContactPoint.Kind.EMAIL, value=f"debtor{n}@example.com")
    make_contact_point(
        debtor, kind=ContactPoint.Kind.ADDRESS, value=f"{n} Example Road\nSpringfield"
    )
    make_contact_point(debtor, kind=ContactPoint.Kind.IN_APP, value=f"app-{n}")
    ChannelConsent.objects.create(
        debtor=debtor, channel="sms", consented_at=timezone.now(), consent_source="tests"
    )
    make_case(debtor)
    return debtor


def loan_due_on(debtor, due: dt.date, *, amount="100.00", risk_band="low", currency=None, **kw):
    """A loan with one installment due on ``due`` (gentle strategy by default: band low)."""
    currency = currency or ("USD" if debtor.country == "US" else "CNY")
    return make_loan(
        debtor,
        installments=[(due, Decimal(amount))],
        currency=currency,
        risk_band=risk_band,
        **kw,
    )


def at(tz, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz).astimezone(UTC)


@pytest.fixture
def outbox(settings, tmp_path):
    settings.REMINDER_OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REMINDER_CHANNEL_BACKENDS = {
        "sms": "messaging.channels.sms.FileSmsBackend",
    }
    return tmp_path / "outbox"
