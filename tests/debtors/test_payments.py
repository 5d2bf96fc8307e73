"""Payment posting: allocation oldest first, overpayment as credit, idempotent re-posting."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from debtors.models import Installment, Loan, Payment
from debtors.services import payment_post
from tests.factories import make_loan

RECEIVED = timezone.make_aware(dt.datetime(2026, 2, 20, 10, 0), dt.UTC)
NOW = RECEIVED


def post(loan, amount, ref="P-1", **kwargs):
    return payment_post(
        actor="test",
        loan=loan,
        amount=Decimal(amount),
        received_at=RECEIVED,
        method="bank_transfer",
        external_ref=ref,
        now=NOW,
        **kwargs,
    )


def paid(loan):
    return [i.amount_paid for i in Installment.objects.filter(loan=loan).order_by("sequence")]


def test_partial_payment_goes_to_the_oldest_installment(loan):
    result = post(loan, "60.00")

    assert result.created
    assert paid(loan) == [Decimal("60.00"), 0, 0]
    loan.refresh_from_db()
    assert loan.principal_balance == Decimal("240.00")
    assert loan.oldest_unpaid_due_date == dt.date(2026, 1, 15)
    assert result.payment.allocated_amount == Decimal("60.00")
    assert result.payment.credit_amount == 0


def test_payment_spanning_installments_pays_them_in_due_order(loan):
    post(loan, "150.00")

    assert paid(loan) == [Decimal("100.00"), Decimal("50.00"), 0]
    first = Installment.objects.get(loan=loan, sequence=1)
    assert first.paid_at == RECEIVED
    loan.refresh_from_db()
    assert loan.oldest_unpaid_due_date == dt.date(2026, 2, 15)
    assert loan.days_past_due(dt.date(2026, 2, 20)) == 5


def test_exact_payoff_marks_the_loan_paid(loan):
    post(loan, "300.00")

    loan.refresh_from_db()
    assert paid(loan) == [Decimal("100.00")] * 3
    assert loan.outstanding == 0
    assert loan.credit_balance == 0
    assert loan.oldest_unpaid_due_date is None
    assert loan.status == Loan.Status.PAID


def test_overpayment_is_kept_as_credit(loan):
    result = post(loan, "350.00")

    loan.refresh_from_db()
    assert result.payment.allocated_amount == Decimal("300.00")
    assert result.payment.credit_amount == Decimal("50.00")
    assert loan.credit_balance == Decimal("50.00")
    assert loan.outstanding == 0


def test_posting_the_same_payment_twice_changes_nothing(loan):
    first = post(loan, "60.00", ref="BANK-77", source="bank")
    second = post(loan, "60.00", ref="BANK-77", source="bank")

    assert not second.created
    assert second.payment.pk == first.payment.pk
    assert Payment.objects.count() == 1
    assert paid(loan) == [Decimal("60.00"), 0, 0]


def test_same_reference_from_another_source_is_another_payment(loan):
    post(loan, "10.00", ref="X-1", source="bank")
    post(loan, "10.00", ref="X-1", source="wallet")

    assert Payment.objects.count() == 2
    assert paid(loan) == [Decimal("20.00"), 0, 0]


def test_payment_balances_reduce_fees_then_interest_then_principal(debtor):
    loan = make_loan(
        debtor,
        installments=[(dt.date(2026, 1, 15), Decimal("120.00"))],
        principal=Decimal("100.00"),
        principal_balance=Decimal("100.00"),
        interest_balance=Decimal("15.00"),
        fees_balance=Decimal("5.00"),
    )
    post(loan, "30.00")

    loan.refresh_from_db()
    assert (loan.fees_balance, loan.interest_balance, loan.principal_balance) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("90.00"),
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5.00", "must not be negative"), ("0", "greater than zero"), ("1.005", "decimal places")],
)
def test_bad_amounts_are_refused_and_nothing_is_written(loan, amount, message):
    with pytest.raises(ValidationError, match=message):
        post(loan, amount)

    assert Payment.objects.count() == 0
    assert paid(loan) == [0, 0, 0]


def test_float_amounts_are_refused(loan):
    with pytest.raises(ValidationError, match="decimal"):
        payment_post(
            actor="t", loan=loan, amount=10.5, received_at=RECEIVED, method="cash", external_ref="F"
        )


def test_payment_on_a_closed_loan_is_refused(loan):
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.CHARGED_OFF)

    with pytest.raises(ValidationError, match="takes no payments"):
        post(loan, "10.00")
    assert Payment.objects.count() == 0


def test_unknown_method_is_named(loan):
    with pytest.raises(ValidationError, match="Unknown payment method"):
        payment_post(
            actor="t",
            loan=loan,
            amount=Decimal("1"),
            received_at=RECEIVED,
            method="gold",
            external_ref="G",
        )


def test_the_database_refuses_a_negative_payment(loan):
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            loan=loan,
            amount=Decimal("-1"),
            allocated_amount=Decimal("-1"),
            received_at=RECEIVED,
            method="cash",
            external_ref="NEG",
        )


def test_the_database_refuses_overpaying_an_installment(loan):
    with pytest.raises(IntegrityError), transaction.atomic():
        Installment.objects.filter(loan=loan, sequence=1).update(amount_paid=Decimal("100.01"))


def test_jpy_amounts_have_no_decimals(debtor):
    loan = make_loan(debtor, currency="JPY", installments=[(dt.date(2026, 1, 15), Decimal("1000"))])

    with pytest.raises(ValidationError, match="JPY amounts have at most 0 decimal places"):
        post(loan, "10.50")
    assert connection.vendor == "postgresql"
