"""The score models page and an experiment's page as the browser draws them: the versions'
charts, and cumulative recovery per arm with its interval shaded as a band. The screenshots
(test-artifacts/screenshots/) are the README's pictures."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from demo.management.commands.demo import demo_experiment
from demo.seeding import seed_portfolio

from .test_journeys import log_in, people  # noqa: F401 - the fixture is used by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _drawn(page, canvas_id: str) -> dict:
    page.wait_for_function("(id) => Chart.getChart(document.getElementById(id))", arg=canvas_id)
    return page.evaluate(
        "(id) => { const c = Chart.getChart(document.getElementById(id));"
        " return {labels: c.data.labels.length,"
        " fills: c.data.datasets.map(d => d.fill || false),"
        " sizes: c.data.datasets.map(d => d.data.length)}; }",
        canvas_id,
    )


def test_the_model_page_and_an_experiment_draw_their_charts(browser_page, people, shots):  # noqa: F811
    page = browser_page
    seed_portfolio(seed=3, debtors=400, method="orm")
    call_command("train_score", activate=True)
    call_command("train_score")
    experiment = demo_experiment()

    log_in(page, "ada", "en")
    page.goto("/manage/scores/")
    metrics = _drawn(page, "chart-metrics-0")
    assert metrics["labels"] == 2  # the two versions side by side
    calibration = _drawn(page, "chart-calibration-v1-0")
    assert calibration["labels"] == 10  # deciles
    assert page.locator("#scorecard tbody tr").count() == 10
    shots(page, "score-models")

    page.goto(f"/experiments/{experiment.pk}/")
    recovery = _drawn(page, "chart-recovery-0")
    assert recovery["labels"] >= 45  # a point a day since the start
    # Per arm: the line, the band's lower edge and its upper edge filled down to it.
    assert recovery["fills"] == [False, False, "-1"] * 3
    assert page.locator("#arm-metrics tbody tr").count() == 3
    assert page.locator("#comparisons tbody tr").count() == 12
    shots(page, "experiment")
