"""JSON bodies must be text: half a surrogate pair is refused as unparseable (``api.parsers``)."""

from __future__ import annotations

import json

import pytest

from cases.models import Note
from compliance.models import ContactAttempt
from tests.factories import make_case, make_debtor

pytestmark = pytest.mark.django_db


@pytest.fixture
def debtor(collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    return debtor


def test_half_a_surrogate_pair_is_refused_and_nothing_is_written(as_collector, debtor):
    # It was a server error: PostgreSQL cannot store it.
    # Python writes the lone surrogate as the escape ``\ud800``, as any client may.
    body = json.dumps({"debtor": debtor.pk, "body": "Called \ud800"})
    response = as_collector.post("/api/v1/notes/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "surrogate" in response.json()["detail"]
    assert not Note.objects.exists()


def test_nor_in_a_field_whose_error_repeats_it(as_collector, debtor):
    # It was a server error too: the 400 naming the wrong choice could not be written as JSON.
    body = json.dumps(
        {
            "debtor": debtor.pk,
            "channel": "\udfff",
            "direction": "outbound",
            "outcome": "no_answer",
            "occurred_at": "2026-03-02T09:30:00+08:00",
        }
    )
    response = as_collector.post("/api/v1/contact-attempts/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not ContactAttempt.objects.exists()


def test_a_whole_pair_is_text_and_is_taken(as_collector, debtor):
    body = json.dumps({"debtor": debtor.pk, "body": "Called \ud83d\ude00"})
    response = as_collector.post("/api/v1/notes/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Note.objects.get().body == "Called 😀"
