"""Scoring every open case with the active model (set-based SQL), the bands' rules driving the
reminder strategy and the queue, activation and its audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Case
from cases.priorities import case_priorities_refresh
from compliance.models import ContactAttempt
from debtors.models import Loan, Payment, PromiseToPay
from reminders import planner
from reminders.models import Reminder
from scoring import scorecard
from scoring.features import FEATURES
from scoring.models import BandRule, CaseScore, ScoreModel
from scoring.services import band_rule_save, score_cases, score_model_activate
from scoring.tasks import score_cases as score_cases_task
from scoring.training import load
from tests.factories import make_case, make_contact_point, make_debtor, make_loan
from tests.reminders.conftest import SHANGHAI, at, loan_due_on, reachable_debtor

pytestmark = pytest.mark.django_db


def make_model(*, base: int = 600, points=None, version: int = 1, active=True) -> ScoreModel:
    points = points or {f.name: [0] * len(f.bins) for f in FEATURES}
    return ScoreModel.objects.create(
        version=version,
        status=ScoreModel.Status.ACTIVE if active else ScoreModel.Status.TRAINED,
        horizon_days=30,
        train_from=dt.date(2026, 1, 1),
        train_until=dt.date(2026, 3, 1),
        validation_dates=["2026-03-15"],
        scorecard={"base": base, "points": points},
        metrics={"auc": 0.8},
    )


def varied_points() -> dict[str, list[int]]:
    """A scorecard whose every bin of every feature is worth something different."""
    return {
        f.name: [0 if b == 0 else -(3 * column + 2 * b + 1) for b in range(len(f.bins))]
        for column, f in enumerate(FEATURES)
    }


def _debtor_with_history(n: int, today: dt.date):
    debtor = make_debtor()
    point = make_contact_point(debtor)
    loan = make_loan(
        debtor,
        installments=[
            (today - dt.timedelta(days=10 + 25 * n), Decimal("100.00")),
            (today + dt.timedelta(days=20), Decimal("100.00")),
        ],
        opened_on=today - dt.timedelta(days=40 * (n + 1)),
    )
    for k in range(n):
        ContactAttempt.objects.create(
            debtor=debtor,
            contact_point=point,
            channel="call",
            direction="outbound",
            outcome="conversation" if k % 2 else "no_answer",
            occurred_at=timezone.now() - dt.timedelta(days=3 + k),
            actor_label="tests",
        )
    if n % 2:
        PromiseToPay.objects.create(
            loan=loan,
            amount=Decimal("10.00"),
            promised_date=today - dt.timedelta(days=5),
            status="broken",
            resolved_at=timezone.now() - dt.timedelta(days=4),
        )
    if n % 3 == 0:
        Payment.objects.create(
            loan=loan,
            amount=Decimal("20.00"),
            received_at=timezone.now() - dt.timedelta(days=2 + n),
            method="cash",
            external_ref=f"P{n}",
            allocated_amount=Decimal("20.00"),
        )
    return make_case(debtor)


def test_every_open_case_gets_what_the_python_scorecard_gives():
    today = timezone.localdate()
    cases = [_debtor_with_history(n, today) for n in range(7)]
    model = make_model(base=640, points=varied_points())
    counts = score_cases()
    assert counts["scored"] == len(cases)
    card = scorecard.Scorecard.from_json(model.scorecard)
    snapshot = load([today])
    rows = {int(d): i for i, d in enumerate(snapshot.debtor_ids)}
    for case in cases:
        score = CaseScore.objects.get(case=case)
        bins = snapshot.bins[rows[case.debtor_id]]
        expected = int(card.scores(bins[np.newaxis, :])[0])
        probability = float(scorecard.probability(np.array([expected]))[0])
        assert score.points == expected
        assert score.probability == Decimal(str(round(probability, 5)))
        assert score.band == scorecard.band_of(float(score.probability))
        assert score.reasons == scorecard.reasons(card, bins)
        assert score.scored_on == today
        assert len(score.reasons) <= 3


def test_closed_cases_and_cases_without_an_open_loan_get_no_score():
    today = timezone.localdate()
    worked = _debtor_with_history(1, today)
    closed = _debtor_with_history(2, today)
    Case.objects.filter(pk=closed.pk).update(
        status=Case.Status.CLOSED, closed_reason="withdrawn", closed_at=timezone.now()
    )
    settled = make_case(make_debtor())
    make_loan(settled.debtor, status=Loan.Status.PAID)
    make_model()
    score_cases()
    assert set(CaseScore.objects.values_list("case_id", flat=True)) == {worked.pk}


def test_without_an_active_model_the_imported_risk_band_rules_again():
    today = timezone.localdate()
    case = _debtor_with_history(2, today)
    model = make_model(base=400)  # probability near 0: band E
    score_cases()
    case.refresh_from_db()
    assert (case.score_band, case.score_weight) == ("E", 150)
    assert set(Loan.objects.filter(debtor=case.debtor).values_list("scored_band", flat=True)) == {
        "high"
    }
    ScoreModel.objects.filter(pk=model.pk).update(status=ScoreModel.Status.RETIRED)
    counts = score_cases()
    case.refresh_from_db()
    assert counts["cleared"] == 1
    assert not CaseScore.objects.exists()
    assert (case.score_band, case.score_weight) == ("", 0)
    assert set(Loan.objects.filter(debtor=case.debtor).values_list("scored_band", flat=True)) == {
        None
    }


def test_the_band_chooses_the_reminder_strategy_and_weighs_in_the_queue():
    due = dt.date(2030, 3, 5)
    now = at(SHANGHAI, 2030, 3, 4, 10, 0)
    debtor = reachable_debtor()
    loan = loan_due_on(debtor, due, risk_band="low")  # imported label: the gentle strategy
    case, _created = Case.objects.get_or_create(debtor=debtor)
    planner.plan(now=now)
    assert set(Reminder.objects.values_list("stage__strategy__slug", flat=True)) == {"gentle"}
    case_priorities_refresh()
    before = Case.objects.get(pk=case.pk).priority

    Reminder.objects.all().delete()
    make_model(base=400)  # band E
    band_rule_save(band="E", reminder_band="high", priority_weight=250, actor="system: tests")
    score_cases()
    loan.refresh_from_db()
    assert loan.scored_band == "high" and loan.risk_band == "low"
    assert Case.objects.get(pk=case.pk).priority == before + 250
    # The priority moved by the weight is the one a full refresh computes.
    assert case_priorities_refresh() == 0
    assert Case.objects.get(pk=case.pk).priority == before + 250
    planner.plan(now=now)
    assert set(Reminder.objects.values_list("stage__strategy__slug", flat=True)) == {"firm"}


def test_activation_retires_the_previous_model_and_is_in_the_history(admin_user):
    first = make_model(version=1, active=False)
    second = make_model(version=2, active=False)
    score_model_activate(model=first, actor=admin_user)
    score_model_activate(model=second, actor=admin_user)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ScoreModel.Status.RETIRED
    assert second.status == ScoreModel.Status.ACTIVE and second.activated_at is not None
    assert ScoreModel.active() == second
    row = second.history.order_by("-history_id").first()
    assert row.status == "active"
    assert row.history_user == admin_user and row.actor_label == admin_user.username
    with pytest.raises(ValidationError, match="already active"):
        score_model_activate(model=second, actor=admin_user)


def test_band_rules_are_checked_and_audited():
    with pytest.raises(ValidationError, match="Unknown band"):
        band_rule_save(band="Z", reminder_band="high", priority_weight=0, actor="system: t")
    with pytest.raises(ValidationError, match="Unknown risk band"):
        band_rule_save(band="A", reminder_band="extreme", priority_weight=0, actor="system: t")
    with pytest.raises(ValidationError, match="whole number"):
        band_rule_save(band="A", reminder_band="low", priority_weight=10**9, actor="system: t")
    band_rule_save(band="A", reminder_band="medium", priority_weight=-5, actor="system: t")
    rule = BandRule.objects.get(band="A")
    assert (rule.reminder_band, rule.priority_weight) == ("medium", -5)
    assert rule.history.first().actor_label == "system: t"


def test_the_shipped_band_rules_go_from_gentle_to_firm():
    rules = list(BandRule.objects.order_by("band").values_list("band", "reminder_band"))
    assert rules == [("A", "low"), ("B", "low"), ("C", "medium"), ("D", "high"), ("E", "high")]


def test_beat_scores_every_night_and_the_task_runs():
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "scoring.tasks.score_cases"
    ]
    assert len(entries) == 1
    _debtor_with_history(1, timezone.localdate())
    make_model()
    assert score_cases_task()["scored"] == 1
    # Twice the same day: nothing changes.
    assert score_cases_task()["weights"] == 0
