"""The scorecard: a logistic regression's coefficients read as points, with reason codes."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from scoring import scorecard
from scoring.features import FEATURES


def _synthetic(rows: int = 4000, seed: int = 5):
    """Bins drawn at random; paying depends on the first feature only (its bin 0 is best)."""
    rng = np.random.default_rng(seed)
    bins = np.column_stack([rng.integers(0, len(f.bins), rows) for f in FEATURES])
    logit = 1.5 - 0.8 * bins[:, 0]
    paid = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return bins, paid


def test_points_give_the_regressions_probabilities():
    bins, paid = _synthetic()
    card = scorecard.fit(bins, paid)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(scorecard.one_hot(bins), paid)
    exact = model.predict_proba(scorecard.one_hot(bins))[:, 1]
    from_points = scorecard.probability(card.scores(bins))
    # Points are whole numbers: each is 1/28.85 of a log-odds, so the two stay close.
    assert np.max(np.abs(from_points - exact)) < 0.03


def test_the_feature_that_matters_carries_the_weight_and_its_best_bin_is_zero():
    bins, paid = _synthetic()
    card = scorecard.fit(bins, paid)
    first = FEATURES[0].name
    assert card.points[first][0] == 0
    assert card.points[first] == sorted(card.points[first], reverse=True)
    others = [card.weight(f.name) for f in FEATURES[1:]]
    assert card.weight(first) > 5 * max(others)
    assert all(max(card.points[f.name]) == 0 for f in FEATURES)


def test_a_bin_without_rows_gets_its_nearest_neighbours_points():
    bins, paid = _synthetic()
    last = len(FEATURES) - 1
    bins[:, last] = 0  # the last feature only ever falls in its first bin
    card = scorecard.fit(bins, paid)
    assert card.weight(FEATURES[last].name) == 0


def test_bands_and_reasons():
    assert scorecard.band_of(0.95) == "A"
    assert scorecard.band_of(0.8) == "A"
    assert scorecard.band_of(0.79) == "B"
    assert scorecard.band_of(0.05) == "E"
    points = {f.name: [0] * len(f.bins) for f in FEATURES}
    points["days_past_due"] = [0, -10, -20, -30, -40, -50]
    points["open_loans"] = [-30, -5, 0]
    points["reminders"] = [0, -50, -50]
    card = scorecard.Scorecard(base=600, points=points)
    row = np.zeros(len(FEATURES), dtype=np.int64)
    names = [f.name for f in FEATURES]
    row[names.index("days_past_due")] = 3
    row[names.index("open_loans")] = 0
    row[names.index("reminders")] = 0
    assert scorecard.reasons(card, row) == [
        {"feature": "days_past_due", "bin": 3, "points": -30},
        {"feature": "open_loans", "bin": 0, "points": -30},
    ]
    assert int(card.scores(row[np.newaxis, :])[0]) == 540
    assert abs(scorecard.score_at_probability(0.5) - scorecard.ANCHOR_SCORE) < 1e-9
