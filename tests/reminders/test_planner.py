"""The planner: set-based, one row per (loan, installment, stage), nothing twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management import call_command

from debtors.models import Installment, RepaymentPlan
from debtors.services import plan_activate, plan_create
from reminders import planner
from reminders.models import Reminder, ReminderRun, ReminderStage

from .conftest import SHANGHAI, at, loan_due_on, reachable_debtor

DUE = dt.date(2030, 3, 5)


def planned(**filters):
    return sorted(
        Reminder.objects.filter(**filters).values_list("channel", "scheduled_for", "stage__name")
    )


def test_plans_the_stages_of_the_day_and_nothing_twice(db):
    loan = loan_due_on(reachable_debtor(), DUE)
    now = at(SHANGHAI, 2030, 3, 2, 10, 0)
    counts = planner.plan(now=now)
    assert counts == {"in_app": 1, "email": 1, "planned": 2}
    assert planned(loan=loan) == [
        ("email", dt.date(2030, 3, 2), "Friendly reminder (email)"),
        ("in_app", dt.date(2030, 3, 2), "Friendly reminder (in-app)"),
    ]
    assert planner.plan(now=now)["planned"] == 0
    assert planner.plan(now=now + dt.timedelta(hours=5))["planned"] == 0
    assert Reminder.objects.count() == 2
    assert ReminderRun.objects.filter(kind="plan").count() == 3


def test_a_missed_day_is_caught_up_unless_the_next_stage_has_begun(db):
    loan = loan_due_on(reachable_debtor(), DUE)
    # Nobody planned for two days after T+7 (the plan offer): it is still planned.
    planner.plan(now=at(SHANGHAI, 2030, 3, 14, 10, 0))
    assert planned(loan=loan) == [
        ("email", dt.date(2030, 3, 12), "Plan offer with the self-service link")
    ]
    Reminder.objects.all().delete()
    # On T+3 the T0 and T+1 messages are out of date: only the call task is planned.
    planner.plan(now=at(SHANGHAI, 2030, 3, 8, 10, 0))
    assert planned(loan=loan) == [("call_task", dt.date(2030, 3, 8), "First call")]


def test_strategy_follows_the_risk_band(db):
    debtor = reachable_debtor()
    gentle = loan_due_on(debtor, DUE, risk_band="low")
    standard = loan_due_on(debtor, DUE, risk_band="medium")
    firm = loan_due_on(debtor, dt.date(2030, 3, 3), risk_band="high")
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0))
    assert [p[0] for p in planned(loan=gentle)] == ["email", "in_app"]
    assert [p[0] for p in planned(loan=standard)] == ["email"]
    assert sorted(p[2] for p in planned(loan=firm)) == [
        "Due today (SMS)",
        "Due today (email)",
        "Reminder the day before",
    ]
    assert set(
        Reminder.objects.filter(loan=firm).values_list("stage__strategy__slug", flat=True)
    ) == {"firm"}


def test_paid_installments_and_closed_loans_are_not_planned(db):
    debtor = reachable_debtor()
    paid = loan_due_on(debtor, DUE)
    Installment.objects.filter(loan=paid).update(amount_paid=Decimal("100.00"))
    closed = loan_due_on(debtor, DUE, status="paid")
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0))
    assert not Reminder.objects.filter(loan__in=[paid, closed]).exists()


def test_stage_conditions(db):
    debtor = reachable_debtor()
    small = loan_due_on(debtor, DUE, amount="50.00", product="bnpl")
    large = loan_due_on(debtor, DUE, amount="5000.00", product="personal_loan")
    stage = ReminderStage.objects.get(strategy__slug="gentle", offset_days=-3, channel="email")
    stage.min_balance = Decimal("1000")
    stage.save()
    inapp = ReminderStage.objects.get(strategy__slug="gentle", offset_days=-3, channel="in_app")
    inapp.products = ["bnpl"]
    inapp.save()
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0))
    assert [p[0] for p in planned(loan=small)] == ["in_app"]
    assert [p[0] for p in planned(loan=large)] == ["email"]


def test_a_loan_in_a_plan_is_reminded_of_the_plan_installments(db, admin_user):
    debtor = reachable_debtor()
    loan = loan_due_on(debtor, dt.date(2030, 1, 5))
    plan = plan_create(
        actor=admin_user,
        loan=loan,
        installments=[(DUE, Decimal("60.00")), (dt.date(2030, 4, 5), Decimal("40.00"))],
        now=at(SHANGHAI, 2030, 1, 20, 10, 0),
    )
    plan_activate(actor=admin_user, plan=plan, now=at(SHANGHAI, 2030, 1, 20, 10, 0))
    assert RepaymentPlan.objects.get(pk=plan.pk).status == "active"
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0), reconcile=False)
    rows = Reminder.objects.filter(loan=loan)
    assert rows.count() == 2
    assert all(r.plan_installment_id and r.installment_id is None for r in rows)
    # A stage only for loans without a plan leaves it alone.
    ReminderStage.objects.filter(strategy__slug="gentle").update(has_active_plan=False)
    Reminder.objects.all().delete()
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0), reconcile=False)
    assert not Reminder.objects.filter(loan=loan).exists()


def test_the_command_prints_counts(db, capsys):
    loan_due_on(reachable_debtor(), DUE)
    call_command("plan_reminders", "--now", "2030-03-02T10:00:00+08:00")
    assert "Planned 2 reminders (email 1, in_app 1)." in capsys.readouterr().out
    call_command("plan_reminders", "--now", "2030-03-02T10:00:00+08:00")
    assert "Planned 0 reminders." in capsys.readouterr().out
