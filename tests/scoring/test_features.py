"""The score's features: the hand-written SQL gives what the ORM gives, sees nothing after the
scoring date, and bins as the Python definition does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from compliance.models import ContactAttempt
from debtors.models import Installment, Payment, PromiseToPay, RepaymentPlan
from scoring.features import (
    CONTACT_ONCE,
    FEATURE_NAMES,
    FEATURES,
    NEVER_PAID_DAYS,
    PLAN_ACTIVE,
    PLAN_NONE,
    feature_sql,
)
from tests.factories import make_contact_point, make_debtor, make_loan

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 1)
UTC = dt.UTC


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def features(dates, *, with_outcome=True, open_now=False) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(feature_sql(with_outcome=with_outcome, open_now=open_now), [dates])
        columns = [c.name for c in cursor.description]
        return {(row[0], row[1]): dict(zip(columns, row, strict=True)) for row in cursor}


def _pay(loan, amount: str, when: dt.datetime, ref: str) -> Payment:
    return Payment.objects.create(
        loan=loan,
        amount=Decimal(amount),
        received_at=when,
        method="bank_transfer",
        external_ref=ref,
        allocated_amount=Decimal(amount),
    )


def _call(debtor, point, outcome: str, when: dt.datetime) -> None:
    ContactAttempt.objects.create(
        debtor=debtor,
        contact_point=point,
        channel="call",
        direction="outbound",
        outcome=outcome,
        occurred_at=when,
        actor_label="tests",
    )


@pytest.fixture
def history():
    """A debtor two installments behind on 1 March 2026, with a broken and a kept promise,
    two calls (one reached), an active plan, and one payment in February."""
    debtor = make_debtor()
    point = make_contact_point(debtor)
    loan = make_loan(
        debtor,
        installments=[
            (dt.date(2026, 1, 10), Decimal("100.00")),
            (dt.date(2026, 2, 10), Decimal("100.00")),
            (dt.date(2026, 3, 10), Decimal("100.00")),
            (dt.date(2026, 4, 10), Decimal("100.00")),
        ],
        opened_on=dt.date(2025, 6, 20),
    )
    _pay(loan, "50.00", _at(dt.date(2026, 2, 14)), "P1")
    PromiseToPay.objects.create(
        loan=loan,
        amount=Decimal("50.00"),
        promised_date=dt.date(2026, 2, 14),
        status="kept",
        resolved_at=_at(dt.date(2026, 2, 14)),
    )
    PromiseToPay.objects.create(
        loan=loan,
        amount=Decimal("80.00"),
        promised_date=dt.date(2026, 2, 20),
        status="broken",
        resolved_at=_at(dt.date(2026, 2, 21), 1),
    )
    _call(debtor, point, "no_answer", _at(dt.date(2026, 2, 2)))
    _call(debtor, point, "conversation", _at(dt.date(2026, 2, 12)))
    RepaymentPlan.objects.create(
        loan=loan,
        status="active",
        frequency="monthly",
        outstanding_at_creation=Decimal("350.00"),
        total_amount=Decimal("350.00"),
        activated_at=_at(dt.date(2026, 2, 25)),
    )
    return debtor, point, loan


def test_the_sql_gives_what_the_history_says(history):
    debtor, _point, _loan = history
    row = features([D])[(D, debtor.pk)]
    assert row["days_past_due"] == (D - dt.date(2026, 1, 10)).days  # the January one is unpaid
    assert row["balance_share"] == 87  # 350 of 400 owed
    assert row["broken_promises"] == 1
    assert row["kept_promises"] == 1
    assert row["days_since_payment"] == (D - dt.date(2026, 2, 14)).days
    assert row["contact_result"] == CONTACT_ONCE
    assert row["reminders"] == 0
    assert row["plan_state"] == PLAN_ACTIVE
    assert row["loan_age_months"] == (D - dt.date(2025, 6, 20)).days // 30
    assert row["open_loans"] == 1
    assert row["paid"] is False


def test_the_sql_agrees_with_the_orm_for_every_feature(history):
    """The same facts counted with the ORM, feature by feature."""
    debtor, _point, loan = history
    row = features([D])[(D, debtor.pk)]
    start = _at(D, 0)
    unpaid = Installment.objects.filter(loan=loan, due_date__lt=D).exclude(paid_at__lt=start)
    oldest = min(i.due_date for i in unpaid)
    paid = sum(p.amount for p in Payment.objects.filter(loan=loan, received_at__lt=start))
    scheduled = sum(i.amount_due for i in Installment.objects.filter(loan=loan))
    promises = PromiseToPay.objects.filter(
        loan__debtor=debtor,
        resolved_at__lt=start,
        resolved_at__gte=start - dt.timedelta(days=180),
    )
    expected = {
        "days_past_due": (D - oldest).days,
        "balance_share": int(100 * (scheduled - paid) / scheduled),
        "broken_promises": promises.filter(status="broken").count(),
        "kept_promises": promises.filter(status="kept").count(),
    }
    assert {name: row[name] for name in expected} == expected


def test_no_feature_sees_the_future(history):
    debtor, point, loan = history
    before = features([D], with_outcome=False)[(D, debtor.pk)]
    # Everything below happens on or after the scoring date.
    _pay(loan, "300.00", _at(D, 0), "P2")
    Installment.objects.filter(loan=loan).update(paid_at=_at(D, 0))
    _call(debtor, point, "conversation", _at(D, 1))
    ContactAttempt.objects.create(
        debtor=debtor,
        channel="sms",
        direction="outbound",
        outcome="delivered",
        occurred_at=_at(D, 2),
        actor_label="tests",
    )
    PromiseToPay.objects.create(
        loan=loan,
        amount=Decimal("10.00"),
        promised_date=D,
        status="broken",
        resolved_at=_at(D + dt.timedelta(days=1)),
    )
    RepaymentPlan.objects.filter(loan=loan).update(
        status="broken", closed_at=_at(D + dt.timedelta(days=2))
    )
    make_loan(debtor, opened_on=D)
    after = features([D])[(D, debtor.pk)]
    assert {n: after[n] for n in FEATURE_NAMES} == {n: before[n] for n in FEATURE_NAMES}
    # ... and the outcome does see the payment.
    assert after["paid"] is True


def test_the_outcome_is_a_payment_within_thirty_days():
    debtor = make_debtor()
    loan = make_loan(debtor, installments=[(dt.date(2026, 2, 1), Decimal("100.00"))])
    _pay(loan, "10.00", _at(D + dt.timedelta(days=30), 0), "late")  # day 31: outside
    assert features([D])[(D, debtor.pk)]["paid"] is False
    _pay(loan, "10.00", _at(D + dt.timedelta(days=29), 23), "in-time")
    assert features([D])[(D, debtor.pk)]["paid"] is True


def test_a_debtor_without_history_has_the_neutral_values():
    debtor = make_debtor()
    make_loan(debtor, installments=[(dt.date(2026, 4, 1), Decimal("100.00"))])
    row = features([D])[(D, debtor.pk)]
    assert row["days_past_due"] == 0
    assert row["days_since_payment"] == NEVER_PAID_DAYS
    assert row["plan_state"] == PLAN_NONE
    assert row["contact_result"] == 0


def test_a_paid_off_or_not_yet_opened_loan_is_not_in_the_snapshot():
    debtor = make_debtor()
    loan = make_loan(debtor, installments=[(dt.date(2026, 1, 1), Decimal("100.00"))])
    _pay(loan, "100.00", _at(dt.date(2026, 1, 2)), "all")
    later = make_debtor()
    make_loan(later, opened_on=D)
    rows = features([D, D + dt.timedelta(days=1)])
    assert (D, debtor.pk) not in rows
    assert (D, later.pk) not in rows
    assert (D + dt.timedelta(days=1), later.pk) in rows


def test_open_now_leaves_out_loans_closed_today():
    debtor = make_debtor()
    make_loan(debtor, status="charged_off")
    today = timezone.localdate()
    assert (today, debtor.pk) in features([today], with_outcome=False)
    assert (today, debtor.pk) not in features([today], with_outcome=False, open_now=True)


def test_the_sql_bins_as_python_does():
    """Every edge, either side of it, and a spread of other values."""
    values = sorted(
        {e + d for f in FEATURES for e in f.edges for d in (-1, 0, 1)}
        | {-5, 0, 1000, NEVER_PAID_DAYS, *range(0, 400, 7)}
    )
    with connection.cursor() as cursor:
        for feature in FEATURES:
            cursor.execute(
                f"SELECT v, {feature.bin_sql('v')} FROM unnest(%s::int[]) AS v",  # noqa: S608
                [values],
            )
            assert dict(cursor.fetchall()) == {v: feature.bin_of(v) for v in values}, feature.name
