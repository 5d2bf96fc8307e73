"""An experiment's results: each arm's metrics with 95% intervals, each challenger's
difference from the champion with an always-valid test (``scoring.statistics``), and the daily
series of cumulative recovery per arm for the chart.

Everything is measured from each case's entry (``ArmAssignment``):

* recovery rate: what the debtor paid since entering ÷ what was outstanding at entry (capped
  at 1), averaged over the arm's cases that owed something;
* cure rate: of the cases past due at entry, the share now at 0 days past due;
* promise-kept rate: of the promises made since entry and resolved, the share kept;
* opt-out rate: the share of cases with an opt-out since entry;
* dispute and complaint rate: the share with a dispute raised or an email complaint since entry;
* contacts per 1,000 collected: outbound contacts since entry per 1,000 units collected.

The recovery series is read once per day since the start, and the primary metric's p-value
is the smallest over those daily looks, as the mSPRT allows; the other metrics are read at
today's look only (which can only make their p-values larger: still valid).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.utils import timezone

from cases.models import Case
from compliance.models import ContactAttempt, Direction, Outcome
from debtors.models import ChannelConsent, ContactPoint, Debtor, Loan, Payment, PromiseToPay
from messaging.models import InboundMessage
from scoring import statistics
from scoring.models import Arm, ArmAssignment, Experiment

METRICS = tuple(Experiment.Metric.values)
# Higher is better for these; lower for the others (opt-outs, disputes, contacts).
HIGHER_IS_BETTER = {"recovery", "cure", "promise_kept"}
MAX_SERIES_DAYS = 366


@dataclass
class ArmResult:
    arm: Arm
    cases: int
    metrics: dict[str, statistics.Estimate]
    comparisons: dict[str, statistics.Comparison] = field(default_factory=dict)


def _case_rows(experiment: Experiment, now: dt.datetime) -> list[tuple]:
    """Per case: arm, entered_at, outstanding at entry, days past due at entry, collected,
    cured, promises kept, promises broken, opted out, disputed or complained, contacts."""
    a, c, d = ArmAssignment._meta.db_table, Case._meta.db_table, Debtor._meta.db_table
    loan, payment, promise = (
        Loan._meta.db_table,
        Payment._meta.db_table,
        PromiseToPay._meta.db_table,
    )
    consent, attempt = ChannelConsent._meta.db_table, ContactAttempt._meta.db_table
    inbound, point = InboundMessage._meta.db_table, ContactPoint._meta.db_table
    contact_outcomes = [Outcome.PENDING, Outcome.RECEIVED]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
SELECT a.arm_id, a.entered_at, a.outstanding_at_entry, a.days_past_due_at_entry,
    COALESCE((SELECT sum(p.amount) FROM {payment} p JOIN {loan} l ON l.id = p.loan_id
              WHERE l.debtor_id = c.debtor_id AND p.received_at >= a.entered_at
              AND p.received_at < %(now)s), 0),
    c.max_days_past_due = 0,
    (SELECT count(*) FROM {promise} pr JOIN {loan} l ON l.id = pr.loan_id
     WHERE l.debtor_id = c.debtor_id AND pr.created_at >= a.entered_at
     AND pr.resolved_at < %(now)s AND pr.status = %(kept)s),
    (SELECT count(*) FROM {promise} pr JOIN {loan} l ON l.id = pr.loan_id
     WHERE l.debtor_id = c.debtor_id AND pr.created_at >= a.entered_at
     AND pr.resolved_at < %(now)s AND pr.status = %(broken)s),
    EXISTS (SELECT 1 FROM {consent} cc WHERE cc.debtor_id = c.debtor_id
            AND cc.opted_out_at >= a.entered_at AND cc.opted_out_at < %(now)s),
    (db.dispute_at >= a.entered_at AND db.dispute_at < %(now)s) IS TRUE
        OR EXISTS (SELECT 1 FROM {inbound} im JOIN {point} cp
                   ON lower(cp.value) = lower(im.from_address)
                   WHERE cp.debtor_id = c.debtor_id AND im.kind = %(complaint)s
                   AND im.received_at >= a.entered_at AND im.received_at < %(now)s),
    (SELECT count(*) FROM {attempt} t WHERE t.debtor_id = c.debtor_id
     AND t.direction = %(outbound)s AND t.outcome NOT IN %(not_contacts)s
     AND t.occurred_at >= a.entered_at AND t.occurred_at < %(now)s)
FROM {a} a JOIN {c} c ON c.id = a.case_id JOIN {d} db ON db.id = c.debtor_id
WHERE a.experiment_id = %(experiment)s AND a.entered_at < %(now)s
""",  # noqa: S608 - names from the models, values are parameters
            {
                "now": now,
                "kept": PromiseToPay.Status.KEPT,
                "broken": PromiseToPay.Status.BROKEN,
                "complaint": InboundMessage.Kind.COMPLAINT,
                "outbound": Direction.OUTBOUND,
                "not_contacts": tuple(contact_outcomes),
                "experiment": experiment.pk,
            },
        )
        return cursor.fetchall()


