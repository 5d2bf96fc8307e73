"""The wallboard: each collector's and each team's figures today and this week, in the viewer's
time zone, worked out by hand from rows written at chosen instants; its CSV; its team filter;
collectors kept out; a number of queries that does not grow with the collectors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.teams import team_save
from tests.factories import make_case, make_debtor, make_loan
from workspace.selectors.figures import Figures
from workspace.selectors.wallboard import wallboard

from .activity import SHANGHAI, at, attempt, make_collector, payment, promise

pytestmark = pytest.mark.django_db

# Wednesday 4 March 2026, 15:00 in Shanghai: today is the 4th, this week Monday 2nd to today.
NOW = at(2026, 3, 4, 15, 0)
MONDAY, TUESDAY, WEDNESDAY = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
LATER = dt.date(2026, 3, 20)
LAST_MONTH = at(2026, 2, 20, 10, 0)


@pytest.fixture
def week(supervisor, collector, other_collector):
    """alice and bob (team East, led by sam) and carol (no team), and their week's work."""
    carol = make_collector("carol")
    east = team_save(
        actor=supervisor, name="East", leaders=[supervisor], members=[collector, other_collector]
    )
    alices, bobs = make_debtor(), make_debtor()
    make_case(alices, collector)
    make_case(bobs, other_collector)
    alice_cny, alice_usd = make_loan(alices), make_loan(alices, currency="USD")
    bob_cny = make_loan(bobs)

    # alice: two calls today with an outcome (one reached the debtor), one still pending, an
    # SMS on Monday; a call last Sunday is last week's.
    attempt(collector, alices, at(2026, 3, 4, 10, 0), code="promise")
    attempt(collector, alices, at(2026, 3, 4, 11, 0), outcome="no_answer", code="no_answer")
    attempt(collector, alices, at(2026, 3, 4, 12, 0), outcome="pending")
    attempt(collector, alices, at(2026, 3, 2, 9, 0), channel="sms", outcome="sent")
    attempt(collector, alices, at(2026, 3, 1, 9, 0), code="promise")
    # bob: a conversation with no disposition code at 00:30 today in Shanghai (still yesterday
    # in UTC), and an inbound call, which is not an attempt.
    attempt(other_collector, bobs, at(2026, 3, 4, 0, 30))
    attempt(other_collector, bobs, at(2026, 3, 4, 9, 0), direction="inbound")
    # A reminder the system sent is nobody's attempt.
    attempt(None, alices, at(2026, 3, 4, 9, 0), channel="sms", outcome="sent")

    # Promises made this week (due later), and promises due this week made before it.
    promise(collector, alice_cny, "100", made=at(2026, 3, 4, 10, 5), due=LATER)
    promise(collector, alice_usd, "20", made=at(2026, 3, 4, 10, 6), due=LATER)
    promise(collector, alice_cny, "50", made=at(2026, 3, 3, 10, 0), due=LATER)
    promise(other_collector, bob_cny, "30", made=at(2026, 3, 4, 0, 40), due=LATER)
    promise(collector, alice_cny, "10", made=LAST_MONTH, due=WEDNESDAY, status="kept")
    promise(collector, alice_cny, "10", made=LAST_MONTH, due=MONDAY, status="broken")
    promise(collector, alice_cny, "10", made=LAST_MONTH, due=WEDNESDAY)
    promise(other_collector, bob_cny, "10", made=LAST_MONTH, due=TUESDAY, status="kept")

    # Payments on their cases' loans, and one on a debtor nobody works.
    payment(alice_cny, "40", at(2026, 3, 4, 9, 0))
    payment(alice_usd, "10", at(2026, 3, 4, 9, 30))
    payment(alice_cny, "60", at(2026, 3, 2, 9, 0))
    payment(bob_cny, "25", at(2026, 3, 3, 9, 0))
    payment(make_loan(make_debtor()), "999", at(2026, 3, 4, 9, 0))
    return {"east": east, "carol": carol}


def expected() -> dict[tuple[str, str], Figures]:
    d = Decimal
    alice_today = Figures(
        attempts=3,
        calls=2,
        right_party=1,
        promises=2,
        promised={"CNY": d("100"), "USD": d("20")},
        kept=1,
        resolved=1,
        collected={"CNY": d("40"), "USD": d("10")},
    )
    alice_week = Figures(
        attempts=4,
        calls=2,
        right_party=1,
        promises=3,
        promised={"CNY": d("150"), "USD": d("20")},
        kept=1,
        resolved=2,
        collected={"CNY": d("100"), "USD": d("10")},
    )
    bob_today = Figures(attempts=1, calls=1, right_party=1, promises=1, promised={"CNY": d("30")})
    bob_week = Figures(
        attempts=1,
        calls=1,
        right_party=1,
        promises=1,
        promised={"CNY": d("30")},
        kept=1,
        resolved=1,
        collected={"CNY": d("25")},
    )
    return {
        ("alice", "today"): alice_today,
        ("alice", "week"): alice_week,
        ("bob", "today"): bob_today,
        ("bob", "week"): bob_week,
        ("carol", "today"): Figures(),
        ("carol", "week"): Figures(),
        ("East", "today"): Figures(
            attempts=4,
            calls=3,
            right_party=2,
            promises=3,
            promised={"CNY": d("130"), "USD": d("20")},
            kept=1,
            resolved=1,
            collected={"CNY": d("40"), "USD": d("10")},
        ),
        ("East", "week"): Figures(
            attempts=5,
            calls=3,
            right_party=2,
            promises=4,
            promised={"CNY": d("180"), "USD": d("20")},
            kept=2,
            resolved=3,
            collected={"CNY": d("125"), "USD": d("10")},
        ),
    }


