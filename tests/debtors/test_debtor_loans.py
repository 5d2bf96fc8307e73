"""A debtor's loans with everything on them: one statement (``DEBTOR_LOANS``), the same rows,
fields and order as ``prefetch_related`` reads them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.db.models import Prefetch

from cases.services import plan_propose, promise_record
from debtors.models import Loan, PlanInstallment
from debtors.selectors import LOAN_LISTS, LOAN_ORDER, PLAN_INSTALLMENT_ORDER, debtor_loans
from debtors.services import payment_post
from tests.factories import make_case, make_loan

DAYTIME = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _by_orm(debtor) -> list[Loan]:
    """The reference: the same lists read with ``Prefetch(to_attr=...)``, one query each."""

    def ordered(attribute):
        model, order = LOAN_LISTS[attribute]
        return model.objects.order_by(*order)

    plan_installments = PlanInstallment.objects.order_by(*PLAN_INSTALLMENT_ORDER)
    plans = ordered("plan_list").prefetch_related(
        Prefetch("installments", queryset=plan_installments, to_attr="installment_list")
    )
    return list(
        Loan.objects.filter(debtor=debtor)
        .order_by(*LOAN_ORDER)
        .prefetch_related(
            Prefetch(
                "installments", queryset=ordered("installment_list"), to_attr="installment_list"
            ),
            Prefetch("payments", queryset=ordered("payment_list"), to_attr="payment_list"),
            Prefetch("plans", queryset=plans, to_attr="plan_list"),
            Prefetch("promises", queryset=ordered("promise_list"), to_attr="promise_list"),
        )
    )


def _fields(instance) -> dict:
    # repr: the same scale of each amount and the same zone of each instant, not only equal.
    return {f.attname: repr(getattr(instance, f.attname)) for f in instance._meta.concrete_fields}


def _picture(loans) -> list:
    """Every loan, and every row of every list, field by field, in the order given."""
    return [
        (
            _fields(loan),
            [_fields(i) for i in loan.installment_list],
            [_fields(p) for p in loan.payment_list],
            [
                (_fields(plan), [_fields(pi) for pi in plan.installment_list])
                for plan in loan.plan_list
            ],
            [_fields(p) for p in loan.promise_list],
        )
        for loan in loans
    ]


def _portfolio(debtor, loan, collector):
    second = make_loan(
        debtor,
        installments=[(dt.date(2026, 2, 1), Decimal("80.00")), (dt.date(2026, 2, 1), Decimal("5"))],
        opened_on=dt.date(2025, 11, 1),
    )
    with time_machine.travel(DAYTIME, tick=False):
        for n, amount in enumerate(("30.00", "12.3400")):
            payment_post(
                actor=collector,
                loan=loan,
                amount=Decimal(amount),
                received_at=DAYTIME - dt.timedelta(days=n),
                method="bank_transfer",
                external_ref=f"case-loans-{n}",
            )
        promise_record(
            actor=collector, loan=second, amount=Decimal("40"), promised_date=DAYTIME.date()
        )
        loan.refresh_from_db()  # the payments lowered its balance
        plan_propose(
            actor=collector,
            loan=loan,
            count=3,
            first_date=DAYTIME.date() + dt.timedelta(days=7),
            frequency="monthly",
        )
    return second


def test_one_statement_gives_what_the_orm_prefetch_gives(
    debtor, loan, collector, django_assert_num_queries
):
    make_case(debtor, collector)
    second = _portfolio(debtor, loan, collector)
    with django_assert_num_queries(1):
        loans = debtor_loans(debtor)
    with django_assert_num_queries(0):
        picture = _picture(loans)
        # The rows know their loan and plan without a query.
        assert all(p.loan is loans[1] for p in loans[1].payment_list)
        assert all(pi.plan.loan_id == loan.pk for pi in loans[1].plan_list[0].installment_list)
    with django_assert_num_queries(6):
        by_orm = _by_orm(debtor)
    assert picture == _picture(by_orm)
    # The comparison means something: two loans (oldest first), each list has rows.
    assert [x.pk for x in loans] == [second.pk, loan.pk]
    assert len(loans[1].payment_list) == 2 and loans[1].plan_list
    assert len(loans[1].plan_list[0].installment_list) == 3
    assert loans[0].promise_list and len(loans[0].installment_list) == 2


def test_a_debtor_without_loans(debtor, loan):
    loan.delete()
    assert debtor_loans(debtor) == []
