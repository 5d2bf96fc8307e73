"""The batched dry run answers, for every debtor, what ``gate.check`` answers, in two queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import batch, gate
from compliance import snapshot as snapshots
from compliance.models import ContactDecision, ContactPolicy
from compliance.selectors import NoPolicy, policy_version
from compliance.services import contact_attempt_record, contact_preference_add
from debtors.models import ChannelConsent
from tests.factories import make_contact_point, make_debtor, make_loan

from .conftest import NY, current_policy, local, set_rules


def _called(loan, phone, outcome: str, when: dt.datetime) -> None:
    """An outbound call about ``loan`` that happened, recorded."""
    contact_attempt_record(
        actor="tests",
        debtor=loan.debtor,
        loan=loan,
        contact_point=phone,
        channel="call",
        direction="outbound",
        outcome=outcome,
        occurred_at=when,
    )


@pytest.fixture
def crowd(us_debtor, us_loan, cn_debtor, cn_phone, default_debtor):
    """Debtors whose answers differ: history, consents, holds, preferences, no zone."""
    phone = us_debtor.contact_points.get()
    for day, outcome in ((24, "no_answer"), (27, "conversation"), (28, "busy")):
        _called(us_loan, phone, outcome, local(NY, 2026, 2, day, 10, 0))
    ChannelConsent.objects.create(
        debtor=us_debtor, channel="sms", consented_at=local(NY, 2026, 1, 1, 9, 0)
    )
    contact_preference_add(
        actor="tests",
        debtor=us_debtor,
        start_time=dt.time(12, 0),
        end_time=dt.time(13, 30),
        source="portal",
    )
    # A hold recorded on 2 March at noon: it applies from then on, not before.
    disputed = make_debtor(
        country="US",
        timezone="America/Chicago",
        national_id="",
        dispute=True,
        dispute_at=local(NY, 2026, 3, 2, 12, 0),
    )
    paused = make_debtor(country="CN", timezone="", hardship_pause_until=dt.date(2026, 3, 3))
    make_contact_point(paused, value="+8613900139000")
    nowhere = make_debtor(country="", timezone="", national_id="")
    return [us_debtor, cn_debtor, default_debtor, disputed, paused, nowhere]


INSTANTS = [
    local(NY, 2026, 3, 2, 10, 0),
    local(NY, 2026, 3, 2, 12, 45),
    local(NY, 2026, 3, 2, 23, 30),
    local(NY, 2026, 3, 4, 9, 15),
]


def _gate(debtor, channel, at):
    try:
        return gate.check(debtor=debtor, channel=channel, at=at)
    except (NoPolicy, ValidationError):
        return None


@pytest.mark.parametrize("channel", ["call", "sms", "email"])
def test_every_answer_is_the_gates(crowd, channel):
    for at in INSTANTS:
        answers = batch.check_many(debtor_ids=[d.pk for d in crowd], channel=channel, at=at)
        assert answers == {d.pk: _gate(d, channel, at) for d in crowd}, at
    # The debtors differ, so the comparison means something.
    first = batch.check_many(debtor_ids=[d.pk for d in crowd], channel="call", at=INSTANTS[0])
    assert {a.allowed for a in first.values() if a is not None} == {True, False}
    assert first[crowd[-1].pk] is None  # no time zone known


def test_two_queries_whatever_the_number_of_debtors(crowd):
    ids = [d.pk for d in crowd]
    batch.check_many(debtor_ids=ids[:1], channel="call", at=INSTANTS[0])  # policies cached
    for some in (ids[:1], ids):
        with CaptureQueriesContext(connection) as queries:
            batch.check_many(debtor_ids=some, channel="call", at=INSTANTS[0])
        executed = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("PREP")]
        assert len(executed) == 2, executed


def test_unknown_debtors_and_no_policy_are_unknown(crowd):
    assert batch.check_many(debtor_ids=[987654321], channel="call", at=INSTANTS[0]) == {
        987654321: None
    }
    assert batch.check_many(debtor_ids=[], channel="call") == {}
    ContactPolicy.objects.update(is_active=False)
    answers = batch.check_many(debtor_ids=[d.pk for d in crowd], channel="call", at=INSTANTS[0])
    assert set(answers.values()) == {None}


def test_a_dry_run_writes_nothing(crowd):
    batch.check_many(debtor_ids=[d.pk for d in crowd], channel="call", at=INSTANTS[0])
    assert not ContactDecision.objects.exists()


def test_the_history_reaches_as_far_back_as_the_longest_rule(crowd):
    policies = batch.current_policies()
    lookback = batch.history_lookback(policies, "call")
    rules = [policy_version(p.pk, p.version)[1].get("call") for p in policies]
    assert lookback == max(
        [snapshots.DEFAULT_LOOKBACK, *(r.lookback() for r in rules if r is not None)]
    )
    snapshot = batch.load_many(debtor_ids=[crowd[0].pk], channel="call", at=INSTANTS[0])[
        crowd[0].pk
    ]
    assert snapshot.since == INSTANTS[0] - lookback
    assert len(snapshot.history) == 3


def test_check_loans_counts_each_loans_own_attempts(us_debtor, us_loan):
    """us-reg-f allows 7 call attempts per debt in 7 days: a loan that had them is blocked,
    the debtor's other loan is not, as ``gate.check`` says for each."""
    other = make_loan(us_debtor)
    phone = us_debtor.contact_points.get()
    for day in range(1, 8):
        _called(us_loan, phone, "no_answer", local(NY, 2026, 3, day, 9, 0))
    at = local(NY, 2026, 3, 7, 15, 0)
    answers = batch.check_loans(
        wanted=[(us_debtor.pk, us_loan.pk), (us_debtor.pk, other.pk), (987654321, None)],
        channel="call",
        at=at,
    )
    full, free = answers[us_debtor.pk, us_loan.pk], answers[us_debtor.pk, other.pk]
    assert not full.allowed and "rolling_limit" in full.reasons
    assert free.allowed
    for loan, answer in ((us_loan, full), (other, free)):
        assert answer == gate.check(debtor=us_debtor, channel="call", loan=loan, at=at)
    assert isinstance(answers[987654321, None], gate.GateInputError)


def test_current_policies_is_the_orms_answer(db):
    """CURRENT_POLICIES gives what the ORM gives for the current, active policies, in id
    order: an edited policy's old version and an inactive policy are left out."""
    retired = current_policy("default")
    edited = set_rules("default", {"call": {}})
    inactive = ContactPolicy.objects.filter(is_current=True, is_default=False).order_by("id")[0]
    ContactPolicy.objects.filter(pk=inactive.pk).update(is_active=False)

    by_orm = list(
        ContactPolicy.objects.filter(is_current=True, is_active=True)
        .order_by("id")
        .values_list("id", "version", "slug", "country", "region", "is_default")
    )
    by_sql = [
        (p.pk, p.version, p.slug, p.country, p.region, p.is_default)
        for p in batch.current_policies()
    ]
    assert by_sql == by_orm
    # Both conditions matter: the answer is not every row, and each left-out row is one of them.
    ids = {row[0] for row in by_sql}
    assert edited.pk in ids and len(ids) >= 2
    assert retired.pk not in ids and inactive.pk not in ids
    assert set(ContactPolicy.objects.values_list("id", flat=True)) - ids == {
        retired.pk,
        inactive.pk,
    }
