"""Dashboards: charts over a period, per collector and strategy, each as CSV too."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import DispositionCode
from cases.services import call_outcome_log, call_place, promise_record
from cases.teams import team_save
from debtors.services import payment_post, promises_resolve
from tests.factories import make_case, make_debtor, make_loan, make_reminder

from .activity import attempt, make_collector, payment, promise
from .conftest import DAYTIME


def _activity(collector, work, phone, loan):
    with time_machine.travel(DAYTIME, tick=False):
        attempt = call_place(actor=collector, debtor=work.debtor, contact_point=phone)
        call_outcome_log(
            actor=collector,
            debtor=work.debtor,
            code=DispositionCode.objects.get(code="promise"),
            attempt=attempt,
        )
        promise_record(
            actor=collector, loan=loan, amount=Decimal("50"), promised_date=dt.date(2026, 3, 2)
        )
        payment_post(
            actor=collector,
            loan=loan,
            amount=Decimal("50"),
            received_at=DAYTIME,
            method="bank_transfer",
            external_ref="P-1",
        )
        promises_resolve()


def test_dashboards_render_every_chart(client, supervisor, collector, work, phone, loan):
    _activity(collector, work, phone, loan)
    client.force_login(supervisor)
    with time_machine.travel(DAYTIME + dt.timedelta(days=1), tick=False):
        response = client.get(reverse("dashboards"))
    assert response.status_code == 200
    charts = {c.key: c for c in response.context["charts"]}
    assert set(charts) == {"recovery", "right-party", "promises", "roll-rates", "reminders"}
    assert "1 of 1 calls reached the debtor" in str(charts["right-party"].summary)
    assert "100.0%" in str(charts["promises"].summary)
    assert 'id="chart-data"' in response.content.decode()


def test_chart_csv_matches_the_chart(client, supervisor, collector, work, phone, loan):
    _activity(collector, work, phone, loan)
    client.force_login(supervisor)
    response = client.get(
        reverse("dashboard-csv", args=["recovery"]),
        {"date_from": "2026-03-01", "date_to": "2026-03-03", "collector": collector.pk},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["day", "currency", "collected"]
    assert rows[1][1:] == ["CNY", "50.0000"]


def test_unknown_chart_is_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("dashboard-csv", args=["nope"])).status_code == 404


def test_roll_rates_csv(client, supervisor, work, loan):
    client.force_login(supervisor)
    response = client.get(reverse("dashboard-csv", args=["roll-rates"]))
    assert response.status_code == 200
    assert response.content.decode().startswith("from bucket,to bucket,loans,share")


# --- The tiles, the panels per currency, the period in the inputs, the team ----------------


@pytest.fixture
def period_work(collector, other_collector):
    """From 1 to 3 March 2026 (UTC, the default viewer's zone): alice's two calls with an
    outcome (one reached the debtor), an SMS, a promise made, one kept and one broken due,
    payments in two currencies; bob's call that reached the debtor and a payment. Outside the
    period: a call and a payment."""
    alices, bobs = make_debtor(), make_debtor()
    make_case(alices, collector)
    make_case(bobs, other_collector)
    cny, usd, bob_usd = (
        make_loan(alices),
        make_loan(alices, currency="USD"),
        make_loan(bobs, currency="USD"),
    )
    attempt(collector, alices, utc(2026, 3, 1, 9), code="promise")
    attempt(collector, alices, utc(2026, 3, 2, 9), outcome="busy", code="busy")
    attempt(collector, alices, utc(2026, 3, 2, 10), channel="sms", outcome="sent")
    attempt(collector, alices, utc(2026, 2, 28, 9), code="promise")
    attempt(other_collector, bobs, utc(2026, 3, 3, 9), code="refused")
    promise(collector, cny, "100", made=utc(2026, 3, 2, 9), due=dt.date(2026, 3, 20))
    promise(collector, cny, "10", made=utc(2026, 2, 1), due=dt.date(2026, 3, 1), status="kept")
    promise(collector, cny, "10", made=utc(2026, 2, 1), due=dt.date(2026, 3, 3), status="broken")
    payment(cny, "40", utc(2026, 3, 1, 12))
    payment(usd, "10", utc(2026, 3, 3, 12))
    payment(bob_usd, "7", utc(2026, 3, 3, 13))
    payment(cny, "5", utc(2026, 3, 4, 1))
    return {"alices": alices}


PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-03"}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def sup(client, supervisor):
    client.force_login(supervisor)
    return client


def test_the_tiles_count_the_period_and_scope(sup, period_work, collector, supervisor):
    everyone = sup.get(reverse("dashboards"), PERIOD).context["kpis"]
    assert (everyone.attempts, everyone.calls, everyone.right_party) == (4, 3, 2)
    assert everyone.right_party_rate == pytest.approx(2 / 3)
    assert (everyone.promises, everyone.promised) == (1, {"CNY": Decimal("100")})
    assert (everyone.kept, everyone.resolved, everyone.kept_rate) == (1, 2, 0.5)
    assert everyone.collected == {"CNY": Decimal("40"), "USD": Decimal("17")}

    alice = sup.get(reverse("dashboards"), {**PERIOD, "collector": collector.pk})
    tiles = alice.context["kpis"]
    assert (tiles.attempts, tiles.calls, tiles.right_party) == (3, 2, 1)
    assert tiles.collected == {"CNY": Decimal("40"), "USD": Decimal("10")}
    body = alice.content.decode()
    assert 'id="kpi-collected"' in body and "CN¥40.00" in body and "$10.00" in body
    assert "Collected: payments received on the cases assigned to the collector." in body


def test_the_tiles_agree_with_the_charts(sup, period_work):
    response = sup.get(reverse("dashboards"), PERIOD)
    charts = {c.key: c for c in response.context["charts"]}
    assert "2 of 3 calls reached the debtor" in str(charts["right-party"].summary)
    assert "50.0%" in str(charts["promises"].summary)


def test_money_is_drawn_one_small_chart_per_currency(sup, period_work):
    response = sup.get(reverse("dashboards"), PERIOD)
    recovery = response.context["chart_data"]["recovery"]
    assert [panel["title"] for panel in recovery["panels"]] == ["CNY", "USD"]
    cny, usd = (panel["datasets"] for panel in recovery["panels"])
    assert [len(datasets) for datasets in (cny, usd)] == [1, 1]
    assert cny[0]["data"] == [40.0, 0, 0] and usd[0]["data"] == [0, 0, 17.0]
    assert recovery["stacked"] is False
    body = response.content.decode()
    assert 'id="chart-recovery-0"' in body and 'id="chart-recovery-1"' in body


def test_counts_are_drawn_on_whole_steps_and_rates_as_percentages(sup, period_work):
    data = sup.get(reverse("dashboards"), PERIOD).context["chart_data"]
    assert data["promises"]["whole"] and data["reminders"]["whole"]
    assert not data["recovery"]["whole"] and not data["right-party"]["whole"]
    assert data["right-party"]["percent"] and data["roll-rates"]["percent"]
    charts_js = (settings.BASE_DIR / "static" / "js" / "charts.js").read_text()
    assert "spec.whole" in charts_js and "precision: 0" in charts_js


def _inputs(response) -> tuple[str, str]:
    form = response.context["form"]
    return form["date_from"].value(), form["date_to"].value()


def test_the_date_inputs_show_the_period_in_use(sup, collector):
    with time_machine.travel(utc(2026, 3, 31, 12), tick=False):
        empty = sup.get(reverse("dashboards"))
        assert _inputs(empty) == ("2026-03-02", "2026-03-31")
        assert 'name="date_from" value="2026-03-02"' in empty.content.decode()
        only_collector = sup.get(reverse("dashboards"), {"collector": collector.pk})
        assert _inputs(only_collector) == ("2026-03-02", "2026-03-31")
        only_end = sup.get(reverse("dashboards"), {"date_to": "2026-02-10"})
        assert _inputs(only_end) == ("2026-01-12", "2026-02-10")
        reversed_ = sup.get(
            reverse("dashboards"), {"date_from": "2026-03-05", "date_to": "2026-03-01"}
        )
        assert _inputs(reversed_) == ("2026-03-01", "2026-03-05")


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "garbage"},
        {"date_to": "2026-02-30"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "2001-01-01"},  # twenty-five years of daily points
        {"team": "999999"},
        {"team": "x"},
        {"collector": "-3"},
        {"strategy": "nope"},
    ],
)
def test_bad_parameters_are_shown_as_errors_and_left_out(sup, period_work, query):
    with time_machine.travel(utc(2026, 3, 31, 12), tick=False):
        response = sup.get(reverse("dashboards"), query)
        assert response.status_code == 200
        form = response.context["form"]
        assert set(form.errors) == set(query)
        scope = response.context["scope"]
        assert scope.collector_ids is None and scope.strategy_id is None
        assert (scope.start, scope.end) == (dt.date(2026, 3, 2), dt.date(2026, 3, 31))
        assert _inputs(response) == ("2026-03-02", "2026-03-31")
        csv_response = sup.get(reverse("dashboard-csv", args=["promises"]), query)
        assert csv_response.status_code == 200


def test_a_team_narrows_the_dashboards(sup, supervisor, period_work, collector, other_collector):
    east = team_save(actor=supervisor, name="East", leaders=[supervisor], members=[collector])
    response = sup.get(reverse("dashboards"), {**PERIOD, "team": east.pk})
    assert response.context["scope"].collector_ids == (collector.pk,)
    assert response.context["kpis"].collected == {"CNY": Decimal("40"), "USD": Decimal("10")}
    outsider = sup.get(
        reverse("dashboards"), {**PERIOD, "team": east.pk, "collector": other_collector.pk}
    )
    assert outsider.context["form"].errors["collector"]
    assert outsider.context["scope"].collector_ids == (collector.pk,)
    rows = list(
        csv.reader(
            io.StringIO(
                sup.get(
                    reverse("dashboard-csv", args=["recovery"]), {**PERIOD, "team": east.pk}
                ).content.decode()
            )
        )
    )
    assert rows[1:] == [["2026-03-01", "CNY", "40.0000"], ["2026-03-03", "USD", "10.0000"]]


def test_the_exports_are_linked_next_to_what_they_export(sup, period_work):
    body = sup.get(reverse("dashboards"), PERIOD).content.decode()
    assert 'id="export-payments"' in body
    assert f"{reverse('export-payments')}?since=2026-03-01&amp;until=2026-03-03&amp;tz=UTC" in body
    for key in ("recovery", "right-party", "promises", "roll-rates", "reminders"):
        assert f"{reverse('dashboard-csv', args=[key])}?date_from=2026-03-01" in body


def test_the_dashboards_run_the_same_queries_however_many_collectors(sup, period_work):
    url = f"{reverse('dashboards')}?date_from=2026-03-01&date_to=2026-03-03"
    sup.get(url)
    with CaptureQueriesContext(connection) as before:
        sup.get(url)
    for n in range(5):
        someone = make_collector(f"extra{n}")
        debtor = make_debtor()
        make_case(debtor, someone)
        attempt(someone, debtor, utc(2026, 3, 2, 10, n), code="promise")
        payment(make_loan(debtor, currency="EUR"), "3", utc(2026, 3, 2, 11, n))
    with CaptureQueriesContext(connection) as after:
        response = sup.get(url)
    assert response.context["kpis"].attempts == 9
    assert len(after) == len(before)


# --- Formula injection: names staff typed are neutralised, counts are not ------------------

DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("start", DANGEROUS, ids=repr)
def test_chart_csv_neutralises_formulas_in_names(sup, loan, start):
    reminder = make_reminder(loan, loan.installments.first(), scheduled_for=dt.date(2026, 3, 2))
    reminder.stage.strategy.name = f'{start}HYPERLINK("http://evil","x")'
    reminder.stage.strategy.save()
    reminder.stage.name = f"{start}cmd|' /C calc'!A0"
    reminder.stage.save()
    response = sup.get(reverse("dashboard-csv", args=["reminders"]), PERIOD)
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert rows[0] == ["strategy", "stage", "channel", "status", "reminders"]
    assert rows[1] == [
        f'\'{start}HYPERLINK("http://evil","x")',
        f"'{start}cmd|' /C calc'!A0",
        "sms",
        "planned",
        "1",
    ]
