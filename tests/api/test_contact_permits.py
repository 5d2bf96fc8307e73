from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from compliance.gate import hash_token
from compliance.models import ContactAttempt, ContactDecision, ContactPermit
from tests.factories import make_debtor, make_loan

from .conftest import MONDAY_10_NY

pytestmark = pytest.mark.django_db

ELIGIBILITY_KEYS = {
    "allowed",
    "reasons",
    "next_allowed_at",
    "timezones",
    "policy",
    "policy_version",
}


def url(debtor_id) -> str:
    return f"/api/v1/debtors/{debtor_id}/contact-permits/"


@pytest.fixture
def monday_10():
    with time_machine.travel(MONDAY_10_NY, tick=False):
        yield


def test_permit_granted(monday_10, as_collector, collector, us_debtor, us_loan):
    point = us_debtor.contact_points.get()
    response = as_collector.post(
        url(us_debtor.pk),
        {"channel": "call", "loan": us_loan.pk, "contact_point": point.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    permit = ContactPermit.objects.get(token_hash=hash_token(body["permit"]))
    assert dt.datetime.fromisoformat(body["expires_at"]) == permit.expires_at
    assert body["attempt"] == permit.attempt_id
    decision = ContactDecision.objects.get()
    assert decision.allowed
    assert decision.actor_user_id == collector.pk
    assert (decision.loan_id, decision.contact_point_id) == (us_loan.pk, point.pk)
    attempt = ContactAttempt.objects.get()
    assert attempt.outcome == "pending"


def test_refused_permit_is_a_409_with_the_eligibility_body(monday_10, as_collector, us_debtor):
    us_debtor.cease_communication = True
    us_debtor.save()

    response = as_collector.post(url(us_debtor.pk), {"channel": "email"}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert set(body) == ELIGIBILITY_KEYS
    assert body["allowed"] is False
    assert "cease_communication" in body["reasons"]
    # Refusals are in the ledger as well.
    assert ContactDecision.objects.get().allowed is False
    assert not ContactPermit.objects.exists()


def test_refused_outside_hours_says_when(as_collector, us_debtor):
    with time_machine.travel(dt.datetime(2026, 3, 2, 22, 0, tzinfo=MONDAY_10_NY.tzinfo)):
        response = as_collector.post(url(us_debtor.pk), {"channel": "call"}, format="json")
    assert response.status_code == 409
    assert response.json()["next_allowed_at"] == "2026-03-03T13:00:00Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "call", "loan": 999999}, "loan"),
        ({"channel": "call", "contact_point": "x"}, "contact_point"),
    ],
)
def test_bad_input_is_named_and_nothing_is_decided(monday_10, as_collector, us_debtor, body, field):
    response = as_collector.post(url(us_debtor.pk), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ContactDecision.objects.exists()


def test_another_debtors_loan_is_refused(monday_10, as_supervisor, us_debtor):
    other_loan = make_loan(make_debtor())
    response = as_supervisor.post(
        url(us_debtor.pk), {"channel": "call", "loan": other_loan.pk}, format="json"
    )
    assert response.status_code == 400
    assert "loan" in response.json()


def test_another_collectors_debtor_is_not_found(monday_10, as_collector, their_debtor):
    hidden = as_collector.post(url(their_debtor.pk), {"channel": "call"}, format="json")
    missing = as_collector.post(url(999999), {"channel": "call"}, format="json")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert not ContactDecision.objects.exists()
