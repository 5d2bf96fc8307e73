"""The planner: turns what is due into reminder rows, set-based, idempotent.

For every active stage and every day of the planning window (``REMINDER_CATCH_UP_DAYS`` back,
so a missed run loses nothing, to one day ahead, so the earliest time zones are served on their
own day), one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` adds a row for each open
installment whose due date plus the stage's offset is that day, on a loan that follows the
stage's strategy and meets its conditions. The unique keys (loan, installment, stage) and
(loan, plan installment, stage) make a second run, or two concurrent runs, add nothing.

The statement is the same on PostgreSQL and SQLite (both accept ``ON CONFLICT DO NOTHING``
without a conflict target); every value that varies is a parameter, dates included, so no
date arithmetic in SQL is needed.

Payments are reconciled before each run (promises and plans are settled from what was
received), and the dispatcher checks again just before sending: a paid installment, a paid
loan or a kept plan is closed without contacting anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from collections_app.models import Reminder, ReminderRun, ReminderStage, ReminderStrategy
from debtors.models import Installment, Loan, PlanInstallment, RepaymentPlan
from debtors.services import plans_review, promises_resolve

# The earliest local midnight of a day anywhere (UTC+14): rows never become due before it.
EARLIEST_OFFSET = dt.timedelta(hours=14)


def catch_up_days() -> int:
    return int(getattr(settings, "REMINDER_CATCH_UP_DAYS", 3))


@dataclass(frozen=True)
class StrategyFilter:
    """SQL condition (and its parameters) selecting the loans that follow a strategy."""

    sql: str
    params: list


def strategy_filters() -> dict[int, StrategyFilter]:
    strategies = list(ReminderStrategy.objects.filter(is_active=True))
    claimed = sorted({band for s in strategies for band in (s.risk_bands or [])})
    filters = {}
    for strategy in strategies:
        parts, params = [], []
        bands = list(strategy.risk_bands or [])
        if bands:
            parts.append("l.risk_band IN (" + ", ".join(["%s"] * len(bands)) + ")")
            params += bands
        if strategy.is_default:
            if claimed:
                parts.append("l.risk_band NOT IN (" + ", ".join(["%s"] * len(claimed)) + ")")
                params += claimed
            else:
                parts.append("1 = 1")
        if parts:
            filters[strategy.pk] = StrategyFilter("(" + " OR ".join(parts) + ")", params)
    return filters


def _stage_conditions(stage: ReminderStage) -> tuple[str, list]:
    ops = connection.ops
    parts, params = [], []
    if stage.risk_bands:
        parts.append("l.risk_band IN (" + ", ".join(["%s"] * len(stage.risk_bands)) + ")")
        params += list(stage.risk_bands)
    if stage.products:
        parts.append("l.product IN (" + ", ".join(["%s"] * len(stage.products)) + ")")
        params += list(stage.products)
    balance = "(l.principal_balance + l.interest_balance + l.fees_balance)"
    if stage.min_balance is not None:
        parts.append(f"{balance} >= %s")
        params.append(ops.adapt_decimalfield_value(stage.min_balance, 19, 4))
    if stage.max_balance is not None:
        parts.append(f"{balance} <= %s")
        params.append(ops.adapt_decimalfield_value(stage.max_balance, 19, 4))
    return "".join(f" AND {p}" for p in parts), params


def _insert_sql(*, from_plan: bool, days: int, where_extra: str) -> str:
    """One statement for a stage: ``days`` (due date -> scheduled day, not before) pairs."""
    reminder = Reminder._meta.db_table
    loan = Loan._meta.db_table
    plan = RepaymentPlan._meta.db_table
    columns = (
        "loan_id, installment_id, plan_installment_id, stage_id, debtor_id, channel, due_date, "
        "scheduled_for, not_before, status, reason, tries, last_error, provider_ref, created_at"
    )
    closed = ", ".join(f"'{s}'" for s in Loan.CLOSED_STATUSES)
    if from_plan:
        source = (
            f"FROM {PlanInstallment._meta.db_table} i "
            f"JOIN {plan} p ON p.id = i.plan_id AND p.status = 'active' "
            f"JOIN {loan} l ON l.id = p.loan_id"
        )
        ids = "NULL, i.id"
        plan_rule = ""
    else:
        source = f"FROM {Installment._meta.db_table} i JOIN {loan} l ON l.id = i.loan_id"
        ids = "i.id, NULL"
        plan_rule = (
            f" AND NOT EXISTS (SELECT 1 FROM {plan} p "  # noqa: S608 - table name from the model
            "WHERE p.loan_id = l.id AND p.status = 'active')"
        )
    # The scheduled day and the earliest send time follow from the due date: a CASE with
    # parameters, so no date arithmetic (which differs between databases) is needed.
    case = "CASE i.due_date " + " ".join(["WHEN %s THEN %s"] * days) + " END"
    listed = ", ".join(["%s"] * days)
    return (
        f"INSERT INTO {reminder} ({columns}) "
        f"SELECT l.id, {ids}, %s, l.debtor_id, %s, i.due_date, {case}, {case}, 'planned', '', 0, "
        f"'', '', %s {source} "
        f"WHERE i.due_date IN ({listed}) AND i.amount_paid < i.amount_due "
        f"AND l.status NOT IN ({closed}){plan_rule}{where_extra} "
        "ON CONFLICT DO NOTHING"
    )  # noqa: S608 - table names come from models, values are parameters


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
    filters = strategy_filters()
    stages = list(
        ReminderStage.objects.filter(
            is_active=True, strategy__is_active=True, strategy_id__in=list(filters)
        ).order_by("strategy_id", "offset_days", "id")
    )
    gaps = stage_gaps(stages)
    ops = connection.ops
    counts: Counter[str] = Counter()
    created_at = ops.adapt_datetimefield_value(timezone.now())
    any_plan = RepaymentPlan.objects.filter(status=RepaymentPlan.Status.ACTIVE).exists()
    for stage in stages:
        strategy = filters[stage.strategy_id]
        extra, extra_params = _stage_conditions(stage)
        where_extra = f" AND {strategy.sql}{extra}"
        paths = []
        if stage.has_active_plan is not True:
            paths.append(False)
        if stage.has_active_plan is not False and any_plan:
            paths.append(True)
        scheduled, earliest, dues = [], [], []
        days = planning_days(today, gaps[stage.pk])
        for day in days:
            due = ops.adapt_datefield_value(day - dt.timedelta(days=stage.offset_days))
            start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) - EARLIEST_OFFSET
            scheduled += [due, ops.adapt_datefield_value(day)]
            earliest += [due, ops.adapt_datetimefield_value(max(now, start))]
            dues.append(due)
        params = [stage.pk, stage.channel, *scheduled, *earliest, created_at, *dues]
        for from_plan in paths:
            sql = _insert_sql(from_plan=from_plan, days=len(days), where_extra=where_extra)
            with connection.cursor() as cursor:
                cursor.execute(sql, [*params, *strategy.params, *extra_params])
                added = max(cursor.rowcount, 0)
            if added:
                counts[stage.channel] += added
    counts["planned"] = sum(v for k, v in counts.items() if k != "planned")
    run.counts = dict(counts)
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return dict(counts)
