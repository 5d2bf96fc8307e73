"""Set-based SQL for the derived fields of seeded loans and the cases of seeded debtors.

The same rules as ``generator.derive_loan`` and ``generator.derive_case`` (which the ORM path
uses, so that its history rows show the final values), written as a few statements over every
new row at once: a million loans are one ``UPDATE ... FROM (aggregate)``, not a loop.
Hand-written for the ``seed`` benchmark (a million loans in under 5 minutes and 1 GiB); the
tests compare the portfolio the COPY path writes with the ORM path's, row by row
(``tests/demo/test_seed_demo.py``), and check this derivation finds nothing to correct.
"""

from __future__ import annotations

import datetime as dt

from cases.models import Case
from debtors.models import Debtor, Installment, Loan, PlanInstallment, PromiseToPay, RepaymentPlan
from debtors.sql import literal, literals

CLOSED = literals(Loan.CLOSED_STATUSES)
FIXED = literals(Loan.FIXED_STATUSES)
# A loan's status from its totals ``t`` (see generator.derive_loan).
LOAN_STATUS = f"""CASE
    WHEN l.status IN {FIXED} THEN l.status
    WHEN t.outstanding = 0 THEN {literal(Loan.Status.PAID)}
    WHEN t.in_plan THEN {literal(Loan.Status.IN_PLAN)}
    WHEN t.oldest < %(today)s THEN {literal(Loan.Status.DELINQUENT)}
    ELSE {literal(Loan.Status.CURRENT)}
END"""


def refresh_loans(cursor, *, loan_id_from: int, today: dt.date) -> int:
    """Balances, oldest unpaid due date and status of the loans with id >= ``loan_id_from``.

    Returns how many loans it changed: rows already right are not rewritten (a million-row
    UPDATE that changes nothing would still write a new version of every row).

    The schedule is the active plan's installments when there is one, else the loan's own;
    outstanding is what that schedule leaves unpaid, principal first; legal and charged-off
    loans keep their status.
    """
    sql = f"""
        WITH active AS (
            SELECT loan_id, id FROM {RepaymentPlan._meta.db_table}
            WHERE status = {literal(RepaymentPlan.Status.ACTIVE)} AND loan_id >= %(first)s
        ),
        schedule AS (
            SELECT i.loan_id, i.due_date, i.amount_due - i.amount_paid AS open, false AS in_plan
            FROM {Installment._meta.db_table} i
            WHERE i.loan_id >= %(first)s
              AND NOT EXISTS (SELECT 1 FROM active a WHERE a.loan_id = i.loan_id)
            UNION ALL
            SELECT a.loan_id, pi.due_date, pi.amount_due - pi.amount_paid, true
            FROM active a JOIN {PlanInstallment._meta.db_table} pi ON pi.plan_id = a.id
        ),
        totals AS (
            SELECT loan_id,
                   SUM(open) AS outstanding,
                   MIN(due_date) FILTER (WHERE open > 0) AS oldest,
                   BOOL_OR(in_plan) AS in_plan
            FROM schedule GROUP BY loan_id
        )
        UPDATE {Loan._meta.db_table} l SET
            oldest_unpaid_due_date = t.oldest,
            principal_balance = LEAST(l.principal, t.outstanding),
            interest_balance = t.outstanding - LEAST(l.principal, t.outstanding),
            status = {LOAN_STATUS}
        FROM totals t
        WHERE l.id = t.loan_id
          AND (l.oldest_unpaid_due_date, l.principal_balance, l.interest_balance, l.status)
              IS DISTINCT FROM (
                t.oldest,
                LEAST(l.principal, t.outstanding),
                t.outstanding - LEAST(l.principal, t.outstanding),
                {LOAN_STATUS})
    """  # noqa: S608 - table names come from our models
    cursor.execute(sql, {"first": loan_id_from, "today": today})
    return cursor.rowcount


def insert_cases(cursor, *, debtor_id_from: int, today: dt.date, now: dt.datetime) -> int:
    """One case per debtor with id >= ``debtor_id_from``, from its (already derived) loans."""
    sql = f"""
        WITH loans AS (
            SELECT l.debtor_id,
                   COALESCE(MAX(%(today)s - l.oldest_unpaid_due_date) FILTER (
                       WHERE l.status NOT IN {CLOSED} AND l.oldest_unpaid_due_date < %(today)s
                   ), 0) AS max_dpd,
                   COALESCE(SUM(l.principal_balance + l.interest_balance + l.fees_balance)
                       FILTER (WHERE l.status NOT IN {CLOSED}), 0) AS outstanding,
                   BOOL_OR(l.status NOT IN {CLOSED}) AS any_open,
                   BOOL_OR(l.status = {literal(Loan.Status.IN_PLAN)}) AS any_plan
            FROM {Loan._meta.db_table} l
            WHERE l.debtor_id >= %(first)s
            GROUP BY l.debtor_id
        ),
        broken AS (
            SELECT l.debtor_id, COUNT(*) AS n
            FROM {PromiseToPay._meta.db_table} p JOIN {Loan._meta.db_table} l ON l.id = p.loan_id
            WHERE p.status = {literal(PromiseToPay.Status.BROKEN)} AND l.debtor_id >= %(first)s
            GROUP BY l.debtor_id
        ),
        facts AS (
            SELECT d.id AS debtor_id, d.created_at,
                   COALESCE(lo.max_dpd, 0) AS max_dpd,
                   COALESCE(lo.outstanding, 0) AS outstanding,
                   COALESCE(b.n, 0) AS broken,
                   CASE
                       WHEN NOT COALESCE(lo.any_open, false) THEN {literal(Case.Status.CLOSED)}
                       WHEN d.dispute OR d.bankruptcy OR d.deceased OR d.cease_communication
                            OR d.hardship_pause_until >= %(today)s THEN {literal(Case.Status.ON_HOLD)}
                       WHEN lo.any_plan THEN {literal(Case.Status.IN_PLAN)}
                       ELSE {literal(Case.Status.OPEN)}
                   END AS status
            FROM {Debtor._meta.db_table} d
            LEFT JOIN loans lo ON lo.debtor_id = d.id
            LEFT JOIN broken b ON b.debtor_id = d.id
            WHERE d.id >= %(first)s
        )
        INSERT INTO {Case._meta.db_table}
            (debtor_id, status, closed_reason, closed_at, max_days_past_due, total_outstanding,
             broken_promises, created_at, updated_at)
        SELECT debtor_id, status,
               CASE WHEN status = {literal(Case.Status.CLOSED)}
                    THEN {literal(Case.ClosedReason.PAID)} ELSE '' END,
               CASE WHEN status = {literal(Case.Status.CLOSED)} THEN created_at END,
               max_dpd, outstanding, broken, created_at, %(now)s
        FROM facts
        ORDER BY debtor_id
    """  # noqa: S608 - table names come from our models
    cursor.execute(sql, {"first": debtor_id_from, "today": today, "now": now})
    return cursor.rowcount
