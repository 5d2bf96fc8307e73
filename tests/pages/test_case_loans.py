"""The case page's loans: one statement on PostgreSQL, the same objects as the ORM's prefetch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine

from collections_app import selectors
from collections_app.services import plan_propose, promise_record
from debtors.services import payment_post
from tests.factories import make_loan

from .conftest import DAYTIME


def _fields(instance) -> dict:
    # repr: the same scale of each amount and the same zone of each instant, not only equal.
    return {f.attname: repr(getattr(instance, f.attname)) for f in instance._meta.concrete_fields}


def _picture(loans) -> list:
    """Every loan, and every row of every relation, field by field, in the order given."""
    picture = []
    for loan in loans:
        plans = [
            (_fields(plan), [_fields(pi) for pi in plan.installments.all()])
            for plan in loan.plans.all()
        ]
        picture.append(
            (
                _fields(loan),
                [_fields(i) for i in loan.installments.all()],
                [_fields(p) for p in loan.payments.all()],
                plans,
                [_fields(p) for p in loan.promises.all()],
            )
        )
    return picture


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
    work, debtor, loan, collector, django_assert_num_queries
):
    second = _portfolio(debtor, loan, collector)
    with django_assert_num_queries(1):
        loans = selectors.case_loans(debtor)
    with django_assert_num_queries(0):
        picture = _picture(loans)
        # The children know their loan and plan without a query, as after a prefetch.
        assert all(p.loan is loans[1] for p in loans[1].payments.all())
        assert all(pi.plan.loan_id == loan.pk for pi in loans[1].plans.all()[0].installments.all())
    by_orm = selectors.case_loans(debtor, one_statement=False)
    assert picture == _picture(by_orm)
    # The comparison means something: two loans (oldest first), each relation has rows.
    assert [x.pk for x in loans] == [second.pk, loan.pk]
    assert len(loans[1].payments.all()) == 2 and loans[1].plans.all()
    assert loans[1].plans.all()[0].installments.all().count() == 3
    assert loans[0].promises.all() and loans[0].installments.all()
    # A relation's queryset still behaves as one: counting, filtering.
    assert loans[0].installments.count() == 2
    assert loans[0].installments.filter(amount_due=Decimal("5")).count() == 1


def test_a_debtor_without_loans(work, debtor, loan):
    loan.delete()
    assert selectors.case_loans(debtor) == []
