"""Training a score model from the database's own history (``manage.py train_score``).

Snapshots are taken at past scoring dates, every ``step_days`` back from the newest date whose
outcome is fully known (``today - HORIZON_DAYS``). Each snapshot holds every debtor with an
open loan on that date, their features as of that date and whether they paid within the
horizon. The split is by time: the model learns from the older snapshots and is validated on
the newest ``validation_snapshots``, as it will be used (trained on the past, scoring the
future). Metrics on the validation snapshot: AUC, KS, Brier score, a calibration table by
decile of predicted probability, and the population stability index of the scores against the
training snapshots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from scoring import scorecard
from scoring.features import FEATURES, HORIZON_DAYS, feature_sql
from scoring.models import ScoreModel

DEFAULT_SNAPSHOTS = 10
DEFAULT_STEP_DAYS = 14
DEFAULT_VALIDATION_SNAPSHOTS = 2
# Fewer rows than this in either part and a model would be noise: training refuses.
MIN_ROWS = 200
PSI_BINS = 10


class TrainingError(Exception):
    """Training cannot run: too little history, or outcomes of one kind only."""


@dataclass
class Snapshot:
    dates: np.ndarray  # datetime64[D] per row
    debtor_ids: np.ndarray
    bins: np.ndarray  # (rows, features) bin indexes
    values: np.ndarray  # (rows, features) raw values
    paid: np.ndarray  # 0/1 per row


def snapshot_dates(
    *, today: dt.date, snapshots: int = DEFAULT_SNAPSHOTS, step_days: int = DEFAULT_STEP_DAYS
) -> list[dt.date]:
    """The scoring dates to learn from, oldest first; the newest is ``HORIZON_DAYS`` back."""
    newest = today - dt.timedelta(days=HORIZON_DAYS)
    return [newest - dt.timedelta(days=step_days * k) for k in reversed(range(snapshots))]


def load(dates: list[dt.date], *, sample: int | None = None) -> Snapshot:
    """Every (date, debtor) row of the snapshots, binned."""
    with connection.cursor() as cursor:
        cursor.execute(feature_sql(with_outcome=True, open_now=False, sample=sample), [dates])
        rows = cursor.fetchall()
    count = len(rows)
    values = np.zeros((count, len(FEATURES)), dtype=np.int64)
    bins = np.zeros((count, len(FEATURES)), dtype=np.int64)
    days = np.empty(count, dtype="datetime64[D]")
    debtor_ids = np.zeros(count, dtype=np.int64)
    paid = np.zeros(count, dtype=np.int64)
    for index, row in enumerate(rows):
        days[index] = row[0]
        debtor_ids[index] = row[1]
        values[index] = row[2:-1]
        paid[index] = 1 if row[-1] else 0
    for column, feature in enumerate(FEATURES):
        edges = np.asarray(feature.edges, dtype=np.int64)
        bins[:, column] = np.searchsorted(edges, values[:, column], side="left")
    return Snapshot(days, debtor_ids, bins, values, paid)


def ks_statistic(paid: np.ndarray, predicted: np.ndarray) -> float:
    false_positive, true_positive, _thresholds = roc_curve(paid, predicted)
    return float(np.max(true_positive - false_positive))


def calibration_by_decile(paid: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """Per decile of predicted probability (lowest first): rows, mean predicted, observed."""
    order = np.argsort(predicted, kind="stable")
    table = []
    for decile, part in enumerate(np.array_split(order, 10), start=1):
        if part.size == 0:
            continue
        table.append(
            {
                "decile": decile,
                "rows": int(part.size),
                "predicted": round(float(predicted[part].mean()), 4),
                "observed": round(float(paid[part].mean()), 4),
            }
        )
    return table


def population_stability(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of ``actual`` scores against ``expected`` ones, in deciles of the expected."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    expected_share = np.bincount(np.searchsorted(edges, expected, side="right")) / expected.size
    actual_counts = np.bincount(
        np.searchsorted(edges, actual, side="right"), minlength=expected_share.size
    )
    actual_share = actual_counts / max(actual.size, 1)
    floor = 1e-4  # an empty bin would make the logarithm infinite
    e = np.maximum(expected_share, floor)
    a = np.maximum(actual_share, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def metrics(card: scorecard.Scorecard, train: Snapshot, validation: Snapshot) -> dict:
    scores = card.scores(validation.bins)
    predicted = scorecard.probability(scores)
    paid = validation.paid
    return {
        "auc": round(float(roc_auc_score(paid, predicted)), 4),
        "ks": round(ks_statistic(paid, predicted), 4),
        "brier": round(float(brier_score_loss(paid, predicted)), 4),
        "calibration": calibration_by_decile(paid, predicted),
        "psi": round(population_stability(card.scores(train.bins), scores), 4),
        "train_rows": int(train.paid.size),
        "validation_rows": int(paid.size),
        "train_paid_rate": round(float(train.paid.mean()), 4),
        "validation_paid_rate": round(float(paid.mean()), 4),
    }


def split(data: Snapshot, validation_dates: list[dt.date]) -> tuple[Snapshot, Snapshot]:
    newest = np.isin(data.dates, np.asarray(validation_dates, dtype="datetime64[D]"))

    def part(mask):
        return Snapshot(
            data.dates[mask],
            data.debtor_ids[mask],
            data.bins[mask],
            data.values[mask],
            data.paid[mask],
        )

    return part(~newest), part(newest)


def train(
    *,
    actor: str = "",
    today: dt.date | None = None,
    snapshots: int = DEFAULT_SNAPSHOTS,
    step_days: int = DEFAULT_STEP_DAYS,
    validation_snapshots: int = DEFAULT_VALIDATION_SNAPSHOTS,
    sample: int | None = None,
    shuffle_labels_seed: int | None = None,
) -> ScoreModel:
    """Train on the history and store a new version (not activated). ``shuffle_labels_seed``
    shuffles the training outcomes: a control whose validation AUC should be about 0.5."""
    if not 1 <= validation_snapshots < snapshots:
        raise TrainingError(_("The validation snapshots must be fewer than all snapshots."))
    today = today or timezone.localdate()
    dates = snapshot_dates(today=today, snapshots=snapshots, step_days=step_days)
    validation_dates = dates[-validation_snapshots:]
    train_part, validation_part = split(load(dates, sample=sample), validation_dates)
    for name, part in ((_("training"), train_part), (_("validation"), validation_part)):
        if part.paid.size < MIN_ROWS:
            raise TrainingError(
                _("Too little history: %(rows)s %(part)s rows, at least %(min)s needed.")
                % {"rows": part.paid.size, "part": name, "min": MIN_ROWS}
            )
        if part.paid.min() == part.paid.max():
            raise TrainingError(
                _("Every %(part)s row has the same outcome: nothing to learn or measure.")
                % {"part": name}
            )
    labels = train_part.paid
    if shuffle_labels_seed is not None:
        labels = np.random.default_rng(shuffle_labels_seed).permutation(labels)
    card = scorecard.fit(train_part.bins, labels)
    with transaction.atomic():
        # Versions are numbered in order; the lock keeps two concurrent runs apart.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('scoring.train'))")
        last = ScoreModel.objects.aggregate(v=Max("version"))["v"] or 0
        return ScoreModel.objects.create(
            version=last + 1,
            trained_by=actor,
            horizon_days=HORIZON_DAYS,
            train_from=dates[0],
            train_until=dates[-validation_snapshots - 1],
            validation_dates=[d.isoformat() for d in validation_dates],
            scorecard=card.as_json(),
            metrics=metrics(card, train_part, validation_part),
        )
