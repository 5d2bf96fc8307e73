"""The gate: every reason code, check versus request, permits, and what gets written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import gate
from compliance.models import ContactAttempt, ContactDecision, ContactPermit
from compliance.reasons import Reason, reason_label
from compliance.services import contact_attempt_record, contact_preference_add
from debtors.models import ChannelConsent, ContactPoint
from tests.factories import make_contact_point, make_debtor, make_loan

from .conftest import NY, UTC, local, set_rules

# A Monday in March 2026 (no US holiday), 10:00 in New York.
MONDAY_10 = local(NY, 2026, 3, 2, 10, 0)


def _reasons(debtor, channel="call", at=MONDAY_10, **kwargs):
    return gate.check(debtor=debtor, channel=channel, at=at, **kwargs).reasons


def test_allowed_decision_shape(us_debtor, us_loan):
    decision = gate.check(debtor=us_debtor, channel="call", loan=us_loan, at=MONDAY_10)
    assert decision.allowed
    assert decision.reasons == []
    assert decision.next_allowed_at is None
    assert decision.timezones == ["America/New_York"]
    assert (decision.policy_slug, decision.policy_version) == ("us-reg-f", 1)
    assert decision.decision_id is None
    assert decision.as_dict() == {
        "allowed": True,
        "reasons": [],
        "next_allowed_at": None,
        "timezones": ["America/New_York"],
        "policy": "us-reg-f",
        "policy_version": 1,
    }


def test_outside_contact_hours_edges(us_debtor):
    assert _reasons(us_debtor, at=local(NY, 2026, 3, 2, 20, 59, 59)) == []
    blocked = gate.check(debtor=us_debtor, channel="call", at=local(NY, 2026, 3, 2, 21, 0, 0))
    assert blocked.reasons == [Reason.OUTSIDE_CONTACT_HOURS]
    assert blocked.next_allowed_at == local(NY, 2026, 3, 3, 8, 0)
    assert _reasons(us_debtor, at=local(NY, 2026, 3, 3, 7, 59, 59)) == ["outside_contact_hours"]
    assert _reasons(us_debtor, at=local(NY, 2026, 3, 3, 8, 0, 0)) == []
    assert blocked.as_dict()["next_allowed_at"] == "2026-03-03T13:00:00+00:00"


def test_holiday(us_debtor):
    rules = {
        "call": {
            "hours": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "from": "08:00",
                    "to": "21:00",
                }
            ],
            "no_contact_on_holidays": True,
        }
    }
    set_rules("us-reg-f", rules)
    christmas = local(NY, 2026, 12, 25, 10, 0)
    decision = gate.check(debtor=us_debtor, channel="call", at=christmas)
    assert decision.reasons == [Reason.HOLIDAY]
    assert decision.next_allowed_at == local(NY, 2026, 12, 26, 8, 0)
    assert decision.policy_version == 2


def test_daily_limit_default_policy(default_debtor):
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # London is on GMT
    for minutes in (0, 30):
        gate.request(
            debtor=default_debtor,
            channel="call",
            actor="tests",
            now=at + dt.timedelta(minutes=minutes),
        )
    decision = gate.check(debtor=default_debtor, channel="call", at=at + dt.timedelta(hours=1))
    assert decision.reasons == [Reason.DAILY_LIMIT]
    assert decision.next_allowed_at == dt.datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert decision.policy_slug == "default"


def test_rolling_limit_us_seven_in_seven_days(us_debtor, us_loan):
    for day in range(7):
        gate.request(
            debtor=us_debtor,
            channel="call",
            loan=us_loan,
            actor="tests",
            now=local(NY, 2026, 3, 2 + day, 10, 0),
        )
    decision = gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=local(NY, 2026, 3, 8, 15, 0)
    )
    assert decision.reasons == [Reason.ROLLING_LIMIT]
    # The first call (2 March) leaves the seven days at midnight starting 9 March.
    assert decision.next_allowed_at == local(NY, 2026, 3, 9, 8, 0)


def test_conversation_cooldown(us_debtor, us_loan):
    contact_attempt_record(
        actor="tests",
        debtor=us_debtor,
        loan=us_loan,
        channel="call",
        direction="outbound",
        outcome="conversation",
        occurred_at=MONDAY_10,
    )
    decision = gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=local(NY, 2026, 3, 8, 20, 0)
    )
    assert decision.reasons == [Reason.CONVERSATION_COOLDOWN]
    # Monday is day 1 of 7: the next call is allowed on the following Monday.
    assert decision.next_allowed_at == local(NY, 2026, 3, 9, 8, 0)


def test_min_interval(default_debtor):
    set_rules("default", {"call": {"min_interval_minutes": 90}})
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    gate.request(debtor=default_debtor, channel="call", actor="tests", now=at)
    decision = gate.check(debtor=default_debtor, channel="call", at=at + dt.timedelta(minutes=60))
    assert decision.reasons == [Reason.MIN_INTERVAL]
    assert decision.next_allowed_at == at + dt.timedelta(minutes=90)


def test_no_consent_for_us_sms(us_debtor):
    assert _reasons(us_debtor, channel="sms") == [Reason.NO_CONSENT]
    ChannelConsent.objects.create(
        debtor=us_debtor, channel="sms", consented_at=MONDAY_10 - dt.timedelta(days=1)
    )
    assert _reasons(us_debtor, channel="sms") == []


def test_channel_opt_out(us_debtor):
    ChannelConsent.objects.create(
        debtor=us_debtor, channel="email", opted_out_at=MONDAY_10 - dt.timedelta(days=1)
    )
    decision = gate.check(debtor=us_debtor, channel="email", at=MONDAY_10)
    assert decision.reasons == [Reason.CHANNEL_OPT_OUT]
    assert decision.next_allowed_at is None


def test_opt_out_of_one_contact_point_only(us_debtor):
    first = us_debtor.contact_points.get()
    second = make_contact_point(us_debtor, value="+12125550199")
    ChannelConsent.objects.create(
        debtor=us_debtor, contact_point=first, channel="call", opted_out_at=MONDAY_10
    )
    assert _reasons(us_debtor, contact_point=first) == [Reason.CHANNEL_OPT_OUT]
    assert _reasons(us_debtor, contact_point=second) == []


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("cease_communication", Reason.CEASE_COMMUNICATION),
        ("dispute", Reason.DISPUTE_HOLD),
        ("bankruptcy", Reason.BANKRUPTCY_HOLD),
        ("deceased", Reason.DECEASED),
    ],
)
def test_holds_block_every_channel(us_debtor, flag, reason):
    setattr(us_debtor, flag, True)
    us_debtor.save()
    for channel in ("call", "sms", "email", "in_app", "letter", "visit"):
        decision = gate.check(debtor=us_debtor, channel=channel, at=MONDAY_10)
        assert reason in decision.reasons
        assert decision.next_allowed_at is None


def test_hardship_pause_until_its_end(us_debtor):
    us_debtor.hardship_pause_until = dt.date(2026, 3, 5)
    us_debtor.save()
    assert _reasons(us_debtor, at=local(NY, 2026, 3, 5, 20, 0)) == [Reason.HARDSHIP_PAUSE]
    assert gate.check(debtor=us_debtor, channel="call", at=MONDAY_10).next_allowed_at is None
    assert _reasons(us_debtor, at=local(NY, 2026, 3, 6, 8, 0)) == []


@pytest.mark.parametrize("status", [ContactPoint.Status.INVALID, ContactPoint.Status.WRONG_PARTY])
def test_invalid_contact_point(us_debtor, status):
    point = us_debtor.contact_points.get()
    point.status = status
    point.save()
    assert _reasons(us_debtor, contact_point=point) == [Reason.INVALID_CONTACT_POINT]


def test_contact_point_of_the_wrong_kind_is_invalid_for_the_channel(us_debtor):
    email = make_contact_point(us_debtor, kind="email", value="d@example.com")
    assert _reasons(us_debtor, contact_point=email, channel="call") == [
        Reason.INVALID_CONTACT_POINT
    ]


def test_third_party_never_under_default(default_debtor):
    reference = make_contact_point(default_debtor, value="+442079460000", owner="reference")
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert _reasons(default_debtor, contact_point=reference, at=at) == [
        Reason.THIRD_PARTY_NOT_ALLOWED
    ]


def test_debtor_inconvenient_time(us_debtor):
    contact_preference_add(
        actor="tests",
        debtor=us_debtor,
        start_time=dt.time(9, 0),
        end_time=dt.time(12, 0),
        weekdays=[0],
        source="portal",
    )
    decision = gate.check(debtor=us_debtor, channel="call", at=MONDAY_10)
    assert decision.reasons == [Reason.DEBTOR_INCONVENIENT_TIME]
    assert decision.next_allowed_at == local(NY, 2026, 3, 2, 12, 0)
    # Tuesday is not one of the days named.
    assert _reasons(us_debtor, at=local(NY, 2026, 3, 3, 10, 0)) == []


def test_inconvenient_time_across_midnight(us_debtor):
    contact_preference_add(
        actor="tests",
        debtor=us_debtor,
        start_time=dt.time(19, 0),
        end_time=dt.time(9, 30),
        source="collector",
    )
    decision = gate.check(debtor=us_debtor, channel="call", at=local(NY, 2026, 3, 2, 19, 30))
    assert decision.reasons == [Reason.DEBTOR_INCONVENIENT_TIME]
    assert decision.next_allowed_at == local(NY, 2026, 3, 3, 9, 30)


def test_every_reason_code_has_a_translated_label():
    assert len(Reason.values) == 16
    for code in Reason.values:
        assert str(reason_label(code)) and str(reason_label(code)) != code


def test_several_reasons_are_all_reported(us_debtor):
    us_debtor.dispute = True
    us_debtor.save()
    decision = gate.check(debtor=us_debtor, channel="sms", at=local(NY, 2026, 3, 2, 23, 0))
    assert decision.reasons == [
        Reason.OUTSIDE_CONTACT_HOURS,
        Reason.NO_CONSENT,
        Reason.DISPUTE_HOLD,
    ]
    assert decision.next_allowed_at is None


# --- check writes nothing; request writes the ledger, the attempt and the permit ------------


def test_check_writes_nothing(us_debtor, us_loan):
    with CaptureQueriesContext(connection) as queries:
        gate.check(debtor=us_debtor, channel="call", loan=us_loan, at=MONDAY_10)
    assert not [
        q for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert not ContactDecision.objects.exists()


def test_request_grants_a_permit_that_is_an_attempt(us_debtor, us_loan, collector):
    permit = gate.request(
        debtor=us_debtor, channel="call", loan=us_loan, actor=collector, now=MONDAY_10
    )
    assert permit.decision.allowed and permit.decision.decision_id
    assert permit.expires_at == MONDAY_10 + dt.timedelta(minutes=5)
    attempt = ContactAttempt.objects.get(pk=permit.attempt_id)
    assert (attempt.outcome, attempt.direction, attempt.occurred_at) == (
        "pending",
        "outbound",
        MONDAY_10,
    )
    assert attempt.actor_label == "alice" and attempt.actor_user == collector
    row = ContactDecision.objects.get(pk=permit.decision.decision_id)
    assert row.allowed and row.actor_label == "alice" and row.loan_id == us_loan.pk
    assert (row.policy_slug, row.policy_version) == ("us-reg-f", 1)
    assert row.row_hash is None  # sealed later, off the hot path
    assert ContactPermit.objects.get().token_hash != permit.token


def test_blocked_request_is_recorded_and_raises(us_debtor):
    with pytest.raises(gate.ContactBlocked) as blocked:
        gate.request(
            debtor=us_debtor, channel="call", actor="reminders", now=local(NY, 2026, 3, 2, 22, 0)
        )
    decision = blocked.value.decision
    assert decision.reasons == ["outside_contact_hours"]
    row = ContactDecision.objects.get(pk=decision.decision_id)
    assert not row.allowed and row.reasons == ["outside_contact_hours"]
    assert row.actor_label == "system: reminders"
    assert row.next_allowed_at == local(NY, 2026, 3, 3, 8, 0)
    assert not ContactAttempt.objects.exists()


def test_request_query_count(us_debtor, us_loan):
    gate.request(debtor=us_debtor, channel="call", loan=us_loan, actor="tests", now=MONDAY_10)
    with CaptureQueriesContext(connection) as queries:
        gate.request(
            debtor=us_debtor,
            channel="call",
            loan=us_loan,
            actor="tests",
            now=MONDAY_10 + dt.timedelta(minutes=1),
        )
    # Inside the test's transaction: a savepoint, lock and read (one message), the writes,
    # and the savepoint's release. Outside one it is two (test_request_many.py).
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_permit_is_single_use(us_debtor):
    permit = gate.request(debtor=us_debtor, channel="call", actor="tests", now=MONDAY_10)
    # Redeeming uses the real clock: give the permit a fresh expiry for the test.
    ContactPermit.objects.update(expires_at=dt.datetime.now(UTC) + dt.timedelta(minutes=5))
    with pytest.raises(gate.InvalidPermit):
        gate.redeem_permit(permit.token, channel="sms", debtor_id=us_debtor.pk)
    with pytest.raises(gate.InvalidPermit):
        gate.redeem_permit(permit.token, channel="call", debtor_id=us_debtor.pk + 1)
    attempt = gate.redeem_permit(permit.token, channel="call", debtor_id=us_debtor.pk)
    assert attempt.pk == permit.attempt_id
    with pytest.raises(gate.InvalidPermit, match="already used"):
        gate.redeem_permit(permit.token, channel="call", debtor_id=us_debtor.pk)
    with pytest.raises(gate.InvalidPermit, match="Unknown"):
        gate.redeem_permit("not-a-token", channel="call", debtor_id=us_debtor.pk)


def test_expired_permit_is_refused(us_debtor):
    permit = gate.request(debtor=us_debtor, channel="call", actor="tests", now=MONDAY_10)
    with pytest.raises(gate.InvalidPermit, match="expired"):
        gate.redeem_permit(permit.token, channel="call", debtor_id=us_debtor.pk)


def test_completing_a_permit_does_not_add_an_attempt(us_debtor, us_loan):
    permit = gate.request(
        debtor=us_debtor, channel="call", loan=us_loan, actor="tests", now=MONDAY_10
    )
    attempt = ContactAttempt.objects.get(pk=permit.attempt_id)
    done = contact_attempt_record(
        actor="tests",
        debtor=us_debtor,
        channel="call",
        direction="outbound",
        outcome="no_answer",
        occurred_at=MONDAY_10 + dt.timedelta(minutes=1),
        attempt=attempt,
    )
    assert done.pk == attempt.pk
    assert ContactAttempt.objects.count() == 1
    assert done.outcome == "no_answer" and not done.breach
    assert done.loan_id == us_loan.pk


@pytest.mark.parametrize(
    "kwargs", [{"channel": "fax"}, {"loan": "other"}, {"contact_point": "other"}]
)
def test_bad_input(us_debtor, kwargs):
    other = make_debtor()
    if kwargs.get("loan") == "other":
        kwargs["loan"] = make_loan(other)
    if kwargs.get("contact_point") == "other":
        kwargs["contact_point"] = make_contact_point(other)
    kwargs.setdefault("channel", "call")
    with pytest.raises(gate.GateInputError):
        gate.check(debtor=us_debtor, at=MONDAY_10, **kwargs)
    with pytest.raises(gate.GateInputError):
        gate.request(debtor=us_debtor, actor="tests", now=MONDAY_10, **kwargs)


def test_naive_instant_is_refused(us_debtor):
    with pytest.raises(gate.GateInputError):
        gate.check(debtor=us_debtor, channel="call", at=dt.datetime(2026, 3, 2, 10, 0))
