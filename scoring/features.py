"""What the history says about a debtor on a scoring date: the propensity score's features.

A feature is computed from the database alone, as of an instant: midnight UTC of a scoring
date ``d``. Only facts known before ``d`` count: installments due before ``d`` and not paid by
then, payments received before it, promises resolved before it, contact attempts made before
it, plans as they stood then. The outcome a model learns is whether any of the debtor's loans
received a payment in the 30 days from ``d``. So training on past dates sees exactly what
scoring sees today, and no feature sees the future (a test adds later rows and finds the
features unchanged).

Every feature is a whole number put into a few labelled bins (``Feature.bins``): the model's
points are per bin, so a user reads "days past due 31–60: −25 points".

``feature_sql`` is one set-based query over every debtor with an open loan on each of the given
dates (hand-written SQL: scoring 1,000,000 loans must take under 60 s, ``make bench``; a test
compares it with the ORM's answer). It is shared by training (many past dates) and scoring
(today), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from compliance.models import ContactAttempt, Direction, Outcome
from debtors.models import (
    Channel,
    Installment,
    Loan,
    Payment,
    PromiseToPay,
    RepaymentPlan,
)

# The outcome's horizon: a payment within this many days of the scoring date.
HORIZON_DAYS = 30


@dataclass(frozen=True)
class Feature:
    """A feature and its bins. ``edges`` are the inclusive upper bounds of every bin but the
    last: a value ``v`` falls in the first bin whose edge is ``>= v``, else in the last."""

    name: str
    label: str
    edges: tuple[int, ...]
    bins: tuple[str, ...]

    def __post_init__(self):
        assert len(self.bins) == len(self.edges) + 1, self.name

    def bin_of(self, value: int) -> int:
        for index, edge in enumerate(self.edges):
            if value <= edge:
                return index
        return len(self.edges)

    def bin_sql(self, column: str) -> str:
        """The bin index of ``column`` as an SQL expression."""
        whens = " ".join(
            f"WHEN {column} <= {int(edge)} THEN {index}" for index, edge in enumerate(self.edges)
        )
        return f"(CASE {whens} ELSE {len(self.edges)} END)"


# Codes of ``contact_result`` and ``plan_state`` (whole numbers, so they bin like the rest).
CONTACT_NONE, CONTACT_UNREACHED, CONTACT_ONCE, CONTACT_MORE = 0, 1, 2, 3
PLAN_NONE, PLAN_BROKEN, PLAN_ACTIVE = 0, 1, 2
NEVER_PAID_DAYS = 9999

FEATURES: tuple[Feature, ...] = (
    Feature(
        "days_past_due",
        _("Days past due"),
        (0, 30, 60, 90, 180),
        (
            _("0 (current)"),
            "1–30",
            "31–60",
            "61–90",
            "91–180",
            "181+",
        ),
    ),
    Feature(
        "balance_share",
        _("Share of the schedule still owed"),
        (25, 50, 75),
        (_("up to 25%"), "26–50%", "51–75%", "76–100%"),
    ),
    Feature(
        "broken_promises",
        _("Promises broken in the last 180 days"),
        (0, 1),
        (_("none"), "1", _("2 or more")),
    ),
    Feature(
        "kept_promises",
        _("Promises kept in the last 180 days"),
        (0,),
        (_("none"), _("1 or more")),
    ),
    Feature(
        "days_since_payment",
        _("Days since the last payment"),
        (30, 60, 120),
        ("0–30", "31–60", "61–120", _("over 120, or never")),
    ),
    Feature(
        "contact_result",
        _("Calls in the last 60 days"),
        (CONTACT_NONE, CONTACT_UNREACHED, CONTACT_ONCE),
        (
            _("no call"),
            _("called, never reached"),
            _("reached once"),
            _("reached twice or more"),
        ),
    ),
    Feature(
        "reminders",
        _("Reminders delivered in the last 30 days"),
        (0, 2),
        (_("none"), "1–2", _("3 or more")),
    ),
    Feature(
        "plan_state",
        _("Repayment plan"),
        (PLAN_NONE, PLAN_BROKEN),
        (_("no plan"), _("a plan was broken"), _("an active plan")),
    ),
    Feature(
        "loan_age_months",
        _("Months since the oldest open loan began"),
        (6, 12, 24),
        (_("under 7"), "7–12", "13–24", _("over 24")),
    ),
    Feature(
        "open_loans",
        _("Open loans"),
        (1, 2),
        ("1", "2", _("3 or more")),
    ),
)
FEATURE_NAMES = tuple(feature.name for feature in FEATURES)
BY_NAME = {feature.name: feature for feature in FEATURES}


def _table(model) -> str:
    return model._meta.db_table


def _quoted(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def feature_sql(*, with_outcome: bool, open_now: bool, sample: int | None = None) -> str:
    """The query: one row per (scoring date, debtor with an open loan on it), with the
    columns ``d``, ``debtor_id``, every feature of ``FEATURE_NAMES`` and, ``with_outcome``,
    ``paid`` (a payment within ``HORIZON_DAYS``).

    One parameter: the scoring dates (a list of dates). ``open_now``: only loans open today
    (scoring; a closed loan is not worked). ``sample``: only debtors whose id is a multiple of
    it (training on a large portfolio).
    """
    loan, installment, payment = _table(Loan), _table(Installment), _table(Payment)
    promise, plan, attempt = _table(PromiseToPay), _table(RepaymentPlan), _table(ContactAttempt)
    closed = _quoted(Loan.CLOSED_STATUSES)
    reached = _quoted([Outcome.CONVERSATION])
    delivered = _quoted([Outcome.SENT, Outcome.DELIVERED])
    messages = _quoted([Channel.SMS, Channel.EMAIL, Channel.IN_APP])
    sampled = f"AND l.debtor_id %% {int(sample)} = 0" if sample and sample > 1 else ""
    now_open = f"AND l.status NOT IN ({closed})" if open_now else ""
    outcome_column = ", COALESCE(paid.paid, false) AS paid" if with_outcome else ""
    outcome_join = (
        f"""
