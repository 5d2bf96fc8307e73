"""The priority is current after every event that feeds it: the nightly refresh finds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine

from cases import services
from cases.models import Case, DispositionCode
from cases.payments import payment_record
from cases.priorities import case_priorities_refresh
from debtors import services as ledger
from tests.factories import make_case, make_debtor, make_loan

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _settled_case(collector) -> Case:
    debtor = make_debtor()
    make_loan(debtor)
    case = make_case(debtor, collector)
    case_priorities_refresh(now=NOW)
    assert case_priorities_refresh(now=NOW) == 0
    return case


def _nothing_left(case: Case) -> int:
    case.refresh_from_db()
    assert case_priorities_refresh(now=NOW) == 0, "the event left the priority stale"
    return case.priority


def test_each_event_updates_the_priority_at_once(collector, supervisor):
    with time_machine.travel(NOW, tick=False):
        case = _settled_case(collector)
        loan = case.debtor.loans.get()

        payment_record(
            actor=collector,
            loan=loan,
            amount=Decimal("100.00"),
            received_at=NOW,
            method="cash",
            external_ref="E-1",
        )
        after_payment = _nothing_left(case)

        services.promise_record(
            actor=collector, loan=loan, amount=Decimal("50"), promised_date=dt.date(2026, 3, 2)
        )
        after_promise = _nothing_left(case)
        assert after_promise > after_payment  # a promise due today weighs

        code = DispositionCode.objects.get(code="refused")
        services.call_outcome_log(actor=collector, debtor=case.debtor, code=code)
        after_attempt = _nothing_left(case)
        assert case.last_contact_at == NOW

        ledger.loan_create(
            actor=supervisor,
            debtor=case.debtor,
            external_ref="L-MORE",
            currency="CNY",
            principal=Decimal("5000.00"),
            installments=[(dt.date(2026, 1, 1), Decimal("5000.00"))],
        )
        after_loan = _nothing_left(case)
        assert case.total_outstanding == Decimal("5200.00")
        assert after_loan > after_attempt

        services.callback_schedule(
            actor=collector, debtor=case.debtor, due_at=NOW + dt.timedelta(hours=1)
        )
        _nothing_left(case)


def test_a_refresh_twice_writes_nothing_the_second_time(collector):
    debtors = [make_debtor() for _ in range(3)]
    for debtor in debtors:
        make_loan(debtor)
        make_case(debtor, collector)
    assert case_priorities_refresh(now=NOW) == 3
    assert case_priorities_refresh(now=NOW) == 0
