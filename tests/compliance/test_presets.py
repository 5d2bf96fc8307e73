"""Each shipped preset's numbers, as docs/regulations.md states them."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance import gate
from compliance.models import ContactPolicy
from compliance.services import contact_attempt_record
from debtors.models import ContactPoint
from tests.factories import make_contact_point, make_debtor, make_loan

from .conftest import NY, SHANGHAI, UTC, local


def _record(debtor, outcome, at, **kwargs):
    kwargs.setdefault("channel", "call")
    kwargs.setdefault("direction", "outbound")
    return contact_attempt_record(
        actor="dialer", debtor=debtor, outcome=outcome, occurred_at=at, **kwargs
    )


def test_presets_are_active_and_cite_their_sources(db):
    policies = {p.slug: p for p in ContactPolicy.objects.filter(is_current=True, is_active=True)}
    assert policies["us-reg-f"].country == "US" and "1006.14" in policies["us-reg-f"].source
    assert policies["cn-gbt-45251"].country == "CN" and "45251" in policies["cn-gbt-45251"].source
    assert policies["default"].is_default
    for policy in policies.values():
        policy.full_clean()


# --- us-reg-f -----------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["call", "email"])
def test_us_window_is_8_to_21_for_calls_texts_and_emails(us_debtor, channel):
    assert gate.check(debtor=us_debtor, channel=channel, at=local(NY, 2026, 3, 2, 8, 0)).allowed
    assert gate.check(
        debtor=us_debtor, channel=channel, at=local(NY, 2026, 3, 2, 20, 59, 59)
    ).allowed
    assert not gate.check(
        debtor=us_debtor, channel=channel, at=local(NY, 2026, 3, 2, 21, 0)
    ).allowed
    assert not gate.check(
        debtor=us_debtor, channel=channel, at=local(NY, 2026, 3, 2, 7, 59)
    ).allowed


def test_us_seven_calls_per_debt_in_seven_days(us_debtor, us_loan):
    other_loan = make_loan(us_debtor, currency="USD")
    day = local(NY, 2026, 3, 2, 9, 0)
    for i in range(7):
        _record(us_debtor, "no_answer", day + dt.timedelta(hours=i), loan=us_loan)
    blocked = gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=day + dt.timedelta(hours=8)
    )
    assert blocked.reasons == ["rolling_limit"]
    # Seven consecutive days: 2 March is day 1, so 9 March is free again.
    assert blocked.next_allowed_at == local(NY, 2026, 3, 9, 8, 0)
    assert gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=local(NY, 2026, 3, 8, 20, 0)
    ).reasons == ["rolling_limit"]
    # Counts are per debt.
    assert gate.check(
        debtor=us_debtor, channel="call", loan=other_loan, at=day + dt.timedelta(hours=8)
    ).allowed


def test_us_inbound_calls_are_not_attempts_but_conversations_count(us_debtor, us_loan):
    day = local(NY, 2026, 3, 2, 9, 0)
    for i in range(7):
        _record(
            us_debtor, "no_answer", day + dt.timedelta(minutes=i), loan=us_loan, direction="inbound"
        )
    assert gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=day + dt.timedelta(hours=1)
    ).allowed
    _record(
        us_debtor, "conversation", day + dt.timedelta(hours=2), loan=us_loan, direction="inbound"
    )
    decision = gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=day + dt.timedelta(hours=3)
    )
    assert decision.reasons == ["conversation_cooldown"]


def test_us_no_call_for_seven_days_after_a_conversation(us_debtor, us_loan):
    _record(us_debtor, "conversation", local(NY, 2026, 3, 2, 20, 30), loan=us_loan)
    assert not gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=local(NY, 2026, 3, 8, 20, 59)
    ).allowed
    assert gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=local(NY, 2026, 3, 9, 8, 0)
    ).allowed
    # The cooldown is about calls; an email is still fine.
    assert gate.check(
        debtor=us_debtor, channel="email", loan=us_loan, at=local(NY, 2026, 3, 3, 10, 0)
    ).allowed


def test_us_pending_permits_count_as_attempts(us_debtor, us_loan):
    for i in range(7):
        gate.request(
            debtor=us_debtor,
            channel="call",
            loan=us_loan,
            actor="tests",
            now=local(NY, 2026, 3, 2, 9, i),
        )
    with pytest.raises(gate.ContactBlocked) as blocked:
        gate.request(
            debtor=us_debtor,
            channel="call",
            loan=us_loan,
            actor="tests",
            now=local(NY, 2026, 3, 2, 10, 0),
        )
    assert blocked.value.decision.reasons == ["rolling_limit"]


# --- cn-gbt-45251 -------------------------------------------------------------------------


def test_cn_no_contact_22_to_8(cn_debtor, cn_phone):
    for channel in ("call", "sms", "visit"):
        assert gate.check(
            debtor=cn_debtor, channel=channel, at=local(SHANGHAI, 2026, 3, 2, 21, 59, 59)
        ).allowed
        assert not gate.check(
            debtor=cn_debtor, channel=channel, at=local(SHANGHAI, 2026, 3, 2, 22, 0)
        ).allowed
        assert not gate.check(
            debtor=cn_debtor, channel=channel, at=local(SHANGHAI, 2026, 3, 3, 7, 59)
        ).allowed
        assert gate.check(
            debtor=cn_debtor, channel=channel, at=local(SHANGHAI, 2026, 3, 3, 8, 0)
        ).allowed


def test_cn_three_conversations_a_day(cn_debtor, cn_phone):
    for hour in (9, 10, 11):
        _record(
            cn_debtor, "conversation", local(SHANGHAI, 2026, 3, 2, hour, 0), contact_point=cn_phone
        )
    decision = gate.check(
        debtor=cn_debtor,
        channel="call",
        contact_point=cn_phone,
        at=local(SHANGHAI, 2026, 3, 2, 12, 0),
    )
    assert decision.reasons == ["daily_limit"]
    assert decision.next_allowed_at == local(SHANGHAI, 2026, 3, 3, 8, 0)


def test_cn_six_unanswered_attempts_per_number_a_day(cn_debtor, cn_phone):
    second = make_contact_point(cn_debtor, value="+8613900139000")
    for minute in range(6):
        _record(
            cn_debtor, "no_answer", local(SHANGHAI, 2026, 3, 2, 9, minute), contact_point=cn_phone
        )
    assert gate.check(
        debtor=cn_debtor,
        channel="call",
        contact_point=cn_phone,
        at=local(SHANGHAI, 2026, 3, 2, 10, 0),
    ).reasons == ["daily_limit"]
    assert gate.check(
        debtor=cn_debtor,
        channel="call",
        contact_point=second,
        at=local(SHANGHAI, 2026, 3, 2, 10, 0),
    ).allowed


def test_cn_third_party_only_after_three_failed_attempts(cn_debtor, cn_phone):
    reference = make_contact_point(
        cn_debtor, value="+8613700137000", owner=ContactPoint.Owner.REFERENCE
    )
    at = local(SHANGHAI, 2026, 3, 2, 15, 0)
    assert gate.check(debtor=cn_debtor, channel="call", contact_point=reference, at=at).reasons == [
        "third_party_not_allowed"
    ]
    _record(cn_debtor, "no_answer", local(SHANGHAI, 2026, 3, 2, 9, 0), contact_point=cn_phone)
    _record(cn_debtor, "busy", local(SHANGHAI, 2026, 3, 2, 10, 0), contact_point=cn_phone)
    assert not gate.check(debtor=cn_debtor, channel="call", contact_point=reference, at=at).allowed
    _record(cn_debtor, "no_answer", local(SHANGHAI, 2026, 3, 2, 11, 0), contact_point=cn_phone)
    assert gate.check(debtor=cn_debtor, channel="call", contact_point=reference, at=at).allowed
    # A conversation makes the debtor reachable again.
    _record(cn_debtor, "conversation", local(SHANGHAI, 2026, 3, 2, 12, 0), contact_point=cn_phone)
    assert not gate.check(debtor=cn_debtor, channel="call", contact_point=reference, at=at).allowed


def test_cn_third_party_when_no_valid_number(cn_debtor, cn_phone):
    reference = make_contact_point(
        cn_debtor, value="+8613700137000", owner=ContactPoint.Owner.REFERENCE
    )
    cn_phone.status = ContactPoint.Status.INVALID
    cn_phone.save()
    assert gate.check(
        debtor=cn_debtor,
        channel="call",
        contact_point=reference,
        at=local(SHANGHAI, 2026, 3, 2, 15, 0),
    ).allowed


# --- default ------------------------------------------------------------------------------


def test_default_window_and_daily_numbers(default_debtor):
    monday = dt.date(2026, 3, 2)
    at = dt.datetime.combine(monday, dt.time(8, 0), tzinfo=UTC)
    assert not gate.check(
        debtor=default_debtor, channel="call", at=at - dt.timedelta(seconds=1)
    ).allowed
    assert gate.check(debtor=default_debtor, channel="call", at=at).allowed
    assert not gate.check(debtor=default_debtor, channel="call", at=at.replace(hour=20)).allowed
    gate.request(debtor=default_debtor, channel="sms", actor="tests", now=at)
    assert gate.check(debtor=default_debtor, channel="sms", at=at.replace(hour=9)).reasons == [
        "daily_limit"
    ]
    gate.request(debtor=default_debtor, channel="call", actor="tests", now=at)
    gate.request(debtor=default_debtor, channel="call", actor="tests", now=at.replace(hour=9))
    assert gate.check(debtor=default_debtor, channel="call", at=at.replace(hour=10)).reasons == [
        "daily_limit"
    ]
    assert gate.check(debtor=default_debtor, channel="call", at=at + dt.timedelta(days=1)).allowed


def test_a_debtor_in_an_uncovered_country_gets_the_default(db):
    debtor = make_debtor(country="FR", timezone="Europe/Paris")
    assert (
        gate.check(
            debtor=debtor, channel="call", at=dt.datetime(2026, 3, 2, 10, tzinfo=UTC)
        ).policy_slug
        == "default"
    )


def test_electronic_messages_must_carry_an_opt_out_under_reg_f(us_debtor, cn_debtor):
    from compliance.selectors import opt_out_required

    assert opt_out_required(us_debtor, "sms") and opt_out_required(us_debtor, "email")
    assert not opt_out_required(us_debtor, "call")
    assert not opt_out_required(cn_debtor, "sms")
