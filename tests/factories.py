"""Small factories for tests: plain functions with sensible defaults, overridable by keyword."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from cases.models import Case
from debtors.models import ContactPoint, Debtor, Installment, Loan

_seq = itertools.count(1)


def make_debtor(**overrides) -> Debtor:
    n = next(_seq)
    fields = {
        "external_ref": f"D-{n:06d}",
        "full_name": f"Debtor {n}",
        "country": "CN",
        "national_id": f"11010119900307{n:04d}",
        "timezone": "Asia/Shanghai",
    }
    fields.update(overrides)
    return Debtor.objects.create(**fields)


def make_contact_point(debtor: Debtor, **overrides) -> ContactPoint:
    fields = {
        "kind": ContactPoint.Kind.MOBILE,
        "value": "+8613800138000",
        "status": ContactPoint.Status.VALID,
    }
    fields.update(overrides)
    return ContactPoint.objects.create(debtor=debtor, **fields)


def make_loan(
    debtor: Debtor,
    *,
    installments: list[tuple[dt.date, Decimal]] | None = None,
    **overrides,
) -> Loan:
    """A loan whose balances equal the sum of its installments (all principal by default)."""
    n = next(_seq)
    if installments is None:
        start = dt.date(2026, 1, 15)
        installments = [(start.replace(month=m), Decimal("100.00")) for m in (1, 2, 3)]
    total = sum((amount for _due, amount in installments), Decimal("0"))
    fields = {
        "external_ref": f"L-{n:06d}",
        "currency": "CNY",
        "principal": total,
        "principal_balance": total,
        "opened_on": dt.date(2025, 12, 1),
    }
    fields.update(overrides)
    loan = Loan.objects.create(debtor=debtor, **fields)
    Installment.objects.bulk_create(
        Installment(loan=loan, sequence=i, due_date=due, amount_due=amount)
        for i, (due, amount) in enumerate(installments, start=1)
    )
    loan.oldest_unpaid_due_date = (
        min(due for due, _amount in installments) if installments else None
    )
    loan.save(update_fields=["oldest_unpaid_due_date"])
    return loan


def make_case(debtor: Debtor, collector=None, **overrides) -> Case:
    return Case.objects.create(debtor=debtor, assigned_to=collector, **overrides)


def make_reminder(loan: Loan, installment: Installment, **overrides):
    """An SMS reminder of ``installment`` on a stage of its own strategy (planned unless told)."""
    from reminders.models import Reminder, ReminderStage, ReminderStrategy

    n = next(_seq)
    strategy = ReminderStrategy.objects.create(slug=f"test-strategy-{n}", name=f"Test {n}")
    stage = ReminderStage.objects.create(
        strategy=strategy,
        name="Due",
        offset_days=overrides.pop("offset_days", 0),
        channel="sms",
        template_key="due",
    )
    fields = {
        "loan": loan,
        "installment": installment,
        "stage": stage,
        "debtor": loan.debtor,
        "channel": "sms",
        "due_date": installment.due_date,
        "scheduled_for": installment.due_date,
        "not_before": dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
    }
    fields.update(overrides)
    return Reminder.objects.create(**fields)
