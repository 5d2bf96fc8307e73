"""Reads of the ledger that pages show whole: a debtor's loans with everything on them.

``debtor_loans`` serves the case page and the debtor's portal. Each loan comes with its
installments, payments, plans (each with its installments) and promises as lists, the same
attributes ``Prefetch(..., to_attr=...)`` would set (``LOAN_LISTS``), so a template reads
``loan.installment_list`` and nothing more is queried.
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from .models import Debtor, Installment, Loan, Payment, PlanInstallment, PromiseToPay, RepaymentPlan
from .sql import instance_from_json

# The lists each loan gets: attribute, model and order (the last key breaks ties, so every
# read gives the same order).
LOAN_LISTS = {
    "installment_list": (Installment, ("due_date", "sequence", "id")),
    "payment_list": (Payment, ("-received_at", "-id")),
    "plan_list": (RepaymentPlan, ("-created_at", "-id")),
    "promise_list": (PromiseToPay, ("-promised_date", "-id")),
}
# Each plan's installments, as ``plan.installment_list``.
PLAN_INSTALLMENT_ORDER = ("due_date", "sequence", "id")
LOAN_ORDER = ("opened_on", "id")


@cache
def debtor_loans_sql() -> str:
    """DEBTOR_LOANS: the loans of one debtor (``%(debtor)s``) and every row of the five tables
    under them, in one statement, each row as ``(part, row_to_json)``.

    Hand-written for the ``pages`` benchmark (case page p95 under 200 ms): the case page opens
    all day long, and six queries cost it more than reading their rows. The tests compare its
    answer with ``prefetch_related`` on the same rows (``tests/debtors/test_debtor_loans.py``).
    """
    loans = Loan._meta.db_table
    of_debtor = f"SELECT l.id FROM {loans} l WHERE l.debtor_id = %(debtor)s"  # noqa: S608
    sources = [f"{loans} x WHERE x.debtor_id = %(debtor)s"]
    sources += [
        f"{model._meta.db_table} x WHERE x.loan_id IN ({of_debtor})"  # noqa: S608
        for model, _order in LOAN_LISTS.values()
    ]
    sources.append(
        f"{PlanInstallment._meta.db_table} x WHERE x.plan_id IN (SELECT p.id FROM "  # noqa: S608
        f"{RepaymentPlan._meta.db_table} p WHERE p.loan_id IN ({of_debtor}))"
    )
    return " UNION ALL ".join(
        f"(SELECT {part}, row_to_json(x)::text FROM {source})"  # noqa: S608 - tables from models
        for part, source in enumerate(sources)
    )


# The model of each part of ``debtor_loans_sql``, in order.
_PARTS = (Loan, *(model for model, _order in LOAN_LISTS.values()), PlanInstallment)


def debtor_loans(debtor: Debtor) -> list[Loan]:
    """The debtor's loans (oldest first), each with ``LOAN_LISTS`` and each plan with its
    ``installment_list``; ``row.loan`` and ``row.plan`` are set on every row, reading nothing."""
    found: dict[type, list] = {model: [] for model in _PARTS}
    with connection.cursor() as cursor:
        cursor.execute(debtor_loans_sql(), {"debtor": debtor.pk})
        for part, text in cursor.fetchall():
            found[_PARTS[part]].append(instance_from_json(_PARTS[part], text))
    loans = _ordered(found[Loan], LOAN_ORDER)
    by_loan = {loan.pk: loan for loan in loans}
    for attribute, (model, order) in LOAN_LISTS.items():
        for loan in loans:
            setattr(loan, attribute, [])
        for row in _ordered(found[model], order):
            row.loan = by_loan[row.loan_id]
            getattr(row.loan, attribute).append(row)
    plans = {plan.pk: plan for plan in found[RepaymentPlan]}
    for plan in plans.values():
        plan.installment_list = []
    for row in _ordered(found[PlanInstallment], PLAN_INSTALLMENT_ORDER):
        row.plan = plans[row.plan_id]
        row.plan.installment_list.append(row)
    return loans


def _ordered(rows: list, order: tuple[str, ...]) -> list:
    """``rows`` sorted as ``order_by(*order)`` would (each key ascending, or descending with a
    leading minus; no key is ever null here)."""
    for key in reversed(order):
        name = key.lstrip("-")
        rows = sorted(rows, key=lambda row, name=name: getattr(row, name), reverse=key[0] == "-")
    return rows
