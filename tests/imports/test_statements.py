"""A portfolio imported through the COPY path is stored as the ledger's services store it.

The staging checks (``imports.staging``) and the set-based upserts (``imports.upsert``) are
hand-written SQL. The same debtors, contact points, loans, installments and payments are
imported from CSV files under references ``I-...`` and built with the ledger's services
(``debtor_create``, ``contact_point_add``, ``loan_create``, ``payment_record``, the ORM for
what only a file can say: a balance or an amount paid given outright) under references
``S-...``. Every stored row of the two must agree field by field, ids, external references
and creation timestamps aside: the debtors and their cases and contact points, the loans with
their derived balances, status and oldest unpaid due date, the installments with what is
paid, the payments and their allocations. The same holds after a changed debtors file and a
changed loans file are imported again and the same changes are made through the services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from cases.models import Case
from cases.payments import payment_record
from cases.workflow import cases_follow_ledger
from debtors.audit import acting_as
from debtors.models import Debtor, Installment, Loan, Payment, PaymentAllocation
from debtors.services import contact_point_add, debtor_create, loan_create, loan_refresh_derived
from imports.models import ImportJob

from .conftest import messages, run_import

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
ACTOR = "tests"

DEBTORS = """\
external_ref,full_name,country,region,timezone,preferred_language,national_id,date_of_birth,\
mobile,landline,email,address
I-D1,Wang Fang,CN,CN-BJ,Asia/Shanghai,zh-hans,110101199003071234,1990-03-07,13800138000,,\
wang.fang@example.com,"1 Chang'an Ave, Beijing"
I-D2,Maria Lopez,US,US-NY,America/New_York,en,,1985-11-20,+1 212 555 0123,+1 718 555 0100,\
Maria@Example.COM,
I-D3, Li Lei ,CN,,,,,,139 0013 9000,,,
"""
LOANS = """\
external_ref,debtor_ref,currency,principal,principal_balance,interest_balance,fees_balance,\
opened_on,product,risk_band
I-L1,I-D1,CNY,3000.00,3000.00,0.00,0.00,2025-12-01,personal,medium
I-L2,I-D2,USD,1200.00,900.00,25.50,10.00,2025-10-15,card,high
I-L3,I-D3,CNY,500,,,,,,
I-L4,I-D1,CNY,800.00,0.00,0.00,0.00,2025-06-01,bnpl,low
I-L6,I-D2,USD,400.00,,,,2026-02-01,card,medium
I-L7,I-D3,CNY,100.00,0.00,,,2025-01-10,,
"""
INSTALLMENTS = """\
loan_ref,sequence,due_date,amount_due,amount_paid
I-L1,1,2026-01-15,1000.00,1000.00
I-L1,2,2026-02-15,1000.00,0.00
I-L1,3,2026-03-15,1000.00,
I-L2,1,2026-01-01,300.00,300.00
I-L2,2,2026-02-01,300.00,
I-L2,3,2026-04-01,335.50,
I-L4,1,2025-07-01,800.00,800.00
I-L6,1,2026-03-01,400.00,
"""
PAYMENTS = """\
external_ref,loan_ref,amount,received_at,method,source
I-TX1,I-L1,500.00,2026-02-20T09:30:00+08:00,bank_transfer,core-bank
I-TX2,I-L2,100.00,2026-02-02T15:00:00-05:00,card,
I-TX3,I-L3,50,2026-02-25T10:00:00Z,cash,core-bank
"""
# Imported again: a new name, a new landline, a new email; unchanged rows stay as they are.
DEBTORS_AGAIN = """\
external_ref,full_name,country,landline,email
I-D1,Wang Fang,CN,+86 10 6552 9988,
I-D2,Maria Lopez,US,,
I-D3,Li Lei (Leo),CN,,li.lei@example.com
"""
# The balances as they stand after the payments, restated, but for: a changed interest
# balance, a changed band (the empty product keeps the stored one), a loan with nothing owed
# any more, an unchanged loan and a new one.
LOANS_AGAIN = """\
external_ref,debtor_ref,currency,principal,principal_balance,interest_balance,product,risk_band
I-L1,I-D1,CNY,3000.00,2500.00,12.50,personal,medium
I-L2,I-D2,USD,1200.00,835.50,0.00,,low
I-L3,I-D3,CNY,500,0,,,
I-L4,I-D1,CNY,800.00,0.00,0.00,bnpl,low
I-L5,I-D3,CNY,200.00,,,,
"""


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _import(kind: str, content: str) -> ImportJob:
    job = run_import(kind, content)
    assert job.status == ImportJob.Status.DONE, messages(job)
    return job


def _both_portfolios() -> None:
    for kind, content in (
        ("debtors", DEBTORS),
        ("loans", LOANS),
        ("installments", INSTALLMENTS),
        ("payments", PAYMENTS),
    ):
        _import(kind, content)
    _build_with_services()


def _build_with_services() -> None:
    """The files' portfolio through the ledger's services, under ``S-`` references."""
    wang = debtor_create(
        actor=ACTOR,
        external_ref="S-D1",
        full_name="Wang Fang",
        country="CN",
        region="CN-BJ",
        timezone="Asia/Shanghai",
        preferred_language="zh-hans",
        national_id="110101199003071234",
        date_of_birth=dt.date(1990, 3, 7),
        contact_points=[
            {"kind": "mobile", "value": "13800138000"},
            {"kind": "email", "value": "wang.fang@example.com"},
            {"kind": "address", "value": "1 Chang'an Ave, Beijing"},
        ],
    )
    maria = debtor_create(
        actor=ACTOR,
        external_ref="S-D2",
        full_name="Maria Lopez",
        country="US",
        region="US-NY",
        timezone="America/New_York",
        preferred_language="en",
        date_of_birth=dt.date(1985, 11, 20),
        contact_points=[
            {"kind": "mobile", "value": "+1 212 555 0123"},
            {"kind": "landline", "value": "+1 718 555 0100"},
            {"kind": "email", "value": "Maria@Example.COM"},
        ],
    )
    li = debtor_create(
        actor=ACTOR,
        external_ref="S-D3",
        full_name="Li Lei",
        country="CN",
        contact_points=[{"kind": "mobile", "value": "139 0013 9000"}],
    )
    with acting_as(ACTOR):
        for debtor in (wang, maria, li):
            Case.objects.create(debtor=debtor)

    amount = Decimal
    first = loan_create(
        actor=ACTOR,
        debtor=wang,
        external_ref="S-L1",
        currency="CNY",
        principal=amount("3000.00"),
        installments=[
            (dt.date(2026, 1, 15), amount("1000.00")),
            (dt.date(2026, 2, 15), amount("1000.00")),
            (dt.date(2026, 3, 15), amount("1000.00")),
        ],
        opened_on=dt.date(2025, 12, 1),
        product="personal",
        risk_band="medium",
    )
    second = loan_create(
        actor=ACTOR,
        debtor=maria,
        external_ref="S-L2",
        currency="USD",
        principal=amount("1200.00"),
        installments=[
            (dt.date(2026, 1, 1), amount("300.00")),
            (dt.date(2026, 2, 1), amount("300.00")),
            (dt.date(2026, 4, 1), amount("335.50")),
        ],
        interest_balance=amount("25.50"),
        fees_balance=amount("10.00"),
        opened_on=dt.date(2025, 10, 15),
        product="card",
        risk_band="high",
    )
    third = loan_create(
        actor=ACTOR,
        debtor=li,
        external_ref="S-L3",
        currency="CNY",
        principal=amount("500"),
        installments=[],
    )
    fourth = loan_create(
        actor=ACTOR,
        debtor=wang,
        external_ref="S-L4",
        currency="CNY",
        principal=amount("800.00"),
        installments=[(dt.date(2025, 7, 1), amount("800.00"))],
        opened_on=dt.date(2025, 6, 1),
        product="bnpl",
        risk_band="low",
    )
    loan_create(
        actor=ACTOR,
        debtor=maria,
        external_ref="S-L6",
        currency="USD",
        principal=amount("400.00"),
        installments=[(TODAY, amount("400.00"))],
        opened_on=dt.date(2026, 2, 1),
        product="card",
        risk_band="medium",
    )
    seventh = loan_create(
        actor=ACTOR,
        debtor=li,
        external_ref="S-L7",
        currency="CNY",
        principal=amount("100.00"),
        installments=[],
        opened_on=dt.date(2025, 1, 10),
    )
    # What only a file states outright: a balance below the principal, amounts already paid.
    _change(second, principal_balance=amount("900.00"))
    _change(fourth, principal_balance=amount("0.00"))
    _change(seventh, principal_balance=amount("0.00"))
    for loan, sequence in ((first, 1), (second, 1), (fourth, 1)):
        installment = loan.installments.get(sequence=sequence)
        Installment.objects.filter(pk=installment.pk).update(amount_paid=installment.amount_due)
    for loan in (first, second, fourth, seventh):
        loan_refresh_derived(loan=Loan.objects.get(pk=loan.pk), today=TODAY)

    for ref, loan, value, received_at, method, source in (
        ("S-TX1", first, "500.00", "2026-02-20T09:30:00+08:00", "bank_transfer", "core-bank"),
        ("S-TX2", second, "100.00", "2026-02-02T15:00:00-05:00", "card", "import"),
        ("S-TX3", third, "50", "2026-02-25T10:00:00+00:00", "cash", "core-bank"),
    ):
        payment_record(
            actor=ACTOR,
            loan=loan,
            amount=amount(value),
            received_at=dt.datetime.fromisoformat(received_at),
            method=method,
            external_ref=ref,
            source=source,
        )


def _change_with_services() -> None:
    """``DEBTORS_AGAIN`` and ``LOANS_AGAIN`` through the services and the ORM."""
    li = Debtor.objects.get(external_ref="S-D3")
    li.full_name = "Li Lei (Leo)"
    with acting_as(ACTOR):
        li.save()
    contact_point_add(actor=ACTOR, debtor=li, kind="email", value="li.lei@example.com")
    wang = Debtor.objects.get(external_ref="S-D1")
    contact_point_add(actor=ACTOR, debtor=wang, kind="landline", value="+86 10 6552 9988")

    for ref, fields in (
        ("S-L1", {"interest_balance": Decimal("12.50")}),
        ("S-L2", {"risk_band": "low"}),
        ("S-L3", {"principal_balance": Decimal("0")}),
    ):
        loan = Loan.objects.get(external_ref=ref)
        _change(loan, **fields)
        loan_refresh_derived(loan=Loan.objects.get(pk=loan.pk), today=TODAY)
    loan_create(
        actor=ACTOR,
        debtor=li,
        external_ref="S-L5",
        currency="CNY",
        principal=Decimal("200.00"),
        installments=[],
    )
    # The loans above were changed by saves, not services: their cases follow as an import's do.
    cases_follow_ledger(
        debtor_ids=Debtor.objects.filter(external_ref__startswith="S-").values_list(
            "id", flat=True
        ),
        actor=ACTOR,
    )


def _change(loan: Loan, **fields) -> None:
    for name, value in fields.items():
        setattr(loan, name, value)
    with acting_as(ACTOR):
        loan.save(update_fields=list(fields))


def _own(row, *left_out: str) -> dict:
    """A row's stored fields, less its id, the references and creation time named."""
    return {
        f.attname: getattr(row, f.attname)
        for f in type(row)._meta.concrete_fields
        if not f.primary_key and f.attname not in {"created_at", *left_out}
    }


