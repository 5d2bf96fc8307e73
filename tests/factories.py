"""Small factories for tests: plain functions with sensible defaults, overridable by keyword."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from cases.models import AssignmentRule, Case, Note
from debtors.models import (
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PromiseToPay,
    RepaymentPlan,
)
from imports.models import ImportJob
from messaging.models import MessageTemplate
from reminders.models import ReminderStrategy

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


# The id of every object ``make_one_of_each`` makes: far above any the sequences reach.
ONE_OF_EACH_ID = 900_001


def make_one_of_each(collector, *, pk: int = ONE_OF_EACH_ID) -> None:
    """One object of each kind the API names by id, every one with the id ``pk``: a debtor of
    ``collector``'s with their case, phone, loan (its first installment), payment, promise,
    broken plan and note; an assignment rule dealing to ``collector``, an import, a reminder
    strategy and a message template.

    Tests that generate requests name any of them with one number."""
    debtor = make_debtor(id=pk)
    make_case(debtor, collector, id=pk)
    make_contact_point(debtor, id=pk)
    loan = make_loan(debtor, id=pk)
    Installment.objects.filter(loan=loan, sequence=1).update(id=pk)
    amount = Decimal("10.00")
    Payment.objects.create(
        id=pk,
        loan=loan,
        amount=amount,
        allocated_amount=amount,
        received_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC),
        method=Payment.Method.BANK_TRANSFER,
        external_ref=f"P-{pk}",
    )
    PromiseToPay.objects.create(id=pk, loan=loan, amount=amount, promised_date=dt.date(2026, 3, 20))
    # Broken: the loan may be given a new plan.
    RepaymentPlan.objects.create(id=pk, loan=loan, status=RepaymentPlan.Status.BROKEN)
    Note.objects.create(id=pk, debtor=debtor, author=collector, body="Called, no answer.")
    rule = AssignmentRule.objects.create(id=pk, name=f"Rule {pk}")
    rule.collectors.add(collector)
    ImportJob.objects.create(
        id=pk, kind="debtors", file=f"imports/{pk}.csv", original_name=f"{pk}.csv"
    )
    ReminderStrategy.objects.create(id=pk, slug=f"strategy-{pk}", name=f"Strategy {pk}")
    MessageTemplate.objects.create(
        id=pk, key=f"template-{pk}", channel="sms", language="en", body="Your payment is due."
    )
