"""Supervisors export cases, the contact ledger and payments as streamed CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse

from cases.models import Case
from compliance.models import ContactAttempt
from debtors.models import Payment
from tests.factories import make_case, make_debtor, make_loan

pytestmark = pytest.mark.django_db


def rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return [line.split(",") for line in text.splitlines()]


@pytest.fixture
def portfolio(collector, other_collector):
    mine = make_debtor(external_ref="D-MINE")
    make_case(mine, collector, status=Case.Status.OPEN, max_days_past_due=40)
    theirs = make_debtor(external_ref="D-THEIRS")
    make_case(theirs, other_collector, status=Case.Status.ON_HOLD)
    loan = make_loan(mine, currency="JPY", external_ref="L-JPY")
    Payment.objects.create(
        loan=loan,
        amount=Decimal("1500"),
        allocated_amount=Decimal("1500"),
        received_at=dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC),
        method="card",
        external_ref="TX-1",
    )
    ContactAttempt.objects.create(
        debtor=mine,
        loan=loan,
        channel="call",
        direction="outbound",
        outcome="no_answer",
        occurred_at=dt.datetime(2026, 2, 2, 9, tzinfo=dt.UTC),
        actor_label="alice",
    )
    return mine


def test_the_case_list_is_filtered(client, supervisor, portfolio):
    client.force_login(supervisor)
    data = rows(client.get("/exports/cases.csv", {"status": "open"}))
    assert data[0][:3] == ["case", "debtor reference", "debtor"]
    assert [row[1] for row in data[1:]] == ["D-MINE"]
    assert data[1][5] == "40"
    assert len(rows(client.get("/exports/cases.csv"))) == 3


def test_payments_of_a_period_in_the_currencys_places(client, supervisor, portfolio):
    client.force_login(supervisor)
    data = rows(client.get("/exports/payments.csv", {"since": "2026-02-01", "until": "2026-02-01"}))
    assert data[1][2:6] == ["L-JPY", "D-MINE", "JPY", "1500"]
    assert len(rows(client.get("/exports/payments.csv", {"since": "2026-02-02"}))) == 1


def test_the_contact_ledger(client, supervisor, portfolio):
    client.force_login(supervisor)
    data = rows(client.get("/exports/contact-ledger.csv"))
    assert data[1][2:7] == ["D-MINE", "L-JPY", "call", "outbound", "no_answer"]


def test_a_bad_period_is_named(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/exports/payments.csv", {"since": "yesterday"})
    assert response.status_code == 400
    assert b"since" in response.content


@pytest.mark.parametrize("name", ["cases", "contact-ledger", "payments"])
def test_collectors_may_not_export(client, collector, name):
    client.force_login(collector)
    assert client.get(f"/exports/{name}.csv").status_code == 403


def test_the_days_of_a_period_in_the_viewers_zone(client, supervisor, portfolio):
    """The pages link their exports with the viewer's zone: 1 February in Shanghai starts at
    16:00 UTC on 31 January."""
    loan = portfolio.loans.get()
    Payment.objects.create(
        loan=loan,
        amount=Decimal("700"),
        allocated_amount=Decimal("700"),
        received_at=dt.datetime(2026, 1, 31, 20, tzinfo=dt.UTC),
        method="card",
        external_ref="TX-EARLY",
    )
    client.force_login(supervisor)
    day = {"since": "2026-02-01", "until": "2026-02-01"}
    in_utc = rows(client.get("/exports/payments.csv", day))
    in_shanghai = rows(client.get("/exports/payments.csv", {**day, "tz": "Asia/Shanghai"}))
    assert [row[10] for row in in_utc[1:]] == ["TX-1"]
    assert [row[10] for row in in_shanghai[1:]] == ["TX-EARLY", "TX-1"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "../etc/passwd"])
def test_an_unknown_zone_is_named(client, supervisor, zone):
    client.force_login(supervisor)
    response = client.get("/exports/contact-ledger.csv", {"since": "2026-02-01", "tz": zone})
    assert response.status_code == 400
    assert b"tz" in response.content


def test_a_day_past_the_calendar_is_named(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/exports/payments.csv", {"until": "9999-12-31"})
    assert response.status_code == 400
    assert b"until" in response.content


# --- Formula injection: text from users and imports is neutralised, numbers are not ----------

# Each character a spreadsheet may start a formula with, before a payload.
DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def cells(response) -> list[list[str]]:
    """The file as a spreadsheet reads it (quoted cells may hold commas and line breaks)."""
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("start", DANGEROUS, ids=repr)
def test_the_case_list_neutralises_formulas_in_text(client, supervisor, collector, start):
    name = f"{start}cmd|' /C calc'!A0"
    debtor = make_debtor(external_ref=f"{start}D-1", full_name=name)
    make_case(debtor, collector)
    client.force_login(supervisor)
    data = cells(client.get("/exports/cases.csv"))
    assert data[1][1:3] == [f"'{start}D-1", f"'{name}"]


@pytest.mark.parametrize("start", DANGEROUS, ids=repr)
def test_payments_neutralise_formulas_in_text(client, supervisor, loan, start):
    reference = f'{start}HYPERLINK("http://evil","x")'
    Payment.objects.create(
        loan=loan,
        amount=Decimal("12.50"),
        allocated_amount=Decimal("12.50"),
        received_at=dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC),
        method="card",
        source=f"{start}bank",
        external_ref=reference,
    )
    client.force_login(supervisor)
    data = cells(client.get("/exports/payments.csv"))
    assert data[1][9:] == [f"'{start}bank", f"'{reference}"]
    assert data[1][5:8] == ["12.50", "12.50", "0.00"]


def test_the_contact_ledger_neutralises_formulas_in_text(client, supervisor, collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    ContactAttempt.objects.create(
        debtor=debtor,
        channel="call",
        direction="outbound",
        outcome="no_answer",
        occurred_at=dt.datetime(2026, 2, 2, 9, tzinfo=dt.UTC),
        actor_label='=HYPERLINK("http://evil","x")',
    )
    client.force_login(supervisor)
    data = cells(client.get("/exports/contact-ledger.csv"))
    assert data[1][9] == '\'=HYPERLINK("http://evil","x")'


def test_ordinary_text_and_the_products_numbers_are_unchanged(client, supervisor, collector):
    """A negative figure stays a number a spreadsheet can add up: money and counts are written
    as numbers, never neutralised as text."""
    debtor = make_debtor(external_ref="D-PLAIN", full_name="Wang Fang (O'Brien), 3=3")
    make_case(
        debtor,
        collector,
        max_days_past_due=40,
        total_outstanding=Decimal("-12.50"),
        broken_promises=2,
        last_contact_at=dt.datetime(2026, 2, 2, 9, tzinfo=dt.UTC),
        next_action_on=dt.date(2026, 2, 3),
        priority=-7,
    )
    client.force_login(supervisor)
    data = cells(client.get("/exports/cases.csv"))
    assert data[1][1:] == [
        "D-PLAIN",
        "Wang Fang (O'Brien), 3=3",
        "alice",
        "open",
        "40",
        "-12.5000",
        "2",
        "2026-02-02T09:00:00+00:00",
        "2026-02-03",
        "-7",
    ]
