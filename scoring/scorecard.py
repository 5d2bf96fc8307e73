"""A logistic regression on binned features, read as a points scorecard.

Each feature's bins are one-hot columns of a logistic regression (scikit-learn). Its
coefficients become points on the usual scale: ``POINTS_TO_DOUBLE_ODDS`` points double the odds
of paying, and a score of ``ANCHOR_SCORE`` means even odds. Within a feature the best bin gets
0 points and every other bin the (negative) points it costs against the best one, so a
scorecard reads "days past due 31–60: −25 points", and a debtor's reason codes are the features
that cost them the most. The base points carry the intercept and every feature's best bin:

    score = base + sum of the debtor's bins' points = ANCHOR_SCORE + factor * log-odds

and the probability is the logistic of ``(score - ANCHOR_SCORE) / factor``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from scoring.features import FEATURES, Feature

ANCHOR_SCORE = 600
POINTS_TO_DOUBLE_ODDS = 20
FACTOR = POINTS_TO_DOUBLE_ODDS / math.log(2)
# Bands by the probability of a payment within the horizon: (band, lowest probability).
BANDS = (("A", 0.8), ("B", 0.6), ("C", 0.4), ("D", 0.2), ("E", 0.0))
REASONS_PER_SCORE = 3


def one_hot(bins: np.ndarray, features: tuple[Feature, ...] = FEATURES) -> np.ndarray:
    """Rows of bin indexes (one column per feature) as one-hot columns, feature by feature."""
    widths = [len(feature.bins) for feature in features]
    out = np.zeros((bins.shape[0], sum(widths)), dtype=np.float64)
    offset = 0
    for column, width in enumerate(widths):
        out[np.arange(bins.shape[0]), offset + bins[:, column]] = 1.0
        offset += width
    return out


@dataclass
class Scorecard:
    base: int
    # Per feature, per bin: the points (0 for the best bin, negative for the others).
    points: dict[str, list[int]]

    def as_json(self) -> dict:
        return {"base": self.base, "points": self.points}

    @classmethod
    def from_json(cls, data: dict) -> Scorecard:
        return cls(base=int(data["base"]), points={k: list(v) for k, v in data["points"].items()})

    def scores(self, bins: np.ndarray) -> np.ndarray:
        total = np.full(bins.shape[0], self.base, dtype=np.int64)
        for column, feature in enumerate(FEATURES):
            total += np.asarray(self.points[feature.name], dtype=np.int64)[bins[:, column]]
        return total

    def weight(self, name: str) -> int:
        """How much a feature can move a score: its worst bin's cost against its best."""
        return -min(self.points[name])


def fit(bins: np.ndarray, paid: np.ndarray, *, c: float = 1.0) -> Scorecard:
    """Fit the regression on rows of bin indexes and outcomes (0/1); the scorecard."""
    columns = one_hot(bins)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(columns, paid.astype(np.int64))
    coefficients = _unseen_bins_as_nearest(model.coef_[0].copy(), columns.sum(axis=0))
    intercept = float(model.intercept_[0])
    points: dict[str, list[int]] = {}
    best_total = 0.0
    offset = 0
    for feature in FEATURES:
        width = len(feature.bins)
        own = coefficients[offset : offset + width]
        offset += width
        best = float(own.max())
        best_total += best
        points[feature.name] = [round(FACTOR * (float(value) - best)) for value in own]
    base = round(ANCHOR_SCORE + FACTOR * (intercept + best_total))
    return Scorecard(base=base, points=points)


def _unseen_bins_as_nearest(coefficients: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A bin no training row fell in has no evidence for or against it: it gets the
    coefficient of the nearest bin of its feature that has rows (the lower one on a tie),
    never the regularisation's default, which could make it the feature's best bin."""
    offset = 0
    for feature in FEATURES:
        width = len(feature.bins)
        seen = [i for i in range(width) if counts[offset + i] > 0]
        if seen:
            for i in range(width):
                if counts[offset + i] == 0:
                    nearest = min(seen, key=lambda j, i=i: (abs(j - i), j))
                    coefficients[offset + i] = coefficients[offset + nearest]
        offset += width
    return coefficients


def probability(scores: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(np.asarray(scores, dtype=np.float64) - ANCHOR_SCORE) / FACTOR))


def band_of(p: float) -> str:
    for band, lowest in BANDS:
        if p >= lowest:
            return band
    return BANDS[-1][0]


def score_at_probability(p: float) -> float:
    """The score whose probability is ``p`` (for the bands' cut-offs in SQL)."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return ANCHOR_SCORE + FACTOR * math.log(p / (1 - p))


def reasons(card: Scorecard, row: np.ndarray) -> list[dict]:
    """The features that cost this row the most points against their best bin (at most
    ``REASONS_PER_SCORE``, only those that cost anything)."""
    costs = []
    for column, feature in enumerate(FEATURES):
        points = card.points[feature.name][int(row[column])]
        if points < 0:
            costs.append((points, column, feature, int(row[column])))
    costs.sort(key=lambda item: (item[0], item[1]))
    return [
        {"feature": feature.name, "bin": index, "points": points}
        for points, _column, feature, index in costs[:REASONS_PER_SCORE]
    ]