def _figures_of(board) -> dict[tuple[str, str], Figures]:
    return {
        (row.name, period): getattr(row, period)
        for row in board.rows
        for period in ("today", "week")
    }


def test_every_figure_matches_the_hand_count(week):
    with timezone.override(SHANGHAI), time_machine.travel(NOW, tick=False):
        board = wallboard()
    assert (board.today.start, board.week.start, board.week.end) == (WEDNESDAY, MONDAY, WEDNESDAY)
    assert _figures_of(board) == expected()
    assert [row.members for row in board.teams] == [2]


def test_kept_rate_is_of_the_promises_due_and_resolved_and_absent_when_none_were(week):
    with timezone.override(SHANGHAI), time_machine.travel(NOW, tick=False):
        found = _figures_of(wallboard())
    assert found[("alice", "week")].kept_rate == 0.5
    assert found[("East", "week")].kept_rate == pytest.approx(2 / 3)
    assert found[("bob", "today")].kept_rate is None
    assert found[("alice", "today")].right_party_rate == 0.5


def test_the_day_is_the_viewers_day(week):
    """In UTC bob's 00:30 conversation (16:30 the day before) is not today's."""
    with timezone.override(dt.UTC), time_machine.travel(NOW, tick=False):
        found = _figures_of(wallboard())
    assert found[("bob", "today")].attempts == 0
    assert found[("bob", "week")].attempts == 1


@pytest.fixture
def sup(client, supervisor):
    client.force_login(supervisor)
    session = client.session
    session["viewer_timezone"] = "Asia/Shanghai"
    session.save()
    return client


def test_the_page_shows_the_board_its_definitions_and_links_its_csv(sup, week):
    with time_machine.travel(NOW, tick=False):
        response = sup.get(reverse("wallboard"))
    assert response.status_code == 200
    assert _figures_of(response.context["board"]) == expected()
    body = response.content.decode()
    assert "Kept rate: of the promises falling due in the period" in body
    assert 'id="export-wallboard"' in body and reverse("wallboard-csv") in body
    # Amounts in their currency, never added across currencies.
    assert "CN¥180.00" in body and "$20.00" in body


def test_the_csv_is_the_board(sup, week):
    with time_machine.travel(NOW, tick=False):
        response = sup.get(reverse("wallboard-csv"))
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    east_week = next(r for r in rows if r["name"] == "East" and r["period"] == "week")
    assert east_week["from"] == "2026-03-02" and east_week["to"] == "2026-03-04"
    assert east_week["attempts"] == "5" and east_week["right-party contacts"] == "2"
    assert east_week["promised CNY"] == "180.00" and east_week["promised USD"] == "20.00"
    assert east_week["kept rate"] == "0.6667"
    assert east_week["collected CNY"] == "125.00"
    carol_today = next(r for r in rows if r["name"] == "carol" and r["period"] == "today")
    assert carol_today["kept rate"] == "" and carol_today["collected USD"] == ""
    assert len(rows) == 2 * 4  # (East, alice, bob, carol) x (today, week)


def test_a_team_narrows_the_board(sup, week):
    east = week["east"]
    with time_machine.travel(NOW, tick=False):
        response = sup.get(reverse("wallboard"), {"team": east.pk})
    board = response.context["board"]
    assert [row.name for row in board.collectors] == ["alice", "bob"]
    assert [row.name for row in board.teams] == ["East"]
    csv_rows = sup.get(reverse("wallboard-csv"), {"team": east.pk})
    assert b"carol" not in b"".join(csv_rows.streaming_content)


@pytest.mark.parametrize("team", ["999999", "east", "-1", "1.5"])
def test_an_unknown_team_is_a_form_error_and_the_board_shows_everyone(sup, week, team):
    response = sup.get(reverse("wallboard"), {"team": team})
    assert response.status_code == 200
    assert response.context["form"].errors["team"]
    assert {row.name for row in response.context["board"].collectors} == {"alice", "bob", "carol"}
    csv_response = sup.get(reverse("wallboard-csv"), {"team": team})
    assert csv_response.status_code == 400
    assert b"team" in csv_response.content


@pytest.mark.parametrize("name", ["wallboard", "wallboard-csv"])
def test_collectors_get_403(client, collector, name):
    client.force_login(collector)
    assert client.get(reverse(name)).status_code == 403


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_queries_do_not_grow_with_the_collectors_or_teams(sup, supervisor, week):
    url = reverse("wallboard")
    with time_machine.travel(NOW, tick=False):
        sup.get(url)  # sessions, content types: read once
        before = _queries(sup, url)
        for n in range(6):
            someone = make_collector(f"extra{n}")
            debtor = make_debtor()
            make_case(debtor, someone)
            attempt(someone, debtor, at(2026, 3, 4, 10, n))
            payment(make_loan(debtor, currency="EUR"), "5", at(2026, 3, 4, 11, n))
            team_save(actor=supervisor, name=f"Team {n}", leaders=[], members=[someone])
        after = _queries(sup, url)
    assert len(sup.get(url).context["board"].collectors) == 9
    assert after == before
