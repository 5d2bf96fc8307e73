"""Training on a seeded portfolio: the demo's history holds a real signal (days past due,
broken promises, calls answered), the model finds it, and a model trained on shuffled
outcomes finds nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection

from cases.models import Case
from demo.seeding import seed_portfolio
from demo.seeding.copy import TABLE_ORDER
from scoring import scorecard
from scoring.models import ScoreModel
from scoring.training import snapshot_dates, train

TODAY = dt.date(2026, 6, 30)
# Features through which the seeding's generating process makes payment depend on the
# history: the stage a loan is in (days past due, what is left to pay, its last payment),
# its plans, the number of loans (each pays on its own schedule), calls answered and promises
# broken (demo.seeding.generator, CALL_*).
GENERATOR_FEATURES = {
    "days_past_due",
    "balance_share",
    "days_since_payment",
    "plan_state",
    "open_loans",
    "contact_result",
    "broken_promises",
}


@pytest.fixture(scope="module")
def portfolio(django_db_setup, django_db_blocker):
    """2,000 seeded debtors, shared by the module's tests and removed after them."""
    with django_db_blocker.unblock():
        seed_portfolio(seed=11, debtors=2000, today=TODAY, method="orm")
        yield
        # TRUNCATE is not an UPDATE or DELETE: the append-only triggers let the test clear
        # what it seeded (the application's role has no TRUNCATE privilege).
        tables = ", ".join(_seeded_tables())
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")  # noqa: S608 - names from the models


def _seeded_tables() -> list[str]:
    """What the seeding writes (the COPY writer's tables and the cases), the score models,
    and their history tables."""
    models = [*TABLE_ORDER, Case, ScoreModel]
    tables = [m._meta.db_table for m in models]
    tables += [m.history.model._meta.db_table for m in models if hasattr(m, "history")]
    return tables


pytestmark = pytest.mark.django_db


def test_the_model_finds_the_generators_signal(portfolio):
    model = train(actor="tests", today=TODAY)
    m = model.metrics
    assert m["auc"] >= 0.70, m
    assert 0 < m["ks"] < 1
    assert 0 < m["brier"] < 0.25
    assert len(m["calibration"]) == 10
    assert m["psi"] < 0.25
    card = scorecard.Scorecard.from_json(model.scorecard)
    weights = sorted(((card.weight(n), n) for n in card.points), reverse=True)
    top = {name for _weight, name in weights[:3]}
    assert top <= GENERATOR_FEATURES, weights
    # The behaviour the generator put in calls and promises carries weight; reminders, which
    # the seeding never sends, carry next to none.
    assert card.weight("contact_result") >= 10, weights
    assert card.weight("reminders") <= 5, weights
    # No broken promise is the best bin; a reached debtor beats one never reached.
    assert card.points["broken_promises"][0] == 0, card.points
    contact = card.points["contact_result"]
    assert contact[3] > contact[1], card.points
    # Days past due: the further behind, the fewer points.
    points = card.points["days_past_due"]
    assert points[0] == 0 and points[-1] == min(points)


def test_a_model_trained_on_shuffled_outcomes_scores_about_chance(portfolio):
    aucs = [
        train(actor="tests", today=TODAY, shuffle_labels_seed=seed).metrics["auc"]
        for seed in range(4)
    ]
    assert abs(float(np.mean(aucs)) - 0.5) < 0.07, aucs
    assert max(aucs) < 0.65, aucs


def test_the_split_is_by_time_and_versions_count_up(portfolio):
    first = train(actor="tests", today=TODAY, snapshots=6, validation_snapshots=1)
    second = train(actor="tests", today=TODAY, snapshots=6, validation_snapshots=2)
    dates = snapshot_dates(today=TODAY, snapshots=6)
    assert dates[-1] == TODAY - dt.timedelta(days=30)  # every outcome is known
    assert first.validation_dates == [dates[-1].isoformat()]
    assert first.train_until == dates[-2] < dates[-1]
    assert second.validation_dates == [d.isoformat() for d in dates[-2:]]
    assert second.version == first.version + 1
    assert first.status == second.status == ScoreModel.Status.TRAINED
