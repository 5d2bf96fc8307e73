"""The supervisor's charts as the browser draws them: one small chart per currency, and axes
of counts that step by whole numbers even when the counts are small."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import make_case, make_debtor, make_loan
from tests.workspace.activity import payment, promise

from .test_journeys import log_in, people  # noqa: F401 - the fixture is used by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _ticks(page, canvas_id: str) -> list[float]:
    return page.evaluate(
        "(id) => Chart.getChart(document.getElementById(id)).scales.y.ticks.map(t => t.value)",
        canvas_id,
    )


def test_money_per_currency_and_whole_steps_for_counts(browser_page, people):  # noqa: F811
    page = browser_page
    debtor = make_debtor()
    make_case(debtor, people["alice"])
    cny, usd = make_loan(debtor), make_loan(debtor, currency="USD")
    yesterday = timezone.now() - dt.timedelta(days=1)
    # One promise kept: the kept-promises axis runs from 0 to 1, where a drawing library
    # left alone steps by 0.1.
    promise(people["alice"], cny, "10", made=yesterday, due=yesterday.date(), status="kept")
    payment(cny, "40", yesterday)
    payment(usd, "7", yesterday)

    log_in(page, "sam", "en")
    page.goto("/dashboards/")
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-promises-0'))")
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('#chart-recovery canvas')]"
        ".map(c => [c.closest('figure').querySelector('figcaption').textContent,"
        " Chart.getChart(c).data.datasets.length])"
    )
    assert drawn == [["CNY", 1], ["USD", 1]]
    promise_ticks = _ticks(page, "chart-promises-0")
    assert promise_ticks and all(value == int(value) for value in promise_ticks)
    assert max(promise_ticks) >= 1
