"""Property tests: windows in every zone, frequency rules never exceeded, next_allowed_at allowed.

Most run on the pure engine (no database), with zones chosen for awkward offsets and DST
rules; one drives the real gate on PostgreSQL, each example rolled back.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compliance import engine, gate
from compliance.rules import WEEKDAYS, parse_channel_rules
from tests.factories import make_contact_point, make_debtor

UTC = dt.UTC
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Santiago",
    "Europe/London",
    "Asia/Shanghai",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Honolulu",
]
TRANSITIONS = [
    dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London
    dt.datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe (half-hour shift)
]

zones_st = st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True).map(
    lambda zs: tuple(sorted(zs))
)
minutes_of_day = st.integers(min_value=0, max_value=24 * 60 - 1)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def windows_st(draw):
    windows = []
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        start = draw(st.integers(min_value=0, max_value=23 * 60))
        end = draw(st.integers(min_value=start + 1, max_value=24 * 60 - 1))
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
        windows.append({"days": days, "from": _hhmm(start), "to": _hhmm(end)})
    return windows


instants = st.one_of(
    st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2026, 12, 31),
        timezones=st.just(UTC),
    ),
    st.builds(
        lambda base, seconds: base + dt.timedelta(seconds=seconds),
        st.sampled_from(TRANSITIONS),
        st.integers(min_value=-2 * 86400, max_value=2 * 86400),
    ),
)


def _inside(window_specs, at: dt.datetime, zone_name: str) -> bool:
    local = at.astimezone(ZoneInfo(zone_name))
    now = local.time()
    return any(
        WEEKDAYS[local.weekday()] in w["days"]
        and dt.time.fromisoformat(w["from"]) <= now < dt.time.fromisoformat(w["to"])
        for w in window_specs
    )


@settings(max_examples=400, deadline=None)
@given(zones=zones_st, windows=windows_st(), at=instants)
def test_no_allowed_decision_falls_outside_the_window_in_any_zone(zones, windows, at):
    rules = parse_channel_rules("call", {"hours": windows})
    situation = engine.Situation(channel="call", zones=zones)
    verdict = engine.evaluate(rules, situation, at)
    assert verdict.allowed == all(_inside(windows, at, z) for z in zones)
    if verdict.next_allowed_at is not None:
        nxt = verdict.next_allowed_at
        assert nxt > at
        assert all(_inside(windows, nxt, z) for z in zones)
        assert engine.evaluate(rules, situation, nxt).allowed
        # And it is the earliest such instant, to the second.
        before = nxt - dt.timedelta(seconds=1)
        if before > at:
            assert not all(_inside(windows, before, z) for z in zones)


limit_st = st.fixed_dictionaries(
    {
        "count": st.sampled_from(["attempts", "conversations", "unanswered"]),
        "max": st.integers(min_value=1, max_value=4),
        "per": st.sampled_from(["debtor", "loan", "contact_point"]),
    },
    optional={},
).flatmap(
    lambda base: st.one_of(
        st.integers(min_value=1, max_value=3).map(lambda d: {**base, "days": d}),
        st.integers(min_value=1, max_value=30).map(lambda h: {**base, "hours": h}),
    )
)

OUTCOMES = ["no_answer", "busy", "left_message", "conversation", "failed", "pending"]


def _counted(limit: dict, fact: engine.Fact, at: dt.datetime, zones, loan, point) -> bool:
    """An independent reading of a limit: does ``fact`` count in the period ending at ``at``?"""
    if fact.occurred_at > at or fact.direction != "outbound":
        return False
    if limit["per"] == "loan" and fact.loan_id != loan:
        return False
    if limit["per"] == "contact_point" and fact.contact_point_id != point:
        return False
    if limit["count"] == "conversations" and fact.outcome not in ("conversation", "pending"):
        return False
    if limit["count"] == "unanswered" and fact.outcome not in (
        "no_answer",
        "busy",
        "left_message",
        "failed",
        "pending",
    ):
        return False
    if "hours" in limit:
        return fact.occurred_at > at - dt.timedelta(hours=limit["hours"])
    return any(
        fact.occurred_at.astimezone(ZoneInfo(z)).date()
        >= at.astimezone(ZoneInfo(z)).date() - dt.timedelta(days=limit["days"] - 1)
        for z in zones
    )


@settings(max_examples=300, deadline=None)
@given(
    zones=zones_st,
    limits=st.lists(limit_st, min_size=1, max_size=2),
    start=instants,
    steps=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=36 * 60),  # minutes since the previous request
            st.sampled_from([1, 2]),  # loan
            st.sampled_from([1, 2]),  # contact point
            st.sampled_from(OUTCOMES),  # what the permitted call turned out to be
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_no_sequence_of_requests_exceeds_a_frequency_rule(zones, limits, start, steps):
    rules = parse_channel_rules("call", {"limits": limits})
    history: list[engine.Fact] = []
    t = start
    for minutes, loan, point, outcome in steps:
        t = t + dt.timedelta(minutes=minutes)
        situation = engine.Situation(
            channel="call",
            zones=zones,
            loan_id=loan,
            contact_point=engine.Point(id=point, kind="mobile"),
            history=tuple(history),
        )
        verdict = engine.evaluate(rules, situation, t)
        if verdict.next_allowed_at is not None:
            assert engine.evaluate(rules, situation, verdict.next_allowed_at).allowed
        if not verdict.allowed:
            continue
        # The permit is an attempt at once; its outcome becomes known later.
        history.append(engine.Fact("call", "outbound", outcome, t, loan, point))
        for limit in limits:
            for scope_loan in (1, 2):
                for scope_point in (1, 2):
                    count = sum(
                        _counted(limit, f, t, zones, scope_loan, scope_point) for f in history
                    )
                    assert count <= limit["max"], (limit, count)


@settings(max_examples=200, deadline=None)
@given(
    zones=zones_st,
    windows=windows_st(),
    limit=limit_st,
    start=instants,
    gaps=st.lists(st.integers(min_value=1, max_value=600), min_size=1, max_size=8),
)
def test_next_allowed_at_is_itself_allowed(zones, windows, limit, start, gaps):
    rules = parse_channel_rules("call", {"hours": windows, "limits": [limit]})
    history = []
    t = start
    for gap in gaps:
        t += dt.timedelta(minutes=gap)
        history.append(engine.Fact("call", "outbound", "pending", t, 1, 1))
    situation = engine.Situation(
        channel="call",
        zones=zones,
        loan_id=1,
        contact_point=engine.Point(id=1, kind="mobile"),
        history=tuple(history),
    )
    verdict = engine.evaluate(rules, situation, t)
    assume(not verdict.allowed)
    if verdict.next_allowed_at is not None:
        assert verdict.next_allowed_at > t
        assert engine.evaluate(rules, situation, verdict.next_allowed_at).allowed


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(offsets=st.lists(st.integers(min_value=0, max_value=3 * 24 * 60), min_size=1, max_size=25))
def test_gate_requests_on_postgresql_respect_the_cn_preset(offsets):
    """Random requests through the real gate: ≤ 3 permits a day, none outside 08:00-22:00."""
    shanghai = ZoneInfo("Asia/Shanghai")
    start = dt.datetime(2026, 3, 2, 0, 0, tzinfo=shanghai)
    with transaction.atomic():
        debtor = make_debtor(country="CN", timezone="Asia/Shanghai")
        phone = make_contact_point(debtor, value="+8613800138000")
        granted = []
        for minutes in sorted(offsets):
            at = start + dt.timedelta(minutes=minutes)
            try:
                gate.request(
                    debtor=debtor, channel="call", contact_point=phone, actor="prop", now=at
                )
                granted.append(at.astimezone(shanghai))
            except gate.ContactBlocked as blocked:
                nxt = blocked.decision.next_allowed_at
                if nxt is not None:
                    assert gate.check(
                        debtor=debtor, channel="call", contact_point=phone, at=nxt
                    ).allowed
        per_day: dict[dt.date, int] = {}
        for at in granted:
            assert dt.time(8) <= at.time() < dt.time(22)
            per_day[at.date()] = per_day.get(at.date(), 0) + 1
        assert all(n <= 3 for n in per_day.values())
        transaction.set_rollback(True)
