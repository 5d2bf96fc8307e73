from __future__ import annotations

import pytest

from compliance.models import ContactAttempt, ContactDecision
from tests.factories import make_contact_point, make_debtor, make_loan

from .conftest import MONDAY_10_NY

pytestmark = pytest.mark.django_db

AT = MONDAY_10_NY.isoformat()  # 2026-03-02T10:00:00-05:00


def url(debtor_id) -> str:
    return f"/api/v1/debtors/{debtor_id}/contact-eligibility"


def test_allowed_within_hours(as_collector, us_debtor, us_loan):
    point = us_debtor.contact_points.get()
    response = as_collector.get(
        url(us_debtor.pk),
        {"channel": "call", "loan": us_loan.pk, "contact_point": point.pk, "at": AT},
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "allowed": True,
        "reasons": [],
        "next_allowed_at": None,
        "timezones": ["America/New_York"],
        "policy": "us-reg-f",
        "policy_version": 1,
    }


def test_blocked_outside_hours_names_the_next_allowed_instant(as_collector, us_debtor):
    response = as_collector.get(
        url(us_debtor.pk), {"channel": "call", "at": "2026-03-02T21:00:00-05:00"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["allowed"] is False
    assert body["reasons"] == ["outside_contact_hours"]
    assert body["next_allowed_at"] == "2026-03-03T13:00:00Z"


def test_a_hold_blocks_with_no_next_allowed_instant(as_collector, us_debtor):
    us_debtor.dispute = True
    us_debtor.save()
    body = as_collector.get(url(us_debtor.pk), {"channel": "sms", "at": AT}).json()
    assert body["allowed"] is False
    assert "dispute_hold" in body["reasons"]
    assert body["next_allowed_at"] is None


def test_empty_optional_parameters_mean_none_and_now(as_collector, us_debtor):
    response = as_collector.get(url(us_debtor.pk) + "?channel=call&loan=&contact_point=&at=")
    assert response.status_code == 200
    assert set(response.json()) == {
        "allowed",
        "reasons",
        "next_allowed_at",
        "timezones",
        "policy",
        "policy_version",
    }


def test_trailing_slash_form_answers_too(as_collector, us_debtor):
    response = as_collector.get(url(us_debtor.pk) + "/", {"channel": "call", "at": AT})
    assert response.status_code == 200


def test_a_dry_run_writes_nothing(as_collector, us_debtor):
    as_collector.get(url(us_debtor.pk), {"channel": "call", "at": AT})
    assert not ContactDecision.objects.exists()
    assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "channel"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "call", "at": "tomorrow morning"}, "at"),
        ({"channel": "call", "at": "2026-03-02T10:00:00"}, "at"),
        ({"channel": "call", "at": "2026-02-30T10:00:00Z"}, "at"),
        ({"channel": "call", "at": "9999-12-31T23:59:59Z"}, "at"),
        ({"channel": "call", "loan": "abc"}, "loan"),
        ({"channel": "call", "loan": 999999}, "loan"),
        ({"channel": "call", "contact_point": 999999}, "contact_point"),
    ],
)
def test_bad_parameters_are_named(as_collector, us_debtor, params, field):
    response = as_collector.get(url(us_debtor.pk), params)
    assert response.status_code == 400
    assert field in response.json()


def test_loan_and_contact_point_must_be_the_debtors(as_supervisor, us_debtor):
    other = make_debtor()
    other_loan = make_loan(other)
    other_point = make_contact_point(other)
    response = as_supervisor.get(
        url(us_debtor.pk),
        {"channel": "call", "loan": other_loan.pk, "contact_point": other_point.pk, "at": AT},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"loan", "contact_point"}


def test_another_collectors_debtor_is_not_found(as_collector, their_debtor):
    hidden = as_collector.get(url(their_debtor.pk), {"channel": "call", "at": AT})
    missing = as_collector.get(url(999999), {"channel": "call", "at": AT})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_supervisor_checks_any_debtor(as_supervisor, their_debtor):
    response = as_supervisor.get(url(their_debtor.pk), {"channel": "call", "at": AT})
    assert response.status_code == 200


def test_the_message_for_a_time_without_offset_quotes_it(as_collector, us_debtor):
    response = as_collector.get(url(us_debtor.pk), {"channel": "call", "at": "2026-03-02T10:00:00"})
    message = response.json()["at"][0]
    assert message.startswith("2026-03-02T10:00:00 has no UTC offset")
