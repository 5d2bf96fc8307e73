"""Recorded attempts (facts, judged for breaches) and policy versions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from compliance import gate
from compliance.models import ContactAttempt, ContactDecision, ContactPolicy
from compliance.rules import parse_rules
from compliance.services import contact_attempt_record, policy_create, policy_save

from .conftest import NY, current_policy, local


def _record(debtor, at, **kwargs):
    fields = {"channel": "call", "direction": "outbound", "outcome": "no_answer"}
    fields.update(kwargs)
    return contact_attempt_record(actor="dialer", debtor=debtor, occurred_at=at, **fields)


def test_a_fact_outside_the_window_is_stored_as_a_breach(us_debtor, collector):
    attempt = contact_attempt_record(
        actor=collector,
        debtor=us_debtor,
        channel="call",
        direction="outbound",
        outcome="conversation",
        occurred_at=local(NY, 2026, 3, 2, 22, 15),
    )
    attempt.refresh_from_db()
    assert attempt.breach and attempt.breach_reasons == ["outside_contact_hours"]
    assert attempt.breach_policy.slug == "us-reg-f"
    assert attempt.actor_label == "alice"


def test_the_eighth_call_is_stored_and_marked(us_debtor, us_loan):
    for i in range(7):
        assert not _record(us_debtor, local(NY, 2026, 3, 2, 9 + i, 0), loan=us_loan).breach
    eighth = _record(us_debtor, local(NY, 2026, 3, 2, 17, 0), loan=us_loan)
    assert eighth.breach and eighth.breach_reasons == ["rolling_limit"]
    assert ContactAttempt.objects.count() == 8


def test_inbound_contacts_never_breach(us_debtor):
    attempt = _record(
        us_debtor, local(NY, 2026, 3, 2, 23, 0), direction="inbound", outcome="conversation"
    )
    assert not attempt.breach and attempt.breach_reasons == []


def test_a_contact_during_a_hold_is_a_breach(us_debtor):
    us_debtor.dispute = True
    us_debtor.save()
    attempt = _record(us_debtor, local(NY, 2026, 3, 2, 10, 0), channel="letter", outcome="sent")
    assert attempt.breach and attempt.breach_reasons == ["dispute_hold"]


def test_completing_a_permit_judges_the_real_time(us_debtor):
    permit = gate.request(
        debtor=us_debtor, channel="call", actor="tests", now=local(NY, 2026, 3, 2, 20, 58)
    )
    attempt = ContactAttempt.objects.get(pk=permit.attempt_id)
    done = contact_attempt_record(
        actor="tests",
        debtor=us_debtor,
        channel="call",
        direction="outbound",
        outcome="conversation",
        occurred_at=local(NY, 2026, 3, 2, 21, 5),
        attempt=attempt,
    )
    assert (
        done.pk == attempt.pk and done.breach and done.breach_reasons == ["outside_contact_hours"]
    )
    with pytest.raises(gate.GateInputError):
        contact_attempt_record(
            actor="tests",
            debtor=us_debtor,
            channel="call",
            direction="outbound",
            outcome="busy",
            occurred_at=local(NY, 2026, 3, 2, 21, 6),
            attempt=attempt,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("channel", "fax"), ("direction", "sideways"), ("outcome", "pending"), ("outcome", "maybe")],
)
def test_bad_facts_are_refused(us_debtor, field, value):
    with pytest.raises(gate.GateInputError):
        _record(us_debtor, local(NY, 2026, 3, 2, 10, 0), **{field: value})


def test_policy_save_writes_a_new_version(us_debtor, admin_user):
    v1 = current_policy("us-reg-f")
    gate.request(debtor=us_debtor, channel="call", actor="tests", now=local(NY, 2026, 3, 2, 10, 0))
    rules = dict(v1.rules)
    rules["call"] = {**rules["call"], "min_interval_minutes": 60}
    v2 = policy_save(actor=admin_user, policy=v1, rules=rules)
    assert (v2.slug, v2.version, v2.is_current, v2.created_by_label) == ("us-reg-f", 2, True, "ada")
    v1.refresh_from_db()
    assert not v1.is_current and "min_interval_minutes" not in v1.rules["call"]
    assert ContactDecision.objects.get().policy_version == 1
    decision = gate.check(debtor=us_debtor, channel="call", at=local(NY, 2026, 3, 2, 10, 30))
    assert (decision.policy_version, decision.reasons) == (2, ["min_interval"])
    with pytest.raises(ValidationError):
        policy_save(actor=admin_user, policy=v1, name="old versions are frozen")


@pytest.mark.parametrize(
    "rules",
    [
        {"fax": {}},
        {"call": {"hours": [{"days": ["mon"], "from": "21:00", "to": "08:00"}]}},
        {"call": {"hours": [{"days": ["someday"], "from": "08:00", "to": "21:00"}]}},
        {"call": {"limits": [{"count": "attempts", "max": 2, "days": 1, "hours": 3}]}},
        {"call": {"limits": [{"count": "calls", "max": 2, "days": 1}]}},
        {"call": {"limits": [{"count": "attempts", "max": -1, "days": 1}]}},
        {"call": {"third_parties": "sometimes"}},
        {"call": {"colour": "blue"}},
        [],
    ],
)
def test_invalid_rules_are_refused_with_a_message(us_debtor, admin_user, rules):
    with pytest.raises(ValidationError):
        parse_rules(rules)
    with pytest.raises(ValidationError):
        policy_save(actor=admin_user, policy=current_policy("us-reg-f"), rules=rules)


def test_a_region_policy_wins_over_the_country(db, admin_user):
    from tests.factories import make_debtor

    policy_create(
        actor=admin_user,
        slug="us-ca",
        name="California",
        country="US",
        region="US-CA",
        rules={"call": {}},
    )
    ca = make_debtor(country="US", region="US-CA", timezone="America/Los_Angeles")
    ny = make_debtor(country="US", region="US-NY", timezone="America/New_York")
    at = dt.datetime(2026, 3, 2, 18, tzinfo=dt.UTC)
    assert gate.check(debtor=ca, channel="call", at=at).policy_slug == "us-ca"
    assert gate.check(debtor=ny, channel="call", at=at).policy_slug == "us-reg-f"
    with pytest.raises(ValidationError):
        policy_create(
            actor=admin_user, slug="bad", name="Bad", country="US", region="CN-BJ", rules={}
        )
    assert ContactPolicy.objects.filter(slug="bad").count() == 0


def test_a_fact_is_judged_by_the_holds_in_force_at_its_time(us_debtor):
    us_debtor.dispute = True
    us_debtor.dispute_at = local(NY, 2026, 3, 3, 9, 0)
    us_debtor.save()
    before = _record(us_debtor, local(NY, 2026, 3, 2, 10, 0))
    after = _record(us_debtor, local(NY, 2026, 3, 3, 10, 0))
    assert not before.breach
    assert after.breach and after.breach_reasons == ["dispute_hold"]


def test_a_fact_is_judged_by_the_consent_in_force_at_its_time(us_debtor):
    from debtors.models import ChannelConsent

    ChannelConsent.objects.create(
        debtor=us_debtor,
        channel="sms",
        consented_at=local(NY, 2026, 3, 2, 12, 0),
        opted_out_at=local(NY, 2026, 3, 4, 12, 0),
    )
    early = _record(us_debtor, local(NY, 2026, 3, 2, 10, 0), channel="sms", outcome="delivered")
    during = _record(us_debtor, local(NY, 2026, 3, 3, 10, 0), channel="sms", outcome="delivered")
    late = _record(us_debtor, local(NY, 2026, 3, 5, 10, 0), channel="sms", outcome="delivered")
    assert early.breach_reasons == ["no_consent"]
    assert not during.breach
    assert late.breach_reasons == ["no_consent", "channel_opt_out"]