def _ref(value: str, prefix: str) -> str:
    assert value.startswith(prefix), value
    return value.removeprefix(prefix)


def stored(prefix: str) -> dict[str, dict]:
    """Everything stored for the portfolio under ``prefix``, keyed without the prefix."""
    debtors = Debtor.objects.filter(external_ref__startswith=prefix)
    loans = Loan.objects.filter(external_ref__startswith=prefix).select_related("debtor")
    payments = Payment.objects.filter(loan__in=loans).select_related("loan")
    return {
        "debtors": {_ref(d.external_ref, prefix): _own(d, "external_ref") for d in debtors},
        "cases": {
            _ref(c.debtor.external_ref, prefix): _own(c, "debtor_id")
            for c in Case.objects.filter(debtor__in=debtors).select_related("debtor")
        },
        "contact points": {
            _ref(d.external_ref, prefix): sorted(
                (_own(p, "debtor_id") for p in d.contact_points.all()),
                key=lambda p: (p["kind"], p["value"]),
            )
            for d in debtors
        },
        "loans": {
            _ref(loan.external_ref, prefix): {
                **_own(loan, "external_ref", "debtor_id"),
                "debtor": _ref(loan.debtor.external_ref, prefix),
            }
            for loan in loans
        },
        "installments": {
            (_ref(i.loan.external_ref, prefix), i.sequence): _own(i, "loan_id")
            for i in Installment.objects.filter(loan__in=loans).select_related("loan")
        },
        "payments": {
            _ref(p.external_ref, prefix): {
                **_own(p, "external_ref", "loan_id"),
                "loan": _ref(p.loan.external_ref, prefix),
            }
            for p in payments
        },
        "allocations": sorted(
            (
                _ref(a.payment.external_ref, prefix),
                _ref(a.installment.loan.external_ref, prefix),
                a.installment.sequence,
                a.plan_installment_id,
                a.amount,
            )
            for a in PaymentAllocation.objects.filter(payment__in=payments).select_related(
                "payment", "installment__loan"
            )
        ),
    }


