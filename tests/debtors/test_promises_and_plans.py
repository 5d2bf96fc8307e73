"""Promises kept or broken from payments; plans that add up and discounts that need approval."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from debtors.models import Loan, PlanInstallment, PromiseToPay, RepaymentPlan
from debtors.services import (
    payment_post,
    plan_activate,
    plan_approve_discount,
    plan_create,
    plan_schedule,
    plans_review,
    promise_create,
    promises_resolve,
)


def at(day, hour=12):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), dt.UTC)


MAR_1 = dt.date(2026, 3, 1)


def pay(loan, amount, day, ref):
    return payment_post(
        actor="test",
        loan=loan,
        amount=Decimal(amount),
        received_at=at(day),
        method="wallet",
        external_ref=ref,
        now=at(day),
    )


class TestPromises:
    def test_kept_when_payments_reach_the_amount_by_the_date(self, loan, collector):
        promise = promise_create(
            actor=collector,
            loan=loan,
            amount=Decimal("80.00"),
            promised_date=dt.date(2026, 3, 5),
            now=at(MAR_1),
        )
        pay(loan, "50.00", dt.date(2026, 3, 2), "a")
        promise.refresh_from_db()
        assert promise.status == PromiseToPay.Status.PENDING

        pay(loan, "30.00", dt.date(2026, 3, 5), "b")

        promise.refresh_from_db()
        assert promise.status == PromiseToPay.Status.KEPT
        assert promise.created_by == collector

    def test_broken_when_the_date_passes_short(self, loan, collector):
        promise = promise_create(
            actor=collector,
            loan=loan,
            amount=Decimal("80.00"),
            promised_date=dt.date(2026, 3, 5),
            now=at(MAR_1),
        )
        pay(loan, "50.00", dt.date(2026, 3, 4), "a")

        assert promises_resolve(now=at(dt.date(2026, 3, 5), 23)) == {"kept": 0, "broken": 0}
        assert promises_resolve(now=at(dt.date(2026, 3, 6), 1)) == {"kept": 0, "broken": 1}
        promise.refresh_from_db()
        assert promise.status == PromiseToPay.Status.BROKEN
        # Running again changes nothing.
        assert promises_resolve(now=at(dt.date(2026, 3, 7))) == {"kept": 0, "broken": 0}

    def test_payments_before_the_promise_do_not_count(self, loan, collector):
        pay(loan, "80.00", dt.date(2026, 2, 27), "early")
        promise = promise_create(
            actor=collector,
            loan=loan,
            amount=Decimal("80.00"),
            promised_date=dt.date(2026, 3, 5),
            now=at(MAR_1),
        )

        promises_resolve(now=at(dt.date(2026, 3, 6)))
        promise.refresh_from_db()
        assert promise.status == PromiseToPay.Status.BROKEN

    def test_a_promise_in_the_past_is_refused(self, loan, collector):
        with pytest.raises(ValidationError, match="past"):
            promise_create(
                actor=collector,
                loan=loan,
                amount=Decimal("1"),
                promised_date=dt.date(2026, 2, 1),
                now=at(MAR_1),
            )


class TestPlans:
    def schedule(self, total, count=3):
        return plan_schedule(
            total=Decimal(total),
            count=count,
            first_date=dt.date(2026, 3, 10),
            frequency="monthly",
            currency="CNY",
        )

    def test_calculator_adds_up_exactly(self):
        schedule = self.schedule("100.00")

        assert [amount for _d, amount in schedule] == [
            Decimal("33.33"),
            Decimal("33.33"),
            Decimal("33.34"),
        ]
        assert [d for d, _a in schedule] == [
            dt.date(2026, 3, 10),
            dt.date(2026, 4, 10),
            dt.date(2026, 5, 10),
        ]

    def test_calculator_keeps_month_ends(self):
        schedule = plan_schedule(
            total=Decimal("90"),
            count=3,
            first_date=dt.date(2026, 1, 31),
            frequency="monthly",
            currency="CNY",
        )
        assert [d for d, _a in schedule] == [
            dt.date(2026, 1, 31),
            dt.date(2026, 2, 28),
            dt.date(2026, 3, 31),
        ]

    def test_a_plan_that_does_not_add_up_is_refused(self, loan, collector):
        with pytest.raises(ValidationError, match="add up to 290.00"):
            plan_create(actor=collector, loan=loan, installments=self.schedule("290.00"))
        assert not RepaymentPlan.objects.exists()

    def test_plan_without_discount_activates_and_takes_payments(self, loan, collector):
        plan = plan_create(
            actor=collector, loan=loan, installments=self.schedule("300.00"), now=at(MAR_1)
        )
        plan_activate(actor=collector, plan=plan, now=at(MAR_1))

        loan.refresh_from_db()
        assert loan.status == Loan.Status.IN_PLAN
        assert loan.oldest_unpaid_due_date == dt.date(2026, 3, 10)

        pay(loan, "100.00", dt.date(2026, 3, 9), "p1")
        first = PlanInstallment.objects.get(plan=plan, sequence=1)
        assert first.amount_paid == Decimal("100.00")
        loan.refresh_from_db()
        assert loan.oldest_unpaid_due_date == dt.date(2026, 4, 10)

    def test_discount_needs_a_supervisor(self, loan, collector, other_collector, supervisor):
        plan = plan_create(
            actor=collector,
            loan=loan,
            installments=self.schedule("240.00"),
            discount_amount=Decimal("60.00"),
            discount_reason="Hardship settlement",
        )
        with pytest.raises(ValidationError, match="approval"):
            plan_activate(actor=collector, plan=plan)
        with pytest.raises(PermissionDenied):
            plan_approve_discount(actor=other_collector, plan=plan)

        plan_approve_discount(actor=supervisor, plan=plan)
        plan_activate(actor=collector, plan=plan)

        loan.refresh_from_db()
        plan.refresh_from_db()
        assert plan.discount_approved_by == supervisor
        assert loan.outstanding == Decimal("240.00")

    def test_discount_without_reason_is_refused(self, loan, collector):
        with pytest.raises(ValidationError, match="reason"):
            plan_create(
                actor=collector,
                loan=loan,
                installments=self.schedule("240.00"),
                discount_amount=Decimal("60.00"),
            )

    def test_kept_and_broken_plans(self, loan, debtor, collector):
        plan = plan_create(
            actor=collector, loan=loan, installments=self.schedule("300.00"), now=at(MAR_1)
        )
        plan_activate(actor=collector, plan=plan, now=at(MAR_1))
        pay(loan, "100.00", dt.date(2026, 3, 10), "k1")

        assert plans_review(now=at(dt.date(2026, 4, 12))) == {"kept": 0, "broken": 0}
        assert plans_review(now=at(dt.date(2026, 4, 14))) == {"kept": 0, "broken": 1}
        plan.refresh_from_db()
        loan.refresh_from_db()
        assert plan.status == RepaymentPlan.Status.BROKEN
        assert loan.status == Loan.Status.DELINQUENT

    def test_plan_paid_in_full_is_kept(self, loan, collector):
        plan = plan_create(
            actor=collector, loan=loan, installments=self.schedule("300.00"), now=at(MAR_1)
        )
        plan_activate(actor=collector, plan=plan, now=at(MAR_1))

        pay(loan, "300.00", dt.date(2026, 3, 10), "all")

        plan.refresh_from_db()
        loan.refresh_from_db()
        assert plan.status == RepaymentPlan.Status.KEPT
        assert loan.status == Loan.Status.PAID

    def test_only_one_open_plan_per_loan(self, loan, collector):
        plan_create(actor=collector, loan=loan, installments=self.schedule("300.00"))
        with pytest.raises(ValidationError, match="already has an open plan"):
            plan_create(actor=collector, loan=loan, installments=self.schedule("300.00"))
