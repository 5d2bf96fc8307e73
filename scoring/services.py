"""Scoring every open case with the active model, activating a model, and the band rules.

``score_cases`` is set-based whatever the portfolio's size (target: 1,000,000 loans in under
60 s, ``make bench``): one ``INSERT ... SELECT ... ON CONFLICT`` computes every open case's
features as of today (``scoring.features``), its points, probability, band and reason codes;
then ``scoring.levers`` hands the bands' rules (and the experiments' arms) to the work: the
case's band and queue weight (``Case.score_band``, ``Case.score_weight``) and the reminder band
of its open loans (``Loan.scored_band``), which replace the imported risk label. Without an
active model it clears them, so the imported label rules again.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case
from debtors.audit import acting_as
from debtors.models import Loan
from scoring import scorecard
from scoring.experiments import work_levers_apply
from scoring.features import FEATURES, feature_sql
from scoring.models import BandRule, CaseScore, ScoreModel


def _scored_sql(card: scorecard.Scorecard) -> str:
    """The points, probability, band and reasons of every debtor with an open loan today
    (columns: debtor_id, points, probability, band, reasons); one parameter, [today]."""
    bins = ",\n        ".join(
        f"{feature.bin_sql('f.' + feature.name)} AS {feature.name}" for feature in FEATURES
    )

    def points(feature) -> str:
        values = ", ".join(str(int(p)) for p in card.points[feature.name])
        return f"(ARRAY[{values}])[b.{feature.name} + 1]"

    total = " + ".join([str(int(card.base)), *(points(feature) for feature in FEATURES)])
    costs = ", ".join(
        f"('{feature.name}', {order}, b.{feature.name}, {points(feature)})"
        for order, feature in enumerate(FEATURES)
    )
    bands = " ".join(
        f"WHEN p.probability >= {lowest!r} THEN '{band}'" for band, lowest in scorecard.BANDS[:-1]
    )
    factor = repr(scorecard.FACTOR)
    return f"""
WITH f AS ({feature_sql(with_outcome=False, open_now=True)}),
b AS (
    SELECT f.debtor_id,
        {bins}
    FROM f
),
s AS (
    SELECT b.debtor_id, {total} AS points,
        (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                    'feature', r.feature, 'bin', r.bin, 'points', r.points)
                ORDER BY r.points, r.position), '[]'::jsonb)
         FROM (SELECT * FROM (VALUES {costs}) AS c(feature, position, bin, points)
               WHERE c.points < 0 ORDER BY c.points, c.position
               LIMIT {scorecard.REASONS_PER_SCORE}) r) AS reasons
    FROM b
),
p AS (
    SELECT s.*,
        round((1 / (1 + exp(-(s.points - {scorecard.ANCHOR_SCORE}) / {factor})))::numeric, 5)
            AS probability
    FROM s
)
SELECT p.debtor_id, p.points, p.probability,
    CASE {bands} ELSE '{scorecard.BANDS[-1][0]}' END AS band, p.reasons
FROM p
"""  # noqa: S608 - names from the models, numbers from the scorecard


@transaction.atomic
def score_cases(*, today: dt.date | None = None) -> dict[str, int]:
    """Score every open case with the active model and pull the levers (``scoring.levers``);
    returns counts (``scored``, ``cleared``, ``weights``, ``loans``, ``closed``)."""
    today = today or timezone.localdate()
    model = ScoreModel.active()
    score, case = CaseScore._meta.db_table, Case._meta.db_table
    closed_case = Case.Status.CLOSED
    counts = {"scored": 0, "cleared": 0}
    with connection.cursor() as cursor:
        if model is not None:
            card = scorecard.Scorecard.from_json(model.scorecard)
            cursor.execute(
                f"INSERT INTO {score} (case_id, model_id, points, probability, band, reasons, "  # noqa: S608 - names from the models
                f"scored_on) SELECT c.id, %s, s.points, s.probability, s.band, s.reasons, %s "
                f"FROM ({_scored_sql(card)}) s JOIN {case} c ON c.debtor_id = s.debtor_id "
                f"WHERE c.status <> '{closed_case}' "
                "ON CONFLICT (case_id) DO UPDATE SET model_id = EXCLUDED.model_id, "
                "points = EXCLUDED.points, probability = EXCLUDED.probability, "
                "band = EXCLUDED.band, reasons = EXCLUDED.reasons, scored_on = EXCLUDED.scored_on",
                [model.pk, today, [today]],
            )
            counts["scored"] = cursor.rowcount
            cursor.execute(
                f"DELETE FROM {score} WHERE model_id <> %s OR scored_on <> %s",  # noqa: S608
                [model.pk, today],
            )
        else:
            cursor.execute(f"DELETE FROM {score}")  # noqa: S608
        counts["cleared"] = cursor.rowcount
    counts.update(work_levers_apply())
    return counts


@transaction.atomic
def score_model_activate(*, model: ScoreModel, actor) -> ScoreModel:
    """Make ``model`` the active one (the previous one retires); recorded with ``actor`` in
    the models' history. Every open case is scored again at once."""
    model = ScoreModel.objects.select_for_update().get(pk=model.pk)
    if model.status == ScoreModel.Status.ACTIVE:
        raise ValidationError(_("Score model v%(v)s is already active.") % {"v": model.version})
    with acting_as(actor):
        for previous in ScoreModel.objects.select_for_update().filter(
            status=ScoreModel.Status.ACTIVE
        ):
            previous.status = ScoreModel.Status.RETIRED
            previous.save(update_fields=["status"])
        model.status = ScoreModel.Status.ACTIVE
        model.activated_at = timezone.now()
        model.save(update_fields=["status", "activated_at"])
    score_cases()
    return model


def band_rule_save(*, band: str, reminder_band: str, priority_weight: int, actor) -> BandRule:
    if band not in {b for b, _lowest in scorecard.BANDS}:
        raise ValidationError({"band": _("Unknown band %(band)s.") % {"band": band}})
    if reminder_band not in Loan.RiskBand.values:
        raise ValidationError({"reminder_band": _("Unknown risk band.")})
    if not isinstance(priority_weight, int) or abs(priority_weight) > 100000:
        raise ValidationError(
            {"priority_weight": _("A weight is a whole number from -100000 to 100000.")}
        )
    with acting_as(actor):
        rule, _created = BandRule.objects.update_or_create(
            band=band,
            defaults={"reminder_band": reminder_band, "priority_weight": priority_weight},
        )
    return rule
