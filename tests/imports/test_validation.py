"""Every problem a row can have is reported with its line, its column and a reason."""

from __future__ import annotations

import pytest
from django.utils import translation

from debtors.models import Debtor, Loan
from imports.models import ImportJob
from tests.factories import make_debtor, make_loan

from .conftest import messages, run_import

pytestmark = pytest.mark.django_db

LOAN_HEADER = "external_ref,debtor_ref,currency,principal,opened_on\n"


@pytest.fixture
def known_debtor():
    return make_debtor(external_ref="D-1")


def test_bad_date(known_debtor):
    job = run_import("loans", LOAN_HEADER + "L-1,D-1,CNY,100.00,2026-02-30\n")
    assert messages(job) == [
        (2, "opened_on", "2026-02-30 is not a date (expected YYYY-MM-DD, e.g. 2026-03-08).")
    ]
    assert job.status == ImportJob.Status.REJECTED


def test_negative_amount(known_debtor):
    job = run_import("loans", LOAN_HEADER + "L-1,D-1,CNY,-5.00,2026-01-01\n")
    assert messages(job) == [(2, "principal", "The amount must not be negative (got -5.00).")]


def test_not_an_amount_and_too_many_places(known_debtor):
    job = run_import(
        "loans", LOAN_HEADER + "L-1,D-1,CNY,1.234,2026-01-01\nL-2,D-1,CNY,12a,2026-01-01\n"
    )
    assert messages(job) == [
        (2, "principal", "CNY amounts have at most 2 decimal places (got 1.234)."),
        (
            3,
            "principal",
            "12a is not an amount (expected digits with a decimal point, e.g. 1234.50).",
        ),
    ]


def test_unknown_currency(known_debtor):
    job = run_import("loans", LOAN_HEADER + "L-1,D-1,XXY,100.00,2026-01-01\n")
    assert messages(job) == [
        (2, "currency", "Unknown currency code XXY (expected ISO 4217, e.g. CNY).")
    ]


def test_unknown_debtor_reference(known_debtor):
    job = run_import("loans", LOAN_HEADER + "L-1,D-404,CNY,100.00,2026-01-01\n")
    assert messages(job) == [
        (2, "debtor_ref", "No debtor has the reference D-404 (import the debtors first).")
    ]


def test_duplicate_reference_in_the_file(known_debtor):
    job = run_import(
        "loans",
        LOAN_HEADER + "L-1,D-1,CNY,100.00,2026-01-01\nL-2,D-1,CNY,1.00,\nL-1,D-1,CNY,5.00,\n",
    )
    assert messages(job) == [
        (4, "external_ref", "L-1 appears more than once in the file (first on line 2).")
    ]


def test_invalid_phone_and_email():
    job = run_import(
        "debtors",
        "external_ref,full_name,country,mobile,email\n"
        "D-1,Wang Fang,CN,12345,wang@\n"
        "D-2,Li Lei,CN,13800138000,li@example.com\n",
    )
    assert messages(job) == [
        (2, "mobile", "12345 is not a valid phone number for the country."),
        (2, "email", "wang@ is not a valid email address."),
    ]
    assert not Debtor.objects.exists()


def test_required_unknown_country_and_zone():
    job = run_import(
        "debtors",
        "external_ref,full_name,country,timezone\n,Nobody,ZZ,Mars/Olympus\n",
    )
    assert messages(job) == [
        (2, "external_ref", "external_ref is required."),
        (2, "country", "Unknown country code ZZ (expected ISO 3166 alpha-2, e.g. CN)."),
        (
            2,
            "timezone",
            "Unknown time zone Mars/Olympus (expected an IANA name such as Asia/Shanghai).",
        ),
    ]


def test_installments_unknown_loan_and_paid_more_than_due(known_debtor):
    make_loan(known_debtor, external_ref="L-1")
    job = run_import(
        "installments",
        "loan_ref,sequence,due_date,amount_due,amount_paid\n"
        "L-404,1,2026-01-15,100.00,\n"
        "L-1,1,2026-01-15,100.00,150.00\n"
        "L-1,x,2026-01-15,100.00,\n",
    )
    assert messages(job) == [
        (2, "loan_ref", "No loan has the reference L-404 (import the loans first)."),
        (3, "amount_paid", "The amount paid (150.00) is more than the amount due (100.00)."),
        (4, "sequence", "x is not a whole number of 1 or more."),
    ]


def test_payments_on_a_closed_loan_and_bad_instants(known_debtor):
    make_loan(known_debtor, external_ref="L-1", status=Loan.Status.PAID)
    job = run_import(
        "payments",
        "external_ref,loan_ref,amount,received_at,method\n"
        "P-1,L-1,10.00,2026-01-15T10:00:00+08:00,card\n"
        "P-2,L-1,10.00,2026-01-15 10:00,card\n"
        "P-3,L-1,0,2026-01-15T10:00:00Z,cheque\n",
    )
    assert messages(job) == [
        (2, "loan_ref", "Loan L-1 is closed (Paid); it takes no payments."),
        (
            3,
            "received_at",
            "2026-01-15 10:00 is not a date and time with a UTC offset "
            "(expected e.g. 2026-03-08T14:30:00+08:00).",
        ),
        (3, "loan_ref", "Loan L-1 is closed (Paid); it takes no payments."),
        (4, "amount", "The amount must be greater than zero."),
        (
            4,
            "method",
            "cheque is not one of: bank_transfer, card, wallet, direct_debit, cash, other.",
        ),
        (4, "loan_ref", "Loan L-1 is closed (Paid); it takes no payments."),
    ]


def test_a_missing_column_rejects_the_file():
    job = run_import("loans", "external_ref,currency\nL-1,CNY\n")
    assert job.status == ImportJob.Status.REJECTED
    assert messages(job) == [
        (
            1,
            "",
            "The header has no column debtor_ref, principal "
            "(it needs: external_ref, debtor_ref, currency, principal).",
        )
    ]


def test_a_row_that_cannot_be_read_names_its_line(known_debtor):
    job = run_import("loans", LOAN_HEADER + "L-1,D-1,CNY,100.00,2026-01-01\nL-2,D-1,CNY,1,2,3\n")
    assert job.status == ImportJob.Status.REJECTED
    [(line, _column, message)] = messages(job)
    assert line == 3
    assert message.startswith("Line 3 cannot be read")


def test_messages_follow_the_language_of_the_reader(known_debtor):
    job = run_import("loans", LOAN_HEADER + "L-1,D-1,CNY,-5.00,2026-01-01\n")
    issue = job.issues.get()
    with translation.override("zh-hans"):
        in_chinese = issue.message
    assert issue.message == "The amount must not be negative (got -5.00)."
    assert "-5.00" in in_chinese
