from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from compliance.models import ContactAttempt
from tests.factories import make_debtor, make_loan

from .conftest import MONDAY_10_NY, NY

pytestmark = pytest.mark.django_db

URL = "/api/v1/contact-attempts/"


def attempt_payload(of_debtor, **overrides) -> dict:
    payload = {
        "debtor": of_debtor.pk,
        "channel": "call",
        "direction": "outbound",
        "outcome": "no_answer",
        "occurred_at": MONDAY_10_NY.isoformat(),
    }
    payload.update(overrides)
    return payload


def test_record_an_attempt_within_the_policy(as_collector, collector, us_debtor, us_loan):
    point = us_debtor.contact_points.get()
    response = as_collector.post(
        URL,
        attempt_payload(us_debtor, loan=us_loan.pk, contact_point=point.pk, outcome="conversation"),
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["breach"] is False
    assert body["breach_reasons"] == []
    attempt = ContactAttempt.objects.get(pk=body["id"])
    assert (attempt.loan, attempt.contact_point, attempt.outcome) == (
        us_loan,
        point,
        "conversation",
    )
    assert attempt.actor_user == collector
    assert body["recorded_by"] == "alice"


def test_an_attempt_that_broke_the_policy_is_stored_as_a_breach(as_collector, us_debtor):
    late = dt.datetime(2026, 3, 2, 22, 30, tzinfo=NY).isoformat()
    response = as_collector.post(URL, attempt_payload(us_debtor, occurred_at=late), format="json")
    assert response.status_code == 201
    assert response.json()["breach"] is True
    assert response.json()["breach_reasons"] == ["outside_contact_hours"]
    assert ContactAttempt.objects.filter(breach=True).count() == 1


def test_inbound_contacts_are_recorded_without_breach(as_collector, us_debtor):
    late = dt.datetime(2026, 3, 2, 23, 0, tzinfo=NY).isoformat()
    response = as_collector.post(
        URL,
        attempt_payload(us_debtor, direction="inbound", outcome="conversation", occurred_at=late),
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["breach"] is False


def test_the_outcome_of_a_permit_completes_its_attempt(as_collector, us_debtor):
    with time_machine.travel(MONDAY_10_NY, tick=False):
        permit = as_collector.post(
            f"/api/v1/debtors/{us_debtor.pk}/contact-permits/", {"channel": "call"}, format="json"
        ).json()
    response = as_collector.post(
        URL,
        attempt_payload(us_debtor, attempt=permit["attempt"], outcome="left_message"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == permit["attempt"]
    assert ContactAttempt.objects.get().outcome == "left_message"

    again = as_collector.post(
        URL, attempt_payload(us_debtor, attempt=permit["attempt"]), format="json"
    )
    assert again.status_code == 400
    assert "attempt" in again.json()
    assert ContactAttempt.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"outcome": "pending"}, "outcome"),
        ({"outcome": "great"}, "outcome"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-03-02T10:00:00"}, "occurred_at"),
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
        ({"debtor": 999999}, "debtor"),
        ({"debtor": None}, "debtor"),
        ({"loan": 999999}, "loan"),
        ({"contact_point": 999999}, "contact_point"),
        ({"attempt": 999999}, "attempt"),
    ],
)
def test_bad_input_is_named(as_collector, us_debtor, overrides, field):
    response = as_collector.post(URL, attempt_payload(us_debtor, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ContactAttempt.objects.exists()


def test_loan_and_contact_point_of_another_debtor_are_refused(as_supervisor, us_debtor):
    other = make_debtor()
    response = as_supervisor.post(
        URL,
        attempt_payload(us_debtor, loan=make_loan(other).pk),
        format="json",
    )
    assert response.status_code == 400
    assert "loan" in response.json()


def test_another_collectors_debtor_reads_as_unknown(as_collector, their_debtor):
    hidden = as_collector.post(URL, attempt_payload(their_debtor), format="json")
    missing = as_collector.post(URL, attempt_payload(their_debtor, debtor=999999), format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["debtor"][0].replace(str(their_debtor.pk), "N") == missing.json()[
        "debtor"
    ][0].replace("999999", "N")
    assert not ContactAttempt.objects.exists()


# --- Listing --------------------------------------------------------------------------------


def _record(debtor, when: dt.datetime, **fields) -> ContactAttempt:
    defaults = {"channel": "call", "direction": "outbound", "outcome": "no_answer"}
    defaults.update(fields)
    return ContactAttempt.objects.create(debtor=debtor, occurred_at=when, **defaults)


def test_list_is_newest_first_and_cursor_paginated(as_collector, us_debtor):
    base = MONDAY_10_NY
    ids = [_record(us_debtor, base + dt.timedelta(hours=h)).pk for h in (0, 2, 1)]
    tie = _record(us_debtor, base + dt.timedelta(hours=2)).pk

    first = as_collector.get(URL, {"page_size": 2}).json()
    second = as_collector.get(first["next"]).json()

    listed = [row["id"] for row in first["results"] + second["results"]]
    assert listed == [tie, ids[1], ids[2], ids[0]]
    assert "count" not in first
    assert second["next"] is None


def test_list_shows_only_own_debtors(as_collector, us_debtor, their_debtor):
    mine = _record(us_debtor, MONDAY_10_NY)
    _record(their_debtor, MONDAY_10_NY)
    listed = as_collector.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]


def test_filter_by_debtor(as_supervisor, us_debtor, their_debtor):
    _record(us_debtor, MONDAY_10_NY)
    theirs = _record(their_debtor, MONDAY_10_NY)
    listed = as_supervisor.get(URL, {"debtor": their_debtor.pk}).json()["results"]
    assert [row["id"] for row in listed] == [theirs.pk]


def test_filter_by_another_collectors_debtor_is_not_found(as_collector, their_debtor):
    _record(their_debtor, MONDAY_10_NY)
    hidden = as_collector.get(URL, {"debtor": their_debtor.pk})
    missing = as_collector.get(URL, {"debtor": 999999})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_filter_with_a_malformed_id_is_named(as_collector):
    response = as_collector.get(URL, {"debtor": "one"})
    assert response.status_code == 400
    assert "debtor" in response.json()


def test_list_query_count_does_not_grow_with_rows(
    as_supervisor, us_debtor, django_assert_max_num_queries
):
    for minutes in range(30):
        _record(us_debtor, MONDAY_10_NY + dt.timedelta(minutes=minutes))
    with django_assert_max_num_queries(6):
        response = as_supervisor.get(URL)
    assert len(response.json()["results"]) == 30
