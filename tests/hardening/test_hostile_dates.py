"""Dates and other input at the edges of what Python holds: each gets a 400 (or a correct
answer) naming what is wrong, never a server error, and nothing stored is half-written.

The reproductions of the security review's findings: a promise dated 9999-12-31 took payments
and the nightly jobs down; query filters with a far offset, a NUL byte or an extreme date gave
server errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from debtors.models import Payment, PromiseToPay, RepaymentPlan
from debtors.services import payment_post, promises_resolve
from tests.api.conftest import token_client
from tests.factories import make_case, make_debtor, make_loan

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def loan(collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    return make_loan(debtor)  # three installments of 100.00 CNY


@pytest.fixture
def api(collector):
    return token_client(collector)


# --- Promises -------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "2027-03-03", "2026-03-01"])
def test_a_promise_outside_today_to_a_year_ahead_is_refused(api, loan, day):
    response = api.post(
        "/api/v1/promises/",
        {"loan": loan.pk, "amount": "50.00", "promised_date": day},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "promised_date" in response.json()
    assert not PromiseToPay.objects.exists()


def test_a_promise_a_year_ahead_is_taken(api, loan):
    response = api.post(
        "/api/v1/promises/",
        {"loan": loan.pk, "amount": "50.00", "promised_date": "2027-03-02"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_stored_far_promise_breaks_neither_payments_nor_the_jobs(loan, supervisor):
    """A promise stored before the range existed (dated 9999-12-31): payments still post and
    the jobs still run, for this loan and every other."""
    PromiseToPay.objects.create(
        loan=loan, amount=Decimal("50.00"), promised_date=dt.date(9999, 12, 31), created_at=NOW
    )
    other = make_loan(make_debtor())
    PromiseToPay.objects.create(
        loan=other, amount=Decimal("50.00"), promised_date=dt.date(2026, 2, 20), created_at=NOW
    )
    payment_post(
        actor=supervisor,
        loan=loan,
        amount=Decimal("10.00"),
        received_at=NOW,
        method=Payment.Method.BANK_TRANSFER,
        external_ref="p-far-promise",
    )
    counts = promises_resolve(now=NOW + dt.timedelta(days=30))
    assert counts["broken"] == 1  # the other loan's promise is still judged
    call_command("plan_reminders", "--now", NOW.isoformat())


# --- Plans ----------------------------------------------------------------------------------


def test_a_plan_starting_in_9999_is_refused(api, loan, supervisor):
    response = token_client(supervisor).post(
        "/api/v1/plans/",
        {"loan": loan.pk, "count": 120, "first_date": "9999-01-01"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "first_date" in response.json()
    assert not RepaymentPlan.objects.exists()


def test_a_plan_ending_more_than_ten_years_ahead_is_refused(loan, supervisor):
    response = token_client(supervisor).post(
        "/api/v1/plans/",
        {"loan": loan.pk, "count": 121, "first_date": "2026-04-01", "frequency": "monthly"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert not RepaymentPlan.objects.exists()


# --- Query filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/debtors/?external_ref=%00",
        "/api/v1/contact-policies/?slug=%00",
        "/api/v1/payments/?received_after=2026-01-01T00:00:00%2B19:12",
        "/api/v1/payments/?received_after=0001-01-01T00:00:00%2B01:00",
        "/api/v1/payments/?received_before=9999-12-31T23:59:59-23:59",
        "/api/v1/promises/?promised_before=9999-12-31",
        "/api/v1/installments/?due_after=0001-01-01",
    ],
)
def test_query_filters_at_the_edges_never_fail(supervisor, admin_user, url):
    # Contact policies are an admin's.
    caller = admin_user if "contact-policies" in url else supervisor
    response = token_client(caller).get(url)
    assert response.status_code in (200, 400), (url, response.status_code)


def test_the_eligibility_check_with_a_far_offset(supervisor, loan):
    url = f"/api/v1/debtors/{loan.debtor_id}/contact-eligibility/?channel=sms&at=2026-03-02T10:00:00%2B23:59"
    response = token_client(supervisor).get(url)
    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_reminders_day_at_the_edges(client, supervisor, day):
    client.force_login(supervisor)
    response = client.get(f"/reminders/today/?day={day}")
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_the_payments_export_at_the_edges(client, supervisor, query):
    client.force_login(supervisor)
    response = client.get(f"/exports/payments.csv?{query}")
    assert response.status_code in (200, 400)
