"""A case's life: every transition path, each with its history row naming the actor."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import lifecycle, services
from cases.lifecycle import case_close, case_history, cases_reconcile
from cases.models import Case
from cases.payments import payment_record
from cases.tasks import refresh_case_priorities
from compliance import gate
from compliance.reasons import Reason
from debtors import services as ledger
from debtors.models import Loan, RepaymentPlan
from reminders.models import Reminder, ReminderStatus
from tests.api.conftest import token_client
from tests.factories import make_case, make_debtor, make_loan, make_reminder
from tests.imports.conftest import run_import

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


def _pay_all(loan: Loan, actor, *, ref: str = "P-1") -> None:
    loan.refresh_from_db()
    payment_record(
        actor=actor,
        loan=loan,
        amount=loan.outstanding,
        received_at=NOW,
        method="bank_transfer",
        external_ref=ref,
        now=NOW,
    )


def _last(case: Case) -> dict:
    return case_history(case)[0]


@pytest.fixture
def open_case(debtor, loan, collector):
    return make_case(debtor, collector)


# --- Automatic transitions ------------------------------------------------------------------


def test_a_payment_that_leaves_nothing_outstanding_closes_the_case_paid(open_case, collector):
    _pay_all(open_case.debtor.loans.get(), collector)
    open_case.refresh_from_db()
    assert (open_case.status, open_case.closed_reason) == ("closed", "paid")
    assert open_case.closed_at == NOW
    entry = _last(open_case)
    assert entry["status"] == "closed" and entry["closed_reason"] == "paid"
    assert entry["changed_by"] == collector.username
    assert entry["why"] == lifecycle.WHY_PAID


def test_a_partial_payment_keeps_the_case_open(open_case, collector):
    loan = open_case.debtor.loans.get()
    payment_record(
        actor=collector,
        loan=loan,
        amount=Decimal("50.00"),
        received_at=NOW,
        method="cash",
        external_ref="P-part",
        now=NOW,
    )
    open_case.refresh_from_db()
    assert open_case.status == "open"


def test_a_payment_through_the_api_closes_the_case_in_its_transaction(open_case, supervisor):
    loan = open_case.debtor.loans.get()
    answer = token_client(supervisor).post(
        "/api/v1/payments/",
        {
            "loan": loan.pk,
            "amount": "300.00",
            "received_at": "2026-03-02T10:00:00Z",
            "method": "card",
            "external_ref": "API-1",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    open_case.refresh_from_db()
    assert (open_case.status, open_case.closed_reason) == ("closed", "paid")
    assert _last(open_case)["changed_by"] == supervisor.username


def test_a_payment_through_an_import_closes_the_case(open_case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    loan = open_case.debtor.loans.get()
    job = run_import(
        "payments",
        "external_ref,loan_ref,amount,received_at,method,source\n"
        f"IMP-1,{loan.external_ref},300.00,2026-03-02T10:00:00Z,bank_transfer,bank\n",
    )
    assert job.status == "done", job.error
    open_case.refresh_from_db()
    assert (open_case.status, open_case.closed_reason) == ("closed", "paid")
    assert _last(open_case)["changed_by"] == f"system: {lifecycle.WHY_PAID}"


def test_a_plan_puts_the_case_in_plan_and_a_broken_plan_back_to_open(open_case, collector):
    loan = open_case.debtor.loans.get()
    with time_machine.travel(NOW, tick=False):
        services.plan_propose(
            actor=collector,
            loan=loan,
            count=3,
            first_date=dt.date(2026, 3, 10),
            frequency=RepaymentPlan.Frequency.MONTHLY,
        )
    open_case.refresh_from_db()
    assert open_case.status == "in_plan"
    assert _last(open_case)["why"] == lifecycle.WHY_PLAN

    # The first installment is long overdue: the nightly review breaks the plan.
    later = dt.datetime(2026, 3, 25, 1, 0, tzinfo=dt.UTC)
    counts = ledger.plans_review(now=later)
    assert counts["broken"] == 1
    open_case.refresh_from_db()
    assert open_case.status == "open"
    entry = _last(open_case)
    assert entry["why"] == lifecycle.WHY_PLAN_ENDED
    assert entry["changed_by"] == f"system: {lifecycle.WHY_PLAN_ENDED}"


def test_a_completed_plan_with_an_approved_discount_settles_the_case(
    open_case, collector, supervisor
):
    loan = open_case.debtor.loans.get()
    with time_machine.travel(NOW, tick=False):
        plan = services.plan_propose(
            actor=collector,
            loan=loan,
            count=1,
            first_date=dt.date(2026, 3, 10),
            frequency=RepaymentPlan.Frequency.MONTHLY,
            discount_amount=Decimal("100.00"),
            discount_reason="Hardship settlement",
        )
        services.plan_discount_decide(actor=supervisor, plan=plan, approve=True)
    open_case.refresh_from_db()
    assert open_case.status == "in_plan"
    loan.refresh_from_db()
    assert loan.outstanding == Decimal("200.00")
    _pay_all(loan, collector, ref="SETTLE")
    open_case.refresh_from_db()
    assert (open_case.status, open_case.closed_reason) == ("closed", "settled")
    assert _last(open_case)["why"] == lifecycle.WHY_SETTLED


def test_a_new_loan_reopens_a_closed_case_through_the_api(open_case, collector, supervisor):
    _pay_all(open_case.debtor.loans.get(), collector)
    answer = token_client(supervisor).post(
        "/api/v1/loans/",
        {
            "external_ref": "L-NEW",
            "debtor": open_case.debtor_id,
            "currency": "CNY",
            "principal": "500.00",
            "installments": [{"due_date": "2026-06-01", "amount": "500.00"}],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    open_case.refresh_from_db()
    assert (open_case.status, open_case.closed_reason, open_case.closed_at) == ("open", "", None)
    entry = _last(open_case)
    assert entry["why"] == lifecycle.WHY_REOPENED
    assert entry["changed_by"] == supervisor.username
    assert open_case.total_outstanding == Decimal("500.00")


def test_a_new_loan_reopens_a_closed_case_through_an_import(open_case, collector):
    _pay_all(open_case.debtor.loans.get(), collector)
    job = run_import(
        "loans",
        "external_ref,debtor_ref,currency,principal\n"
        f"L-IMP,{open_case.debtor.external_ref},CNY,250.00\n",
    )
    assert job.status == "done", job.error
    open_case.refresh_from_db()
    assert open_case.status == "open"
    assert _last(open_case)["why"] == lifecycle.WHY_REOPENED
    assert open_case.total_outstanding == Decimal("250.00")


def test_a_paid_new_loan_does_not_reopen(open_case, collector):
    _pay_all(open_case.debtor.loans.get(), collector)
    run_import(
        "loans",
        "external_ref,debtor_ref,currency,principal,principal_balance\n"
        f"L-PAID,{open_case.debtor.external_ref},CNY,250.00,0\n",
    )
    open_case.refresh_from_db()
    assert open_case.status == "closed"


def test_a_hold_puts_the_case_on_hold_and_its_expiry_back_to_open(open_case, collector):
    services.debtor_hold_record(
        actor=collector,
        debtor=open_case.debtor,
        kind="hardship",
        reason="Lost job",
        until=dt.date(2026, 3, 5),
        now=NOW,
    )
    open_case.refresh_from_db()
    assert open_case.status == "on_hold"
    assert _last(open_case)["changed_by"] == collector.username

    # The night after the pause ends, the refresh finds the hold expired.
    refresh_case_priorities(now="2026-03-06T16:05:00+00:00")
    open_case.refresh_from_db()
    assert open_case.status == "open"
    entry = _last(open_case)
    assert entry["changed_by"] == f"system: {lifecycle.WHY_HOLD_ENDED}"
    # Running it again changes nothing.
    assert cases_reconcile(now=dt.datetime(2026, 3, 6, 16, 6, tzinfo=dt.UTC)) == 0


def test_a_hold_lifted_through_the_api_puts_the_case_back_to_open(open_case, supervisor):
    client = token_client(supervisor)
    url = f"/api/v1/debtors/{open_case.debtor_id}/"
    answer = client.patch(url, {"dispute": True}, format="json")
    assert answer.status_code == 200, answer.content
    open_case.refresh_from_db()
    assert open_case.status == "on_hold"
    assert client.patch(url, {"dispute": False}, format="json").status_code == 200
    open_case.refresh_from_db()
    assert open_case.status == "open"
    assert _last(open_case)["why"] == lifecycle.WHY_HOLD_ENDED


def test_the_portal_is_named_as_the_actor(open_case):
    services.debtor_hold_record(
        actor="debtor via portal",
        debtor=open_case.debtor,
        kind="dispute",
        reason="Not my loan",
        now=NOW,
    )
    open_case.refresh_from_db()
    assert _last(open_case)["changed_by"] == "debtor via portal"


# --- Manual transitions ---------------------------------------------------------------------


def test_charging_off_closes_the_case_charges_off_the_loans_and_stops_reminders(
    open_case, supervisor
):
    loan = open_case.debtor.loans.get()
    reminder = make_reminder(loan, loan.installments.first())
    case_close(actor=supervisor, case=open_case, reason="charged_off", note="Uncollectable")
    open_case.refresh_from_db()
    loan.refresh_from_db()
    reminder.refresh_from_db()
    assert (open_case.status, open_case.closed_reason) == ("closed", "charged_off")
    assert loan.status == Loan.Status.CHARGED_OFF
    assert (reminder.status, reminder.reason) == (ReminderStatus.CLOSED, "case_closed")
    entry = _last(open_case)
    assert (entry["changed_by"], entry["why"]) == (supervisor.username, "Uncollectable")
    assert open_case.debtor.notes.filter(body__contains="Uncollectable").exists()


@pytest.mark.parametrize(("reason", "flag"), [("deceased", "deceased"), ("bankrupt", "bankruptcy")])
def test_deceased_and_bankrupt_set_the_hold_so_the_gate_blocks_every_contact(
    open_case, supervisor, reason, flag
):
    case_close(actor=supervisor, case=open_case, reason=reason, note="Notified by family")
    debtor = open_case.debtor
    debtor.refresh_from_db()
    assert getattr(debtor, flag) is True
    hold = {"deceased": Reason.DECEASED, "bankrupt": Reason.BANKRUPTCY_HOLD}[reason]
    for channel in ("call", "sms", "email"):
        decision = gate.check(debtor=debtor, channel=channel, at=timezone.now())
        assert not decision.allowed
        assert hold in decision.reasons
    # A new loan reopens it on hold, not open: the hold still stands.
    ledger.loan_create(
        actor=supervisor,
        debtor=debtor,
        external_ref="L-AFTER",
        currency="CNY",
        principal=Decimal("10.00"),
        installments=[(dt.date(2026, 6, 1), Decimal("10.00"))],
    )
    open_case.refresh_from_db()
    assert open_case.status == "on_hold"


def test_withdrawn_stays_closed_although_its_loans_still_owe(open_case, supervisor):
    case_close(actor=supervisor, case=open_case, reason="withdrawn", note="Returned to lender")
    assert cases_reconcile() == 0
    open_case.refresh_from_db()
    assert (open_case.status, open_case.closed_reason) == ("closed", "withdrawn")
    # Nothing more is planned for a closed case's debtor.
    assert not Reminder.objects.filter(debtor=open_case.debtor, status="planned").exists()


@pytest.mark.parametrize("reason", ["paid", "settled", "lost", ""])
def test_paid_settled_and_unknown_reasons_are_refused(open_case, supervisor, reason):
    with pytest.raises(ValidationError) as refused:
        case_close(actor=supervisor, case=open_case, reason=reason, note="x")
    assert "reason" in refused.value.message_dict
    open_case.refresh_from_db()
    assert open_case.status == "open"


def test_a_collector_may_not_close_a_case(open_case, collector):
    with pytest.raises(PermissionDenied):
        case_close(actor=collector, case=open_case, reason="withdrawn", note="x")


def test_a_reason_in_words_is_required(open_case, supervisor):
    with pytest.raises(ValidationError):
        case_close(actor=supervisor, case=open_case, reason="withdrawn", note="  ")


# --- The API --------------------------------------------------------------------------------


def test_close_endpoint(open_case, collector, supervisor):
    url = f"/api/v1/cases/{open_case.pk}/close/"
    assert (
        token_client(collector).post(url, {"reason": "withdrawn"}, format="json").status_code == 403
    )
    sup = token_client(supervisor)
    for bad in ("paid", "settled", "nonsense"):
        answer = sup.post(url, {"reason": bad}, format="json")
        assert answer.status_code == 400
        assert "reason" in answer.json()
    answer = sup.post(url, {"reason": "charged_off"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["status"] == "closed"
    assert answer.json()["closed_reason"] == "charged_off"
    assert sup.post(url, {"reason": "withdrawn"}, format="json").status_code == 400


def test_case_detail_has_closed_reason_null_while_open(open_case, collector):
    body = token_client(collector).get(f"/api/v1/cases/{open_case.pk}/").json()
    assert body["closed_reason"] is None


def test_history_endpoint_lists_status_and_assignment_changes_newest_first(
    open_case, collector, other_collector, supervisor
):
    services.cases_reassign(actor=supervisor, case_ids=[open_case.pk], to_user=other_collector)
    case_close(actor=supervisor, case=open_case, reason="withdrawn", note="Recalled")
    entries = token_client(supervisor).get(f"/api/v1/cases/{open_case.pk}/history/").json()
    entries = entries["results"] if isinstance(entries, dict) else entries
    assert [e["status"] for e in entries][:2] == ["closed", "open"]
    assert entries[0]["closed_reason"] == "withdrawn"
    assert entries[1]["assigned_to"] == other_collector.pk
    assert all(e["changed_by"] for e in entries)
    stamps = [e["changed_at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    # Another collector's case: not found.
    assert token_client(collector).get(f"/api/v1/cases/{open_case.pk}/history/").status_code == 404


# --- Nothing escapes the history ------------------------------------------------------------

# An ORM update of a case's status, or SQL that sets it.
STATUS_WRITE = re.compile(
    r"\.update\([^)]*\bstatus\s*=\s*Case\.|"
    r"UPDATE\s+(\{Case\._meta\.db_table\}|collections_app_case)\s+(\w+\s+)?SET\s[^\"']*\bstatus\s*=",
    re.S,
)


def test_no_code_but_the_lifecycle_writes_a_case_status():
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if (
            relative.parts[0] in {".venv", "tests", "var", "build"}
            or "migrations" in relative.parts
        ):
            continue
        if STATUS_WRITE.search(path.read_text(encoding="utf-8")):
            offenders.append(str(relative))
    assert offenders == []


def test_every_status_change_of_every_path_has_a_history_row(collector, supervisor):
    """Each path above, together: the status of each case matches its newest history row."""
    debtors = [make_debtor() for _ in range(4)]
    cases = [make_case(d, collector) for d in debtors]
    loans = [make_loan(d) for d in debtors]
    _pay_all(loans[0], collector, ref="H-0")
    services.debtor_hold_record(
        actor=collector, debtor=debtors[1], kind="dispute", reason="Disputes", now=NOW
    )
    case_close(actor=supervisor, case=cases[2], reason="bankrupt", note="Court order")
    with time_machine.travel(NOW, tick=False):
        services.plan_propose(
            actor=collector,
            loan=loans[3],
            count=2,
            first_date=dt.date(2026, 3, 10),
            frequency=RepaymentPlan.Frequency.MONTHLY,
        )
    for case in cases:
        case.refresh_from_db()
        newest = case.history.order_by("-history_id").first()
        assert (newest.status, newest.closed_reason) == (case.status, case.closed_reason)
        assert newest.actor_label
    assert [c.status for c in cases] == ["closed", "on_hold", "closed", "in_plan"]


def test_reconcile_twice_changes_nothing(open_case):
    # The fixture's case is open and owes: nothing to change.
    assert cases_reconcile(now=timezone.now()) == 0
