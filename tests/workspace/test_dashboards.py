"""Dashboards: charts over a period, per collector and strategy, each as CSV too."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import time_machine
from django.urls import reverse

from cases.models import DispositionCode
from cases.services import call_outcome_log, call_place, promise_record
from debtors.services import payment_post, promises_resolve

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
