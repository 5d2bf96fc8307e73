"""The planner: turns what is due into reminder rows, set-based, idempotent.

What is due is a small table computed in Python from the stages: one row per (stage, risk
band that follows its strategy, scheduled day), with the due date that lands on that day
(due date + offset = scheduled day). The planning window reaches ``REMINDER_CATCH_UP_DAYS``
back (a missed run loses nothing, unless the next stage has begun) and one day ahead (the
earliest time zones start their day first). One statement per path, loan installments and
the installments of active repayment plans, joins that table to the open installments and
their loans::

    INSERT INTO reminder (...)
    WITH due(stage, channel, band, due_date, day, not_before, min, max) AS (VALUES ...)
    SELECT ... FROM due JOIN installment i ON i.due_date = due.due_date
                        JOIN loan l ON l.id = i.loan_id
                        AND COALESCE(l.scored_band, l.risk_band) = due.band
    WHERE <open installment, open loan, balance within the stage's range>
    ON CONFLICT DO NOTHING

The unique keys (loan, installment, stage) and (loan, plan installment, stage) make a second
run, or two concurrent runs, add nothing (``ON CONFLICT DO NOTHING``); every value is a
parameter, dates included, so no date arithmetic happens in SQL. A stage
limited to some products is planned by a statement of its own with that extra condition.

Payments are reconciled before each run (promises and plans are settled from what was
received), and the dispatcher checks again just before sending: a paid installment, a paid
loan or a kept plan is closed without contacting anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from cases.models import Case
from debtors.models import Installment, Loan, PlanInstallment, RepaymentPlan
from debtors.services import plans_review, promises_resolve
from debtors.sql import literal, literals
from reminders.models import (
    Reminder,
    ReminderRun,
    ReminderStage,
    ReminderStatus,
    ReminderStrategy,
)

# The earliest local midnight of a day anywhere (UTC+14): rows never become due before it.
EARLIEST_OFFSET = dt.timedelta(hours=14)
ALL_BANDS = tuple(Loan.RiskBand.values)


def catch_up_days() -> int:
    return int(getattr(settings, "REMINDER_CATCH_UP_DAYS", 3))


def strategy_bands() -> dict[int, list[str]]:
    """The risk bands that follow each active strategy (the default takes the unclaimed)."""
    strategies = list(ReminderStrategy.objects.filter(is_active=True))
    claimed = {band for s in strategies for band in (s.risk_bands or [])}
    bands = {}
    for strategy in strategies:
        own = [b for b in ALL_BANDS if b in (strategy.risk_bands or [])]
        if strategy.is_default:
            own += [b for b in ALL_BANDS if b not in claimed]
        bands[strategy.pk] = own
    return bands


def stage_gaps(stages: list[ReminderStage]) -> dict[int, int | None]:
    """Days from each stage to the next later stage of its strategy (None for the last)."""
    gaps: dict[int, int | None] = {}
    for stage in stages:
        later = [
            s.offset_days
            for s in stages
            if s.strategy_id == stage.strategy_id and s.offset_days > stage.offset_days
        ]
        gaps[stage.pk] = min(later) - stage.offset_days if later else None
    return gaps


def planning_days(today: dt.date, gap: int | None) -> list[dt.date]:
    """The scheduled days planned today: back ``REMINDER_CATCH_UP_DAYS`` (a missed run loses
    nothing), but never a day whose next stage has already begun (a late "due soon" message
    sent beside the "overdue" one helps nobody), and one day ahead for the earliest zones."""
    back = catch_up_days()
    if gap is not None:
        back = min(back, gap - 1)
    return [today + dt.timedelta(days=n) for n in range(-back, 2)]


def _due_rows(stage, bands, days, now) -> list[list]:
    ops = connection.ops
    if stage.risk_bands:
        bands = [b for b in bands if b in stage.risk_bands]
    rows = []
    for day in days:
        due = ops.adapt_datefield_value(day - dt.timedelta(days=stage.offset_days))
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) - EARLIEST_OFFSET
        not_before = ops.adapt_datetimefield_value(max(now, start))
        for band in bands:
            rows.append(
                [
                    stage.pk,
                    stage.channel,
                    band,
                    due,
                    ops.adapt_datefield_value(day),
                    not_before,
                    ops.adapt_decimalfield_value(stage.min_balance, 19, 4),
                    ops.adapt_decimalfield_value(stage.max_balance, 19, 4),
                ]
            )
    return rows


def insert_sql(*, from_plan: bool, rows: int, products: int = 0) -> str:
    """PLAN_INSERT: the reminders of ``rows`` (stage, channel, risk band, due date, scheduled
    day, not before, balance range) for every open installment due on those dates, of the
    plans' installments when ``from_plan``, else of the loans' own; ``products`` limits the
    loans to that many products; a debtor whose case is closed gets none. What exists already
    is left alone (``ON CONFLICT``).

    Hand-written for the ``reminders`` benchmark (planning a million loans in under 60 s and
    500 MiB): one INSERT ... SELECT per batch of stages, set-based over every loan. The tests
    compare what it plans with the same rules asked through the ORM
    (``tests/reminders/test_statements.py``).
    """
    reminder = Reminder._meta.db_table
    loan = Loan._meta.db_table
    plan = RepaymentPlan._meta.db_table
    case = Case._meta.db_table
    columns = (
        "loan_id, installment_id, plan_installment_id, stage_id, debtor_id, channel, due_date, "
        "scheduled_for, not_before, status, reason, tries, last_error, provider_ref, created_at"
    )
    closed = literals(Loan.CLOSED_STATUSES)
    active = literal(RepaymentPlan.Status.ACTIVE)
    # The open installments due on the listed dates are found first (index on due_date),
    # then their loans by primary key. ``OFFSET 0`` keeps that order: without it the planner
    # may pair every loan with every listed row first.
    fence = " OFFSET 0"
    if from_plan:
        items = (
            f"SELECT due.*, i.id AS item_id, p.loan_id AS loan_id FROM due "  # noqa: S608
            f"JOIN {PlanInstallment._meta.db_table} i ON i.due_date = due.due_date "
            f"JOIN {plan} p ON p.id = i.plan_id AND p.status = {active} "
            f"WHERE i.amount_paid < i.amount_due{fence}"
        )
        ids = "NULL, i.item_id"
        plan_rule = ""
    else:
        items = (
            f"SELECT due.*, i.id AS item_id, i.loan_id AS loan_id FROM due "  # noqa: S608
            f"JOIN {Installment._meta.db_table} i ON i.due_date = due.due_date "
            f"WHERE i.amount_paid < i.amount_due{fence}"
        )
        ids = "i.item_id, NULL"
        plan_rule = (
            f" AND NOT EXISTS (SELECT 1 FROM {plan} p "  # noqa: S608 - table name from the model
            f"WHERE p.loan_id = l.id AND p.status = {active})"
        )
    source = f"({items}) i JOIN {loan} l ON l.id = i.loan_id"
    row = "(%s, %s, %s, %s, %s, %s, CAST(%s AS NUMERIC), CAST(%s AS NUMERIC))"
    values = ", ".join([row] * rows)
    balance = "(l.principal_balance + l.interest_balance + l.fees_balance)"
    product_rule = " AND l.product IN (" + ", ".join(["%s"] * products) + ")" if products else ""
    return (
        f"INSERT INTO {reminder} ({columns}) "  # noqa: S608 - names from models, values are parameters
        "WITH due(stage_id, channel, band, due_date, day, not_before, min_balance, max_balance) "
        f"AS (VALUES {values}) "
        f"SELECT l.id, {ids}, i.stage_id, l.debtor_id, i.channel, i.due_date, i.day, "
        f"i.not_before, {literal(ReminderStatus.PLANNED)}, '', 0, '', '', %s FROM {source} "
        f"WHERE COALESCE(l.scored_band, l.risk_band) = i.band AND l.status NOT IN {closed}{plan_rule} "
        f"AND NOT EXISTS (SELECT 1 FROM {case} c WHERE c.debtor_id = l.debtor_id "
        f"AND c.status = {literal(Case.Status.CLOSED)}) "
        f"AND (i.min_balance IS NULL OR {balance} >= i.min_balance) "
        f"AND (i.max_balance IS NULL OR {balance} <= i.max_balance){product_rule} "
        "ON CONFLICT DO NOTHING"
    )


def _insert(*, from_plan: bool, rows: list[list], created_at, products=()) -> Counter:
    counts: Counter[str] = Counter()
    if not rows:
        return counts
    sql = insert_sql(from_plan=from_plan, rows=len(rows), products=len(products))
    params = [value for row in rows for value in row] + [created_at, *products]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        added = max(cursor.rowcount, 0)
    if added:
        counts["planned"] += added
    return counts


def plan(
    *,
    now: dt.datetime | None = None,
    actor: str = "plan_reminders",
    reconcile: bool = True,
) -> dict[str, int]:
    """Plan every reminder due in the window around ``now``; return counts by channel.

    Safe to run any number of times, concurrently too: nothing is planned twice.
    """
    now = now or timezone.now()
    run = ReminderRun.objects.create(
        kind=ReminderRun.Kind.PLAN, as_of=now, started_at=timezone.now(), actor_label=actor
    )
    if reconcile:
        promises_resolve(now=now)
        plans_review(now=now)
    today = now.astimezone(dt.UTC).date()
    bands = strategy_bands()
    stages = list(
        ReminderStage.objects.filter(
            is_active=True, strategy__is_active=True, strategy_id__in=list(bands)
        ).order_by("strategy_id", "offset_days", "id")
    )
    gaps = stage_gaps(stages)
    any_plan = RepaymentPlan.objects.filter(status=RepaymentPlan.Status.ACTIVE).exists()
    stamp = timezone.now()
    created_at = connection.ops.adapt_datetimefield_value(stamp)
    shared: dict[bool, list[list]] = {False: [], True: []}
    counts: Counter[str] = Counter()
    for stage in stages:
        rows = _due_rows(stage, bands[stage.strategy_id], planning_days(today, gaps[stage.pk]), now)
        paths = [p for p in (False, True) if stage.has_active_plan in (None, p)]
        for from_plan in paths:
            if from_plan and not any_plan:
                continue
            if stage.products:
                counts += _insert(
                    from_plan=from_plan, rows=rows, created_at=created_at, products=stage.products
                )
            else:
                shared[from_plan] += rows
    for from_plan, rows in shared.items():
        counts += _insert(from_plan=from_plan, rows=rows, created_at=created_at)
    result = {"planned": counts["planned"]}
    if counts["planned"]:
        # The rows of this run carry its timestamp: count them by channel.
        result.update(
            Reminder.objects.filter(created_at=stamp)
            .values_list("channel")
            .annotate(n=Count("id"))
            .order_by()
        )
    run.counts = result
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return result
