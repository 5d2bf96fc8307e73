"""Reading the scores: a case's score as the pages and the API show it."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from scoring.features import BY_NAME
from scoring.models import CaseScore


def reason_label(reason: dict) -> str:
    """One reason code in the active language: "Days past due 31–60: −25 points"."""
    feature = BY_NAME.get(str(reason.get("feature", "")))
    if feature is None:
        return ""
    index = int(reason.get("bin", 0))
    bin_label = feature.bins[index] if 0 <= index < len(feature.bins) else "?"
    points = int(reason.get("points", 0))
    return _("%(feature)s %(bin)s: %(points)s points") % {
        "feature": feature.label,
        "bin": bin_label,
        "points": f"−{abs(points)}" if points < 0 else str(points),
    }


def percent(probability: Decimal) -> int:
    """A probability as whole percent, half up."""
    return int((Decimal(probability) * 100).quantize(Decimal("1"), rounding="ROUND_HALF_UP"))


def score_of_case(case) -> dict | None:
    """The case's current score (points, band, percent, reason labels), or None."""
    score = CaseScore.objects.filter(case=case).select_related("model").first()
    if score is None:
        return None
    return {
        "points": score.points,
        "band": score.band,
        "percent": percent(score.probability),
        "version": score.model.version,
        "scored_on": score.scored_on,
        "reasons": [reason_label(r) for r in score.reasons],
    }
