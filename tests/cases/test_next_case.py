"""Next case: what it never offers, its order, and that offering changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from cases import services
from cases.models import Callback, Case, DispositionCode
from cases.selectors import next_case
from compliance.models import ContactAttempt, Direction, Outcome
from debtors.models import PromiseToPay
from tests.api.conftest import token_client
from tests.factories import make_case, make_debtor, make_loan

# 18:00 in Shanghai: inside the contact window of the Chinese preset.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _case(collector, priority: int, **debtor_fields) -> Case:
    debtor = make_debtor(**debtor_fields)
    make_loan(debtor)
    return make_case(debtor, collector, priority=priority)


def _worked(case: Case, collector, *, at: dt.datetime) -> None:
    ContactAttempt.objects.create(
        debtor=case.debtor,
        channel="call",
        direction=Direction.OUTBOUND,
        outcome=Outcome.NO_ANSWER,
        occurred_at=at,
        actor_user=collector,
    )


def test_the_highest_priority_workable_case(collector):
    _case(collector, 10)
    top = _case(collector, 50)
    assert next_case(collector, now=NOW) == top


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "closed", "closed_reason": "paid"},
        {"status": "on_hold"},
    ],
)
def test_never_closed_or_on_hold(collector, fields):
    blocked = _case(collector, 99)
    Case.objects.filter(pk=blocked.pk).update(**fields)
    workable = _case(collector, 1)
    assert next_case(collector, now=NOW) == workable


def test_never_a_debtor_the_gate_would_not_let_them_call_now(collector):
    # 05:00 in New York: outside every preset's window.
    _case(collector, 99, country="US", timezone="America/New_York", region="NY")
    workable = _case(collector, 1)
    assert next_case(collector, now=NOW) == workable


def test_nothing_workable_gives_none(collector, other_collector):
    _case(other_collector, 5)
    assert next_case(collector, now=NOW) is None


def test_offering_changes_nothing(collector):
    top = _case(collector, 50)
    _case(collector, 10)
    before = list(Case.objects.order_by("id").values())
    assert next_case(collector, now=NOW) == top
    assert next_case(collector, now=NOW) == top
    assert list(Case.objects.order_by("id").values()) == before


def test_a_case_worked_within_the_retry_time_waits(collector, settings):
    settings.NEXT_CASE_RETRY_MINUTES = 60
    top = _case(collector, 50)
    second = _case(collector, 10)
    _worked(top, collector, at=NOW - dt.timedelta(minutes=59))
    assert next_case(collector, now=NOW) == second
    # An hour after the outcome it is offered again.
    assert next_case(collector, now=NOW + dt.timedelta(minutes=2)) == top


def test_four_no_answers_do_not_return_the_same_debtor(collector):
    cases = [_case(collector, 100 - n) for n in range(5)]
    code = DispositionCode.objects.get(code="no_answer")
    seen = []
    with time_machine.travel(NOW, tick=False):
        for _ in range(4):
            case = next_case(collector, now=NOW)
            seen.append(case.pk)
            services.call_outcome_log(actor=collector, debtor=case.debtor, code=code, now=NOW)
    assert len(set(seen)) == 4
    assert seen == [c.pk for c in cases[:4]]


def test_an_outcome_posted_to_the_api_counts(collector):
    top = _case(collector, 50)
    second = _case(collector, 10)
    answer = token_client(collector).post(
        "/api/v1/contact-attempts/",
        {
            "debtor": top.debtor_id,
            "channel": "call",
            "direction": "outbound",
            "outcome": "no_answer",
            "occurred_at": (NOW - dt.timedelta(minutes=5)).isoformat(),
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert next_case(collector, now=NOW) == second


def test_order_callbacks_then_call_tasks_then_broken_promises_then_priority(collector):
    by_priority = _case(collector, 900)
    broken = _case(collector, 100)
    PromiseToPay.objects.create(
        loan=broken.debtor.loans.get(),
        amount=Decimal("50"),
        promised_date=dt.date(2026, 2, 20),
        status=PromiseToPay.Status.BROKEN,
        resolved_at=NOW - dt.timedelta(days=1),
    )
    task = _case(collector, 50)
    Case.objects.filter(pk=task.pk).update(next_action_on=dt.date(2026, 3, 2))
    callback = _case(collector, 1)
    # A callback they scheduled that is due beats the retry wait too.
    _worked(callback, collector, at=NOW - dt.timedelta(minutes=10))
    Callback.objects.create(
        debtor=callback.debtor,
        assigned_to=collector,
        due_at=NOW - dt.timedelta(minutes=1),
        created_by=collector,
    )
    order = []
    for _expected in (callback, task, broken, by_priority):
        offered = next_case(collector, now=NOW)
        order.append(offered)
        Case.objects.filter(pk=offered.pk).update(status="on_hold")  # worked: out of the way
    assert order == [callback, task, broken, by_priority]


def test_a_promise_broken_before_the_last_contact_is_not_a_reason_to_call(collector):
    top = _case(collector, 900)
    old_broken = _case(collector, 100)
    PromiseToPay.objects.create(
        loan=old_broken.debtor.loans.get(),
        amount=Decimal("50"),
        promised_date=dt.date(2026, 2, 1),
        status=PromiseToPay.Status.BROKEN,
        resolved_at=NOW - dt.timedelta(days=20),
    )
    Case.objects.filter(pk=old_broken.pk).update(last_contact_at=NOW - dt.timedelta(days=2))
    assert next_case(collector, now=NOW) == top


def test_api_next(collector, supervisor):
    top = _case(collector, 50)
    client = token_client(collector)
    with time_machine.travel(NOW, tick=False):
        answer = client.post("/api/v1/cases/next/")
        assert answer.status_code == 200
        assert answer.json()["id"] == top.pk
        Case.objects.filter(pk=top.pk).update(status="on_hold")
        assert client.post("/api/v1/cases/next/").status_code == 204
        assert token_client(supervisor).post("/api/v1/cases/next/").status_code == 403


def test_cases_the_gate_refuses_are_passed_over_batch_after_batch(collector):
    # Sixty higher cases whose debtors are asleep (05:00 in New York): past the first batches.
    for n in range(60):
        _case(collector, 1000 - n, country="US", timezone="America/New_York", national_id="")
    awake = _case(collector, 5)
    _case(collector, 1)
    assert next_case(collector, now=NOW) == awake