def test_an_imported_portfolio_is_stored_as_the_services_store_it():
    _both_portfolios()

    imported = stored("I-")
    assert imported == stored("S-")

    # Not vacuous: every kind of row is there, with derived state of every sort.
    sizes = {name: len(rows) for name, rows in imported.items()}
    assert sizes == {
        "debtors": 3,
        "cases": 3,
        "contact points": 3,
        "loans": 6,
        "installments": 8,
        "payments": 3,
        "allocations": 2,
    }
    assert sum(len(points) for points in imported["contact points"].values()) == 7
    loans = imported["loans"]
    assert {loan["status"] for loan in loans.values()} == {"delinquent", "current", "paid"}
    assert loans["L1"]["oldest_unpaid_due_date"] == dt.date(2026, 2, 15)
    assert (loans["L6"]["status"], loans["L6"]["oldest_unpaid_due_date"]) == ("current", TODAY)
    assert (loans["L4"]["status"], loans["L7"]["status"]) == ("paid", "paid")
    assert loans["L3"]["credit_balance"] == Decimal("50")
    assert imported["installments"]["L1", 2]["amount_paid"] == Decimal("500")
    assert imported["payments"]["TX2"]["source"] == "import"


def test_an_import_of_changed_files_changes_what_the_services_change():
    _both_portfolios()
    before = stored("I-")

    debtors_job = _import("debtors", DEBTORS_AGAIN)
    loans_job = _import("loans", LOANS_AGAIN)
    _change_with_services()

    after = stored("I-")
    assert after == stored("S-")

    # The files changed some rows and left others as they were, in both.
    counts = (debtors_job.created_count, debtors_job.updated_count, debtors_job.unchanged_count)
    assert counts == (0, 2, 1)
    counts = (loans_job.created_count, loans_job.updated_count, loans_job.unchanged_count)
    assert counts == (1, 3, 1)
    assert after["debtors"]["D3"] != before["debtors"]["D3"]
    assert after["debtors"]["D1"] == before["debtors"]["D1"]
    assert after["debtors"]["D2"] == before["debtors"]["D2"]
    assert len(after["contact points"]["D1"]) == len(before["contact points"]["D1"]) + 1
    changed = {ref for ref in before["loans"] if after["loans"][ref] != before["loans"][ref]}
    assert changed == {"L1", "L2", "L3"}
    assert after["loans"]["L2"]["product"] == "card"
    assert (after["loans"]["L3"]["status"], before["loans"]["L3"]["status"]) == ("paid", "current")
    assert set(after["loans"]) - set(before["loans"]) == {"L5"}


def test_an_empty_principal_balance_keeps_the_stored_balance():
    """The format: an empty cell of an optional column keeps what is stored. A loans file
    without balances, imported after a payment, leaves the balance the payment left."""
    _both_portfolios()
    assert stored("I-") == stored("S-")
    balance = stored("I-")["loans"]["L1"]["principal_balance"]
    assert balance == Decimal("2500")

    job = _import("loans", "external_ref,debtor_ref,currency,principal\nI-L1,I-D1,CNY,3000.00\n")

    # Through the services the file asks for no change at all.
    assert stored("I-")["loans"]["L1"]["principal_balance"] == balance
    assert stored("I-") == stored("S-")
    assert (job.updated_count, job.unchanged_count) == (0, 1)
