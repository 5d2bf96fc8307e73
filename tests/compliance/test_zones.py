"""Time zones: where the debtor may be, multi-zone debtors, and New York's 2026 DST days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from compliance import gate
from compliance.engine import local_instants, start_of_day
from compliance.services import contact_attempt_record
from compliance.zones import candidate_zones, country_zones, phone_zones
from tests.factories import make_contact_point, make_debtor

from .conftest import NY, UTC, local, set_rules

LA = ZoneInfo("America/Los_Angeles")


def test_explicit_zone_wins(db):
    debtor = make_debtor(country="US", timezone="America/Chicago")
    make_contact_point(debtor, value="+12125550123")
    assert candidate_zones(debtor, debtor.contact_points.all()) == ["America/Chicago"]


def test_zones_from_phone_numbers_and_addresses(db):
    debtor = make_debtor(country="US", timezone="")
    make_contact_point(debtor, value="+12125550123")  # New York
    make_contact_point(
        debtor,
        kind="address",
        value="1 Main St, Los Angeles",
        country="US",
        timezone="America/Los_Angeles",
    )
    make_contact_point(debtor, value="+13125550123", owner="reference")  # not the debtor's
    assert candidate_zones(debtor, debtor.contact_points.all()) == [
        "America/Los_Angeles",
        "America/New_York",
    ]


def test_address_country_with_one_zone(db):
    debtor = make_debtor(country="US", timezone="")
    make_contact_point(debtor, kind="address", value="Paris", country="FR")
    assert candidate_zones(debtor, debtor.contact_points.all()) == ["Europe/Paris"]


def test_fallback_to_every_zone_of_the_country(db):
    debtor = make_debtor(country="US", timezone="")
    zones = candidate_zones(debtor, [])
    assert "America/New_York" in zones and "Pacific/Honolulu" in zones
    assert zones == list(country_zones("US"))
    assert country_zones("CN") == ("Asia/Shanghai", "Asia/Urumqi")


def test_phone_zones():
    assert phone_zones("+12125550123") == ("America/New_York",)
    assert phone_zones("+8613800138000") == ("Asia/Shanghai",)
    assert phone_zones("not a number") == ()


def test_unknown_zone_is_a_validation_error_not_utc(db):
    debtor = make_debtor(country="US", timezone="")
    debtor.timezone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError):
        candidate_zones(debtor, [])
    with pytest.raises(ValidationError):
        debtor.full_clean()


def test_multi_zone_debtor_is_contacted_only_inside_every_window(db):
    debtor = make_debtor(country="US", timezone="")
    make_contact_point(debtor, value="+12125550123")
    make_contact_point(
        debtor, kind="address", value="LA", country="US", timezone="America/Los_Angeles"
    )
    # 08:30 in New York is 05:30 in Los Angeles.
    early = gate.check(debtor=debtor, channel="call", at=local(NY, 2026, 3, 2, 8, 30))
    assert early.reasons == ["outside_contact_hours"]
    assert early.timezones == ["America/Los_Angeles", "America/New_York"]
    assert early.next_allowed_at == local(LA, 2026, 3, 2, 8, 0)
    # 21:00 in New York is only 18:00 in Los Angeles: still refused.
    assert not gate.check(debtor=debtor, channel="call", at=local(NY, 2026, 3, 2, 21, 0)).allowed
    assert gate.check(debtor=debtor, channel="call", at=local(NY, 2026, 3, 2, 20, 59)).allowed


def test_zones_far_apart_meet_in_the_evening_and_morning(db):
    debtor = make_debtor(country="US", timezone="")
    make_contact_point(debtor, value="+12125550123")
    make_contact_point(
        debtor, kind="address", value="Shanghai", country="CN", timezone="Asia/Shanghai"
    )
    decision = gate.check(debtor=debtor, channel="call", at=local(NY, 2026, 3, 2, 10, 0))
    # 19:00 in New York is 08:00 the next morning in Shanghai.
    assert decision.next_allowed_at == local(NY, 2026, 3, 2, 19, 0)


def test_zones_whose_windows_never_meet_give_no_next_time(db):
    set_rules(
        "us-reg-f",
        {
            "call": {
                "hours": [
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "from": "09:00",
                        "to": "12:00",
                    }
                ]
            }
        },
    )
    debtor = make_debtor(country="US", timezone="")
    make_contact_point(debtor, value="+12125550123")
    make_contact_point(
        debtor, kind="address", value="Shanghai", country="CN", timezone="Asia/Shanghai"
    )
    decision = gate.check(debtor=debtor, channel="call", at=local(NY, 2026, 3, 2, 10, 0))
    assert decision.reasons == ["outside_contact_hours"]
    assert decision.next_allowed_at is None


# --- DST: America/New_York springs forward on 2026-03-08 and falls back on 2026-11-01 -------


def test_local_instants_in_gap_and_fold():
    # 02:30 does not exist on 8 March: the clock jumps from 02:00 EST to 03:00 EDT (07:00 UTC).
    assert local_instants(dt.date(2026, 3, 8), dt.time(2, 30), NY) == [
        dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    ]
    # 01:30 happens twice on 1 November.
    assert local_instants(dt.date(2026, 11, 1), dt.time(1, 30), NY) == [
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ]
    assert start_of_day(dt.date(2026, 11, 1), NY) == dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert start_of_day(dt.date(2026, 11, 2), NY) == dt.datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_spring_forward_day(us_debtor):
    # Saturday 7 March 21:30 EST: next is Sunday 08:00 EDT = 12:00 UTC.
    decision = gate.check(debtor=us_debtor, channel="call", at=local(NY, 2026, 3, 7, 21, 30))
    assert decision.next_allowed_at == dt.datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert not gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 3, 8, 11, 59, 59, tzinfo=UTC)
    ).allowed
    assert gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    ).allowed
    # 21:00 EDT = 01:00 UTC on the 9th.
    assert gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 3, 9, 0, 59, 59, tzinfo=UTC)
    ).allowed
    assert not gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    ).allowed


def test_fall_back_day(us_debtor):
    decision = gate.check(debtor=us_debtor, channel="call", at=local(NY, 2026, 10, 31, 21, 0))
    # Sunday 08:00 EST = 13:00 UTC.
    assert decision.next_allowed_at == dt.datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert not gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 11, 1, 12, 59, tzinfo=UTC)
    ).allowed
    assert gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    ).allowed


def test_daily_limit_over_the_25_hour_day(us_debtor):
    set_rules(
        "us-reg-f",
        {"call": {"limits": [{"count": "attempts", "max": 1, "per": "debtor", "days": 1}]}},
    )
    # 00:30 EDT on 1 November (04:30 UTC): the day lasts until midnight EST (05:00 UTC on the 2nd).
    contact_attempt_record(
        actor="tests",
        debtor=us_debtor,
        channel="call",
        direction="outbound",
        outcome="no_answer",
        occurred_at=dt.datetime(2026, 11, 1, 4, 30, tzinfo=UTC),
    )
    decision = gate.check(
        debtor=us_debtor, channel="call", at=dt.datetime(2026, 11, 2, 4, 59, tzinfo=UTC)
    )
    assert decision.reasons == ["daily_limit"]
    assert decision.next_allowed_at == dt.datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_inconvenient_time_ending_in_the_fold(us_debtor):
    from compliance.services import contact_preference_add

    set_rules("us-reg-f", {"call": {}})
    contact_preference_add(
        actor="tests",
        debtor=us_debtor,
        start_time=dt.time(0, 0),
        end_time=dt.time(1, 30),
        source="portal",
    )
    # 01:10 EST (the second pass through 01:xx) is inside the period again.
    at = dt.datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    decision = gate.check(debtor=us_debtor, channel="call", at=at)
    assert decision.reasons == ["debtor_inconvenient_time"]
    assert decision.next_allowed_at == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
