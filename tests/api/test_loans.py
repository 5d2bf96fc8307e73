from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from debtors.models import Loan
from tests.factories import make_case, make_debtor, make_loan

pytestmark = pytest.mark.django_db

URL = "/api/v1/loans/"


@pytest.fixture
def target(db):
    debtor = make_debtor()
    make_case(debtor)
    return debtor


def loan_payload(borrower, **overrides) -> dict:
    payload = {
        "external_ref": "LN-1",
        "debtor": borrower.pk,
        "currency": "CNY",
        "principal": "300.00",
        "installments": [
            {"due_date": "2026-02-15", "amount": "150.00"},
            {"due_date": "2026-01-15", "amount": "150.00"},
        ],
    }
    payload.update(overrides)
    return payload


def test_supervisor_creates_a_loan(as_supervisor, supervisor, target):
    response = as_supervisor.post(URL, loan_payload(target), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    loan = Loan.objects.get(pk=body["id"])
    assert loan.debtor == target
    assert loan.principal == Decimal("300.00")
    assert body["principal"] == "300.00"
    assert body["outstanding"] == "300.00"
    assert [(i["due_date"], i["amount_due"]) for i in body["installments"]] == [
        ("2026-01-15", "150.00"),
        ("2026-02-15", "150.00"),
    ]
    assert loan.oldest_unpaid_due_date == dt.date(2026, 1, 15)
    assert {row.history_user for row in loan.history.all()} == {supervisor}


def test_money_is_rendered_in_the_currencys_places(as_admin, target):
    payload = loan_payload(
        target,
        currency="JPY",
        principal="30000",
        installments=[{"due_date": "2026-01-15", "amount": 30000}],
    )
    response = as_admin.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["principal"] == "30000"
    assert response.json()["installments"][0]["amount_due"] == "30000"


def test_collector_may_not_create_loans(as_collector, collector, target):
    target.case.assigned_to = collector
    target.case.save()
    response = as_collector.post(URL, loan_payload(target), format="json")
    assert response.status_code == 403
    assert not Loan.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": "-1.00"}, "principal"),
        ({"principal": "0"}, "principal"),
        ({"principal": "10.001"}, "principal"),
        ({"principal": 300.0}, "principal"),
        ({"principal": "lots"}, "principal"),
        ({"currency": "XYZ"}, "currency"),
        ({"debtor": 999999}, "debtor"),
        ({"debtor": "abc"}, "debtor"),
        ({"installments": []}, "installments"),
        ({"external_ref": ""}, "external_ref"),
        ({"opened_on": "yesterday"}, "opened_on"),
    ],
)
def test_bad_loan_fields_are_named(as_supervisor, target, overrides, field):
    response = as_supervisor.post(URL, loan_payload(target, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Loan.objects.exists()


def test_more_places_than_the_currency_allows_is_refused(as_supervisor, target):
    payload = loan_payload(
        target,
        currency="JPY",
        principal="100.5",
        installments=[{"due_date": "2026-01-15", "amount": "100.5"}],
    )
    body = as_supervisor.post(URL, payload, format="json").json()
    assert "JPY" in body["principal"][0]
    assert "JPY" in body["installments"][0]["amount"][0]


@pytest.mark.parametrize(
    ("installment", "field"),
    [
        ({"due_date": "2026-01-15", "amount": "-5.00"}, "amount"),
        ({"due_date": "2026-01-15", "amount": 5.5}, "amount"),
        ({"due_date": "15/01/2026", "amount": "5.00"}, "due_date"),
        ({"amount": "5.00"}, "due_date"),
    ],
)
def test_bad_installments_are_named_with_their_position(as_supervisor, target, installment, field):
    payload = loan_payload(target)
    payload["installments"].append(installment)
    body = as_supervisor.post(URL, payload, format="json").json()
    assert body["installments"][:2] == [{}, {}]
    assert field in body["installments"][2]


def test_duplicate_external_ref_is_named(as_supervisor, target):
    make_loan(target, external_ref="LN-1")
    response = as_supervisor.post(URL, loan_payload(target), format="json")
    assert response.status_code == 400
    assert "external_ref" in response.json()


# --- Reading --------------------------------------------------------------------------------


def test_collector_reads_own_loans_only(as_collector, collector, other_collector):
    mine, theirs = make_debtor(), make_debtor()
    make_case(mine, collector)
    make_case(theirs, other_collector)
    my_loan, their_loan = make_loan(mine), make_loan(theirs)

    assert as_collector.get(f"{URL}{my_loan.pk}/").status_code == 200
    assert as_collector.get(f"{URL}{their_loan.pk}/").status_code == 404
    listed = as_collector.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [my_loan.pk]
    assert listed[0]["principal"] == "300.00"


def test_list_filtered_by_another_collectors_debtor_is_not_found(
    as_collector, collector, other_collector
):
    theirs = make_debtor()
    make_case(theirs, other_collector)
    make_loan(theirs)
    response = as_collector.get(URL, {"debtor": theirs.pk})
    assert response.status_code == 404
    assert response.json() == as_collector.get(URL, {"debtor": 999999}).json()


def test_list_filter_with_a_malformed_id_is_named(as_collector):
    response = as_collector.get(URL, {"debtor": "x1"})
    assert response.status_code == 400
    assert "debtor" in response.json()


def test_supervisor_filters_loans_by_debtor(as_supervisor):
    first, second = make_debtor(), make_debtor()
    make_loan(first)
    wanted = make_loan(second)
    listed = as_supervisor.get(URL, {"debtor": second.pk}).json()["results"]
    assert [row["id"] for row in listed] == [wanted.pk]
