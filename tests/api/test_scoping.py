"""Every object endpoint: another collector's object is 404 by id, by filter and by nested
route, and lists show only the caller's objects (their cursors say nothing about the rest)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Note
from debtors.models import Payment, PromiseToPay, RepaymentPlan
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

pytestmark = pytest.mark.django_db


def portfolio_of(collector) -> dict:
    debtor = make_debtor()
    case = make_case(debtor, collector)
    point = make_contact_point(debtor)
    loan = make_loan(debtor)
    installment = loan.installments.first()
    payment = Payment.objects.create(
        loan=loan,
        amount=Decimal("10"),
        allocated_amount=Decimal("10"),
        received_at=timezone.now(),
        method="card",
        external_ref=f"P-{loan.pk}",
    )
    plan = RepaymentPlan.objects.create(
        loan=loan, outstanding_at_creation=Decimal("300"), total_amount=Decimal("300")
    )
    promise = PromiseToPay.objects.create(
        loan=loan, amount=Decimal("50"), promised_date=dt.date(2026, 12, 1)
    )
    note = Note.objects.create(debtor=debtor, author=collector, body="Called, no answer.")
    return {
        "debtors": debtor.pk,
        "cases": case.pk,
        "contact-points": point.pk,
        "loans": loan.pk,
        "installments": installment.pk,
        "payments": payment.pk,
        "plans": plan.pk,
        "promises": promise.pk,
        "notes": note.pk,
        "_debtor": debtor.pk,
        "_loan": loan.pk,
    }


@pytest.fixture
def mine(collector):
    return portfolio_of(collector)


@pytest.fixture
def theirs(other_collector):
    return portfolio_of(other_collector)


ENDPOINTS = [
    "debtors",
    "cases",
    "contact-points",
    "loans",
    "installments",
    "payments",
    "plans",
    "promises",
    "notes",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_collectors_object_by_id_is_not_found(as_collector, mine, theirs, endpoint):
    assert as_collector.get(f"/api/v1/{endpoint}/{mine[endpoint]}/").status_code == 200
    assert as_collector.get(f"/api/v1/{endpoint}/{theirs[endpoint]}/").status_code == 404


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_lists_hold_only_the_callers_objects(as_collector, mine, theirs, endpoint):
    response = as_collector.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    data = response.json()
    ids = [row["id"] for row in data["results"]]
    assert mine[endpoint] in ids
    assert theirs[endpoint] not in ids
    if endpoint == "installments":
        assert {row["loan"] for row in data["results"]} == {mine["_loan"]}
    else:
        assert ids == [mine[endpoint]]
    assert "count" not in data
    assert data["next"] is None


@pytest.mark.parametrize(
    ("endpoint", "param", "key"),
    [
        ("contact-points", "debtor", "_debtor"),
        ("cases", "debtor", "_debtor"),
        ("notes", "debtor", "_debtor"),
        ("payments", "debtor", "_debtor"),
        ("payments", "loan", "_loan"),
        ("installments", "loan", "_loan"),
        ("plans", "loan", "_loan"),
        ("promises", "loan", "_loan"),
        ("loans", "debtor", "_debtor"),
        ("contact-attempts", "debtor", "_debtor"),
    ],
)
def test_filtering_by_another_collectors_object_is_not_found(
    as_collector, mine, theirs, endpoint, param, key
):
    own = as_collector.get(f"/api/v1/{endpoint}/", {param: mine[key]})
    assert own.status_code == 200
    assert as_collector.get(f"/api/v1/{endpoint}/", {param: theirs[key]}).status_code == 404
    assert as_collector.get(f"/api/v1/{endpoint}/", {param: 987654321}).status_code == 404


@pytest.mark.parametrize("value", ["x1", "1.5", "0", "-3", "1e3", "%00"])
@pytest.mark.parametrize(("endpoint", "param"), [("loans", "debtor"), ("installments", "loan")])
def test_an_id_filter_that_is_not_a_whole_number_from_one_is_a_400_naming_it(
    as_collector, mine, endpoint, param, value
):
    response = as_collector.get(f"/api/v1/{endpoint}/", {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/debtors/{_debtor}/contact-eligibility?channel=call",
    ],
)
def test_nested_routes_of_another_collectors_debtor_are_not_found(as_collector, theirs, path):
    assert as_collector.get(path.format(**theirs)).status_code == 404


@pytest.mark.parametrize(
    ("endpoint", "payload"),
    [
        ("contact-points", {"debtor": "{_debtor}", "kind": "email", "value": "x@example.com"}),
        ("notes", {"debtor": "{_debtor}", "body": "hello"}),
        ("promises", {"loan": "{_loan}", "amount": "10.00", "promised_date": "2030-01-01"}),
        ("plans", {"loan": "{_loan}", "count": 3, "first_date": "2030-01-01"}),
    ],
)
def test_creating_on_another_collectors_object_names_it_as_not_existing(
    as_collector, theirs, endpoint, payload
):
    data = {
        k: (v.format(**theirs) if isinstance(v, str) and "{" in v else v)
        for k, v in payload.items()
    }
    response = as_collector.post(f"/api/v1/{endpoint}/", data, format="json")
    assert response.status_code == 400
    field = "debtor" if "debtor" in payload else "loan"
    assert "does not exist" in response.json()[field][0]


def test_supervisors_see_every_case(as_supervisor, mine, theirs):
    ids = [row["id"] for row in as_supervisor.get("/api/v1/cases/").json()["results"]]
    assert sorted(ids) == sorted([mine["cases"], theirs["cases"]])


def test_only_supervisors_assign_cases(as_collector, as_supervisor, mine, other_collector):
    url = f"/api/v1/cases/{mine['cases']}/"
    assert (
        as_collector.patch(url, {"assigned_to": other_collector.pk}, format="json").status_code
        == 403
    )
    response = as_supervisor.patch(url, {"assigned_to": other_collector.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["assigned_to"] == other_collector.pk
    # Now it is the other collector's: the first one no longer finds it.
    assert as_collector.get(url).status_code == 404


def test_configuration_is_for_supervisors(as_collector, as_supervisor):
    for endpoint in ("strategies", "templates", "imports"):
        assert as_collector.get(f"/api/v1/{endpoint}/").status_code == 403
        assert as_supervisor.get(f"/api/v1/{endpoint}/").status_code == 200
