"""The levers the scores and the experiments pull: a case's queue weight and the reminder band
of its open loans, recomputed for every case in two set-based UPDATEs.

* The score: the case's band (``CaseScore``) and that band's rule (``BandRule``): a reminder
  band and a queue weight.
* An experiment: a case in a running experiment follows its arm, which wins over the band's
  rule: the arm's strategy's risk band (none, '', for a hold-out: no strategy claims it, so
  the planner plans nothing) and the arm's queue weight on top of the band's.

Neither, and the loan's band is NULL: the planner follows the imported ``risk_band``.
"""

from __future__ import annotations

from django.db import connection

from cases.models import Case
from debtors.models import Loan
from reminders.models import ReminderStrategy
from scoring.models import Arm, ArmAssignment, BandRule, CaseScore, Experiment


def strategy_band(strategy: ReminderStrategy) -> str | None:
    """The risk band whose loans follow ``strategy`` (its first claimed band)."""
    bands = list(strategy.risk_bands or [])
    return bands[0] if bands else None


def _arm_bands_sql() -> tuple[str, list]:
    """(case_id, band, weight) of every case in a running experiment's arm."""
    arms = list(
        Arm.objects.filter(experiment__status=Experiment.Status.RUNNING).select_related("strategy")
    )
    if not arms:
        return "SELECT NULL::bigint AS case_id, NULL::text AS band, 0 AS weight WHERE false", []
    values = ", ".join(["(%s, %s::text, %s)"] * len(arms))
    params = []
    for arm in arms:
        band = "" if arm.kind == Arm.Kind.HOLDOUT else strategy_band(arm.strategy)
        params += [arm.pk, band, arm.queue_weight]
    assignment = ArmAssignment._meta.db_table
    return (
        f"SELECT a.case_id, v.band, v.weight FROM {assignment} a "  # noqa: S608 - names from the models
        f"JOIN (VALUES {values}) AS v(arm_id, band, weight) ON v.arm_id = a.arm_id",
        params,
    )


def levers_apply() -> dict[str, int]:
    """Write every case's band and weight and every loan's reminder band where they changed;
    returns how many cases and loans changed."""
    score, case, loan = CaseScore._meta.db_table, Case._meta.db_table, Loan._meta.db_table
    rule = BandRule._meta.db_table
    closed_loans = ", ".join(f"'{status}'" for status in Loan.CLOSED_STATUSES)
    arms, params = _arm_bands_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            # The priority holds the weight as a term of its sum (cases.priorities): it moves by
            # the weight's change, so no refresh of every case's queue facts is needed.
            f"UPDATE {case} c SET score_band = w.band, score_weight = w.weight, "  # noqa: S608 - names from the models
            "priority = c.priority - c.score_weight + w.weight FROM ("
            f"SELECT c2.id, COALESCE(s.band, '') AS band, "
            f"COALESCE(r.priority_weight, 0) + COALESCE(arm.weight, 0) AS weight "
            f"FROM {case} c2 LEFT JOIN {score} s ON s.case_id = c2.id "
            f"LEFT JOIN {rule} r ON r.band = s.band "
            f"LEFT JOIN ({arms}) arm ON arm.case_id = c2.id) w "
            "WHERE w.id = c.id AND (c.score_weight IS DISTINCT FROM w.weight "
            "OR c.score_band IS DISTINCT FROM w.band)",
            params,
        )
        cases = cursor.rowcount
        cursor.execute(
            f"UPDATE {loan} l SET scored_band = n.band FROM ("  # noqa: S608 - names from the models
            f"SELECT l2.id, CASE WHEN l2.status IN ({closed_loans}) THEN NULL "
            f"WHEN arm.case_id IS NOT NULL THEN arm.band ELSE r.reminder_band END AS band "
            f"FROM {loan} l2 LEFT JOIN {case} c ON c.debtor_id = l2.debtor_id "
            f"LEFT JOIN {score} s ON s.case_id = c.id LEFT JOIN {rule} r ON r.band = s.band "
            f"LEFT JOIN ({arms}) arm ON arm.case_id = c.id"
            ") n WHERE n.id = l.id AND l.scored_band IS DISTINCT FROM n.band",
            params,
        )
        loans = cursor.rowcount
    return {"weights": cases, "loans": loans}