def _estimates(rows: list[tuple]) -> dict[str, statistics.Estimate]:
    if not rows:
        empty = statistics.Estimate(0.0, 0.0, 0)
        return dict.fromkeys(METRICS, empty)
    owed = np.array([float(r[2]) for r in rows])
    collected = np.array([float(r[4]) for r in rows])
    with_debt = owed > 0
    recovery = np.minimum(collected[with_debt] / owed[with_debt], 1.0)
    late = np.array([r[3] > 0 for r in rows])
    cured = np.array([bool(r[5]) for r in rows])
    kept = sum(int(r[6]) for r in rows)
    broken = sum(int(r[7]) for r in rows)
    contacts = np.array([float(r[10]) for r in rows])
    per_thousand = collected / 1000.0
    return {
        "recovery": statistics.mean(
            float(recovery.sum()), float((recovery**2).sum()), int(recovery.size)
        ),
        "cure": statistics.proportion(int((cured & late).sum()), int(late.sum())),
        "promise_kept": statistics.proportion(kept, kept + broken),
        "opt_out": statistics.proportion(sum(bool(r[8]) for r in rows), len(rows)),
        "dispute": statistics.proportion(sum(bool(r[9]) for r in rows), len(rows)),
        "contacts": statistics.ratio(
            float(contacts.sum()),
            float(per_thousand.sum()),
            len(rows),
            sum_x2=float((contacts**2).sum()),
            sum_y2=float((per_thousand**2).sum()),
            sum_xy=float((contacts * per_thousand).sum()),
        ),
    }


def recovery_series(experiment: Experiment, *, today: dt.date | None = None) -> dict:
    """Per arm, per day since the start: the cumulative recovery rate of the cases entered by
    then, with its 95% interval. ``{"days": [...], "arms": {arm_id: [Estimate, ...]}}``."""
    today = today or timezone.localdate()
    start = experiment.starts_on
    if experiment.started_at is not None:
        start = max(start, timezone.localdate(experiment.started_at))
    last = min(today, experiment.planned_end_on, start + dt.timedelta(days=MAX_SERIES_DAYS))
    days = [start + dt.timedelta(days=k) for k in range((last - start).days + 1)]
    a, c = ArmAssignment._meta.db_table, Case._meta.db_table
    loan, payment = Loan._meta.db_table, Payment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.arm_id, a.entered_at, a.outstanding_at_entry FROM {a} a "  # noqa: S608 - names from the models
            "WHERE a.experiment_id = %s AND a.outstanding_at_entry > 0",
            [experiment.pk],
        )
        cases = cursor.fetchall()
        cursor.execute(
            f"SELECT a.id, p.received_at, p.amount FROM {a} a JOIN {c} c ON c.id = a.case_id "  # noqa: S608
            f"JOIN {loan} l ON l.debtor_id = c.debtor_id JOIN {payment} p ON p.loan_id = l.id "
            "WHERE a.experiment_id = %s AND p.received_at >= a.entered_at",
            [experiment.pk],
        )
        payments = cursor.fetchall()
    zone = timezone.get_current_timezone()
    index = {row[0]: i for i, row in enumerate(cases)}
    entered = np.array([_day_number(row[2], start, zone) for row in cases], dtype=np.int64)
    owed = np.array([float(row[3]) for row in cases])
    arm_of = np.array([row[1] for row in cases], dtype=np.int64)
    paid_by_day = np.zeros((len(cases), len(days)))
    for assignment_id, received_at, amount in payments:
        day = _day_number(received_at, start, zone)
        if 0 <= day < len(days):
            paid_by_day[index[assignment_id], day] += float(amount)
        elif day < 0:
            paid_by_day[index[assignment_id], 0] += float(amount)
    cumulative = np.cumsum(paid_by_day, axis=1)
    series: dict[int, list[statistics.Estimate]] = {}
    for arm_id in experiment.arms.values_list("id", flat=True):
        mine = arm_of == arm_id
        points = []
        for k in range(len(days)):
            present = mine & (entered <= k)
            ratio = np.minimum(cumulative[present, k] / owed[present], 1.0)
            points.append(
                statistics.mean(float(ratio.sum()), float((ratio**2).sum()), int(ratio.size))
            )
        series[arm_id] = points
    return {"days": days, "arms": series}


def _day_number(instant: dt.datetime, start: dt.date, zone) -> int:
    return (timezone.localtime(instant, zone).date() - start).days


def experiment_results(experiment: Experiment, *, now: dt.datetime | None = None) -> dict:
    """Every arm's metrics and each challenger's comparison with the champion."""
    now = now or timezone.now()
    arms = list(experiment.arms.select_related("strategy").order_by("id"))
    rows = _case_rows(experiment, now)
    by_arm: dict[int, list[tuple]] = {arm.pk: [] for arm in arms}
    for row in rows:
        by_arm[row[0]].append(row)
    results = {
        arm.pk: ArmResult(arm, len(by_arm[arm.pk]), _estimates(by_arm[arm.pk])) for arm in arms
    }
    champion = next((arm for arm in arms if arm.kind == Arm.Kind.CHAMPION), None)
    series = recovery_series(experiment, today=timezone.localdate(now))
    if champion is not None:
        base = results[champion.pk]
        for arm in arms:
            if arm.pk == champion.pk:
                continue
            mine = results[arm.pk]
            for metric in METRICS:
                tau2 = statistics.default_tau2(base.metrics[metric])
                previous = 1.0
                if metric == "recovery":
                    for own, theirs in zip(
                        series["arms"][arm.pk], series["arms"][champion.pk], strict=True
                    ):
                        previous = statistics.compare(
                            own, theirs, tau2=tau2, previous_p=previous
                        ).p_value
                mine.comparisons[metric] = statistics.compare(
                    mine.metrics[metric], base.metrics[metric], tau2=tau2, previous_p=previous
                )
    return {"arms": [results[arm.pk] for arm in arms], "series": series, "champion": champion}
