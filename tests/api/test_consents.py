"""``/api/v1/consents/``: recording a debtor's consent (the US preset's SMS rule keys on it),
listing it with its revocations, and what the gate makes of it; and a reply's words in
``/api/v1/contact-attempts/``."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from compliance import gate
from debtors.models import ChannelConsent
from messaging import inbound
from tests.factories import make_contact_point, make_debtor

from .conftest import MONDAY_10_NY

pytestmark = pytest.mark.django_db

URL = "/api/v1/consents/"


def _sms_reasons(debtor, at=MONDAY_10_NY):
    point = debtor.contact_points.get()
    return gate.check(debtor=debtor, channel="sms", contact_point=point, at=at).reasons


def test_a_recorded_consent_lets_the_gate_allow_sms_to_a_us_mobile(as_collector, us_debtor):
    assert "no_consent" in _sms_reasons(us_debtor)
    given = (MONDAY_10_NY - dt.timedelta(days=30)).isoformat()
    response = as_collector.post(
        URL,
        {
            "debtor": us_debtor.pk,
            "channel": "sms",
            "given_at": given,
            "source": "loan agreement §7",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "loan agreement §7" and body["contact_point"] is None
    assert body["events"][0]["kind"] == "given"
    assert "no_consent" not in _sms_reasons(us_debtor)


def test_a_consent_for_one_number_and_one_that_expires(as_collector, us_debtor):
    point = us_debtor.contact_points.get()
    response = as_collector.post(
        URL,
        {
            "debtor": us_debtor.pk,
            "channel": "sms",
            "contact_point": point.pk,
            "given_at": (MONDAY_10_NY - dt.timedelta(days=10)).isoformat(),
            "expires_at": (MONDAY_10_NY - dt.timedelta(days=1)).isoformat(),
            "source": "verbal on call",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "no_consent" in _sms_reasons(us_debtor)  # expired before the instant judged
    assert "no_consent" not in _sms_reasons(us_debtor, MONDAY_10_NY - dt.timedelta(days=2))


def test_stop_and_start_appear_as_revocations_with_their_message(as_collector, us_debtor):
    point = us_debtor.contact_points.get()
    ChannelConsent.objects.create(
        debtor=us_debtor,
        contact_point=point,
        channel="sms",
        consented_at=MONDAY_10_NY - dt.timedelta(days=5),
        consent_source="portal",
    )
    with time_machine.travel(MONDAY_10_NY, tick=False):
        for n, word in enumerate(("STOP", "START")):
            inbound.sms_received(
                inbound.Sms("twilio", f"SM{n:032d}", point.value, "+15005550006", word)
            )
    [consent] = as_collector.get(URL, {"debtor": us_debtor.pk}).json()["results"]
    kinds = [event["kind"] for event in consent["events"]]
    assert sorted(kinds) == ["opted_in", "opted_out"]
    assert all("SM" in event["evidence"] for event in consent["events"])
    assert consent["in_force"] is True and consent["opted_out_at"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"source": ""}, "source"),
        ({"given_at": "2026-03-02T10:00:00"}, "given_at"),
        ({"given_at": "9999-01-01T00:00:00Z"}, "given_at"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"debtor": 999999}, "debtor"),
        ({"contact_point": 999999}, "contact_point"),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored(as_collector, us_debtor, overrides, field):
    payload = {"debtor": us_debtor.pk, "channel": "sms", "source": "portal", **overrides}
    response = as_collector.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ChannelConsent.objects.exists()


def test_another_collectors_debtor_is_out_of_reach(as_collector, us_debtor):
    stranger = make_debtor(country="US", timezone="America/New_York", national_id="")
    point = make_contact_point(stranger, value="+12125550999")
    response = as_collector.post(
        URL,
        {"debtor": stranger.pk, "channel": "sms", "contact_point": point.pk, "source": "x"},
        format="json",
    )
    assert response.status_code == 400 and "debtor" in response.json()
    # Asking for another collector's debtor is answered as for a debtor that does not exist.
    assert as_collector.get(URL, {"debtor": stranger.pk}).status_code == 404


def test_a_reply_is_listed_with_its_words(as_collector, us_debtor):
    point = us_debtor.contact_points.get()
    inbound.sms_received(
        inbound.Sms("twilio", "SM" + "9" * 32, point.value, "+15005550006", "Can I pay Friday?")
    )
    rows = as_collector.get("/api/v1/contact-attempts/", {"debtor": us_debtor.pk}).json()
    [reply] = rows["results"]
    assert (reply["direction"], reply["channel"], reply["body"]) == (
        "inbound",
        "sms",
        "Can I pay Friday?",
    )