LEFT JOIN (
    SELECT s.d, l.debtor_id, true AS paid
    FROM snap s JOIN {payment} p
        ON p.received_at >= s.d::timestamptz
        AND p.received_at < (s.d + {HORIZON_DAYS})::timestamptz
    JOIN {loan} l ON l.id = p.loan_id
    GROUP BY s.d, l.debtor_id
) paid ON paid.d = o.d AND paid.debtor_id = o.debtor_id"""  # noqa: S608 - names from the models
        if with_outcome
        else ""
    )
    # Instants compare with s.d::timestamptz; the session's zone is UTC (Django sets it).
    return f"""
WITH snap(d) AS (SELECT DISTINCT unnest(%s::date[])),
loan_state AS (
    SELECT s.d, l.id AS loan_id, l.debtor_id, l.opened_on,
        sum(i.amount_due) AS scheduled,
        min(i.due_date) FILTER (
            WHERE i.due_date < s.d AND (i.paid_at IS NULL OR i.paid_at >= s.d::timestamptz)
        ) AS oldest_unpaid
    FROM snap s
    JOIN {loan} l ON l.opened_on < s.d {now_open} {sampled}
    JOIN {installment} i ON i.loan_id = l.id
    GROUP BY s.d, l.id
),
paid_before AS (
    SELECT s.d, p.loan_id, sum(p.amount) AS amount, max(p.received_at) AS last_at
    FROM snap s JOIN {payment} p ON p.received_at < s.d::timestamptz
    GROUP BY s.d, p.loan_id
),
open_loans AS (
    SELECT ls.*, COALESCE(pb.amount, 0) AS paid_amount, pb.last_at
    FROM loan_state ls
    LEFT JOIN paid_before pb ON pb.d = ls.d AND pb.loan_id = ls.loan_id
    WHERE ls.scheduled > COALESCE(pb.amount, 0)
),
o AS (
    SELECT d, debtor_id,
        COALESCE(max(d - oldest_unpaid), 0) AS days_past_due,
        floor(100 * sum(scheduled - paid_amount) / NULLIF(sum(scheduled), 0))::int
            AS balance_share,
        COALESCE(d - max(last_at)::date, {NEVER_PAID_DAYS}) AS days_since_payment,
        max(d - opened_on) / 30 AS loan_age_months,
        count(*) AS open_loans
    FROM open_loans GROUP BY d, debtor_id
),
promises AS (
    SELECT s.d, l.debtor_id,
        count(*) FILTER (WHERE pr.status = '{PromiseToPay.Status.BROKEN}') AS broken,
        count(*) FILTER (WHERE pr.status = '{PromiseToPay.Status.KEPT}') AS kept
    FROM snap s JOIN {promise} pr
        ON pr.resolved_at < s.d::timestamptz
        AND pr.resolved_at >= (s.d - 180)::timestamptz
    JOIN {loan} l ON l.id = pr.loan_id
    GROUP BY s.d, l.debtor_id
),
calls AS (
    SELECT s.d, a.debtor_id,
        count(*) AS attempts,
        count(*) FILTER (WHERE a.outcome IN ({reached})) AS reached
    FROM snap s JOIN {attempt} a
        ON a.occurred_at < s.d::timestamptz AND a.occurred_at >= (s.d - 60)::timestamptz
    WHERE a.channel = '{Channel.CALL}' AND a.direction = '{Direction.OUTBOUND}'
        AND a.outcome <> '{Outcome.PENDING}'
    GROUP BY s.d, a.debtor_id
),
reminders AS (
    SELECT s.d, a.debtor_id, count(*) AS delivered
    FROM snap s JOIN {attempt} a
        ON a.occurred_at < s.d::timestamptz AND a.occurred_at >= (s.d - 30)::timestamptz
    WHERE a.channel IN ({messages}) AND a.direction = '{Direction.OUTBOUND}'
        AND a.outcome IN ({delivered})
    GROUP BY s.d, a.debtor_id
),
plans AS (
    SELECT s.d, l.debtor_id,
        bool_or(p.activated_at < s.d::timestamptz
            AND (p.closed_at IS NULL OR p.closed_at >= s.d::timestamptz)) AS active,
        bool_or(p.status = '{RepaymentPlan.Status.BROKEN}' AND p.closed_at < s.d::timestamptz)
            AS broken
    FROM snap s JOIN {plan} p ON p.activated_at < s.d::timestamptz
    JOIN {loan} l ON l.id = p.loan_id
    GROUP BY s.d, l.debtor_id
)
SELECT o.d, o.debtor_id,
    o.days_past_due,
    COALESCE(o.balance_share, 0) AS balance_share,
    COALESCE(pr.broken, 0) AS broken_promises,
    COALESCE(pr.kept, 0) AS kept_promises,
    o.days_since_payment,
    CASE WHEN c.attempts IS NULL THEN {CONTACT_NONE}
        WHEN c.reached = 0 THEN {CONTACT_UNREACHED}
        WHEN c.reached = 1 THEN {CONTACT_ONCE}
        ELSE {CONTACT_MORE} END AS contact_result,
    COALESCE(r.delivered, 0) AS reminders,
    CASE WHEN pl.active THEN {PLAN_ACTIVE} WHEN pl.broken THEN {PLAN_BROKEN}
        ELSE {PLAN_NONE} END AS plan_state,
    o.loan_age_months,
    o.open_loans{outcome_column}
FROM o
LEFT JOIN promises pr ON pr.d = o.d AND pr.debtor_id = o.debtor_id
LEFT JOIN calls c ON c.d = o.d AND c.debtor_id = o.debtor_id
LEFT JOIN reminders r ON r.d = o.d AND r.debtor_id = o.debtor_id
LEFT JOIN plans pl ON pl.d = o.d AND pl.debtor_id = o.debtor_id{outcome_join}
"""  # noqa: S608 - names and statuses from the models, the dates are a parameter
