"""Champion/challenger experiments: stable assignment recorded at entry, the arms' levers
(strategy, hold-out, queue weight), the checks before a start, promotion, and the metrics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cases.models import Case
from compliance.models import ContactAttempt
from debtors.models import ChannelConsent, Debtor, Loan, Payment, PromiseToPay
from reminders.models import Reminder, ReminderStage, ReminderStatus, ReminderStrategy
from scoring.experiments import (
    _BUCKET_SQL,
    arm_bucket,
    arm_for_bucket,
    arm_promote,
    experiment_create,
    experiment_start,
    experiment_stop,
    experiments_enrol,
)
from scoring.models import Arm, ArmAssignment, Experiment
from scoring.results import experiment_results
from tests.factories import make_contact_point, make_debtor, make_loan

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def _strategy(slug: str) -> ReminderStrategy:
    return ReminderStrategy.objects.get(slug=slug)


def _experiment(*, arms=None, **fields) -> Experiment:
    today = timezone.localdate()
    spec = {
        "name": "Firm vs standard",
        "starts_on": today,
        "planned_end_on": today + dt.timedelta(days=90),
        "primary_metric": Experiment.Metric.RECOVERY,
        **fields,
    }
    arms = arms or [
        {"name": "Standard", "kind": "champion", "strategy": _strategy("standard"), "share": 80},
        {"name": "Firm", "kind": "challenger", "strategy": _strategy("firm"), "share": 20},
    ]
    return experiment_create(actor="system: tests", arms=arms, **spec)


def _cases(n: int, **debtor_fields) -> list[Case]:
    cases = []
    for _ in range(n):
        debtor = make_debtor(**debtor_fields)
        make_contact_point(debtor)
        make_loan(debtor, risk_band="medium")
        case, _created = Case.objects.get_or_create(debtor=debtor)
        Case.objects.filter(pk=case.pk).update(
            total_outstanding=Decimal("300.00"), max_days_past_due=20
        )
        cases.append(case)
    return cases


def test_the_hash_is_the_same_in_python_and_sql():
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, {_BUCKET_SQL} FROM generate_series(1, 3000) AS c(id)",  # noqa: S608
            [17],
        )
        rows = cursor.fetchall()
    assert all(bucket == arm_bucket(17, case_id) for case_id, bucket in rows)
    counts = [0] * 100
    for _case_id, bucket in rows:
        counts[bucket] += 1
    assert min(counts) > 10  # spread over every bucket


def test_cases_enter_their_arm_once_by_share_and_stay_in_it():
    cases = _cases(200)
    experiment = _experiment()
    entered = experiment_start(experiment=experiment, actor="system: tests")
    assert entered == 200
    arms = {arm.kind: arm for arm in experiment.arms.all()}
    assignments = ArmAssignment.objects.filter(experiment=experiment)
    for a in assignments:
        expected = (
            arms["champion"] if arm_bucket(experiment.pk, a.case_id) < 80 else arms["challenger"]
        )
        assert a.arm_id == expected.pk
        assert a.outstanding_at_entry == Decimal("300.00")
        assert a.days_past_due_at_entry == 20
    challenger_share = assignments.filter(arm=arms["challenger"]).count() / 200
    assert 0.12 < challenger_share < 0.28
    # Running again enrols nobody twice; a promotion changes shares for new entrants only.
    assert experiments_enrol() == 0
    before = dict(assignments.values_list("case_id", "arm_id"))
    arm_promote(arm=arms["challenger"], actor="system: tests")
    new = _cases(30)
    experiments_enrol()
    assert dict(assignments.filter(case__in=cases).values_list("case_id", "arm_id")) == before
    firm = Arm.objects.get(pk=arms["challenger"].pk)
    assert (firm.kind, firm.share) == ("champion", 80)
    ordered = list(experiment.arms.order_by("id"))
    for case in new:
        a = ArmAssignment.objects.get(experiment=experiment, case=case)
        assert a.arm_id == arm_for_bucket(ordered, arm_bucket(experiment.pk, case.pk)).pk
    # The assignment is a record: the database refuses to move it.
    with pytest.raises(Exception, match="append-only"):
        ArmAssignment.objects.filter(case=cases[0]).update(arm=firm)


def test_only_the_population_enters_and_a_case_is_in_one_experiment_at_a_time():
    us = _cases(5, country="US", timezone="America/New_York")
    cn = _cases(5)
    first = _experiment(countries=["US"])
    experiment_start(experiment=first, actor="system: tests")
    assert set(ArmAssignment.objects.values_list("case_id", flat=True)) == {c.pk for c in us}
    second = _experiment(name="Everyone")
    experiment_start(experiment=second, actor="system: tests")
    assert set(
        ArmAssignment.objects.filter(experiment=second).values_list("case_id", flat=True)
    ) == {c.pk for c in cn}


def test_the_arms_pull_the_strategy_hold_out_and_queue_levers():
    cases = _cases(60)
    arms = [
        {"name": "Standard", "kind": "champion", "strategy": _strategy("standard"), "share": 40},
        {
            "name": "Firm",
            "kind": "challenger",
            "strategy": _strategy("firm"),
            "share": 30,
            "queue_weight": 75,
        },
        {"name": "Nothing", "kind": "holdout", "strategy": None, "share": 30},
    ]
    experiment = _experiment(arms=arms)
    holdout_case = next(c for c in cases if arm_bucket(experiment.pk, c.pk) >= 70)
    loan = Loan.objects.filter(debtor=holdout_case.debtor).first()
    planned = Reminder.objects.create(
        loan=loan,
        installment=loan.installments.first(),
        stage=ReminderStage.objects.filter(strategy__slug="standard").first(),
        debtor=holdout_case.debtor,
        channel="sms",
        due_date=TODAY,
        scheduled_for=TODAY,
        not_before=timezone.now(),
    )
    experiment_start(experiment=experiment, actor="system: tests")
    bands = {"champion": "medium", "challenger": "high", "holdout": ""}
    weights = {"champion": 0, "challenger": 75, "holdout": 0}
    for a in ArmAssignment.objects.select_related("arm", "case"):
        loan_bands = set(
            Loan.objects.filter(debtor_id=a.case.debtor_id).values_list("scored_band", flat=True)
        )
        assert loan_bands == {bands[a.arm.kind]}
        assert Case.objects.get(pk=a.case_id).score_weight == weights[a.arm.kind]
    planned.refresh_from_db()
    assert planned.status == ReminderStatus.CLOSED
    experiment_stop(experiment=experiment, actor="system: tests")
    assert set(Loan.objects.values_list("scored_band", flat=True)) == {None}
    assert set(Case.objects.values_list("score_weight", flat=True)) == {0}


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ([("champion", "standard", 70), ("challenger", "firm", 20)], "add up to 100"),
        ([("champion", "standard", 50), ("champion", "firm", 50)], "exactly one champion"),
        ([("champion", "standard", 80), ("holdout", "firm", 20)], "has no strategy"),
        ([("champion", None, 80), ("challenger", "firm", 20)], "needs an active reminder"),
    ],
)
def test_an_experiment_with_arms_that_do_not_add_up_cannot_start(arms, message):
    specs = [
        {
            "name": f"{kind} {i}",
            "kind": kind,
            "share": share,
            "strategy": _strategy(slug) if slug else None,
        }
        for i, (kind, slug, share) in enumerate(arms)
    ]
    experiment = _experiment(arms=specs)
    with pytest.raises(ValidationError, match=message):
        experiment_start(experiment=experiment, actor="system: tests")
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT
    assert not ArmAssignment.objects.exists()


def test_an_arm_the_contact_rules_would_block_cannot_start():
    """Eight call tasks within seven days: more calls than Regulation F's 7-in-7 allows."""
    greedy = ReminderStrategy.objects.create(slug="greedy", name="Greedy", risk_bands=[])
    for offset in range(8):
        ReminderStage.objects.create(
            strategy=greedy, name=f"Call {offset}", offset_days=offset // 2 + 1, channel="call_task"
        )
    ReminderStrategy.objects.filter(slug="firm").update(risk_bands=[])
    greedy.risk_bands = ["high"]
    greedy.save()
    experiment = _experiment(
        countries=["US"],
        arms=[
            {
                "name": "Standard",
                "kind": "champion",
                "strategy": _strategy("standard"),
                "share": 50,
            },
            {"name": "Greedy", "kind": "challenger", "strategy": greedy, "share": 50},
        ],
    )
    with pytest.raises(ValidationError, match=r"8 call contacts within 7 days.*allows 7"):
        experiment_start(experiment=experiment, actor="system: tests")


def test_a_hold_out_in_the_us_is_allowed():
    _cases(3, country="US", timezone="America/New_York")
    experiment = _experiment(
        countries=["US"],
        arms=[
            {
                "name": "Standard",
                "kind": "champion",
                "strategy": _strategy("standard"),
                "share": 90,
            },
            {"name": "Hold-out", "kind": "holdout", "strategy": None, "share": 10},
        ],
    )
    assert experiment_start(experiment=experiment, actor="system: tests") == 3


def test_promotion_is_for_challengers_and_recorded(admin_user):
    experiment = _experiment()
    champion = experiment.arms.get(kind="champion")
    with pytest.raises(ValidationError, match="Only a challenger"):
        arm_promote(arm=champion, actor=admin_user)
    challenger = experiment.arms.get(kind="challenger")
    arm_promote(arm=challenger, actor=admin_user)
    row = Arm.history.filter(id=challenger.pk).order_by("-history_id").first()
    assert (row.kind, row.history_user) == ("champion", admin_user)


def test_the_metrics_are_counted_from_each_cases_entry():
    cases = _cases(40)
    experiment = _experiment(
        arms=[
            {"name": "A", "kind": "champion", "strategy": _strategy("standard"), "share": 50},
            {"name": "B", "kind": "challenger", "strategy": _strategy("firm"), "share": 50},
        ]
    )
    before_entry = timezone.now() - dt.timedelta(days=1)
    for case in cases:
        loan = Loan.objects.filter(debtor=case.debtor).first()
        Payment.objects.create(
            loan=loan,
            amount=Decimal("50.00"),
            received_at=before_entry,
            method="cash",
            external_ref=f"old-{case.pk}",
            allocated_amount=Decimal("50.00"),
        )
    experiment_start(experiment=experiment, actor="system: tests")
    later = timezone.now() + dt.timedelta(seconds=1)
    a_arm = experiment.arms.get(name="A")
    in_a = [c for c in cases if ArmAssignment.objects.get(case=c).arm_id == a_arm.pk]
    in_b = [c for c in cases if c not in in_a]
    assert in_a and in_b
    for case in in_a[:2]:
        loan = Loan.objects.filter(debtor=case.debtor).first()
        Payment.objects.create(
            loan=loan,
            amount=Decimal("150.00"),
            received_at=later,
            method="cash",
            external_ref=f"new-{case.pk}",
            allocated_amount=Decimal("150.00"),
        )
        PromiseToPay.objects.create(
            loan=loan,
            amount=Decimal("150.00"),
            promised_date=TODAY,
            status="kept",
            created_at=later,
            resolved_at=later,
        )
    ContactAttempt.objects.create(
        debtor=in_a[0].debtor,
        channel="sms",
        direction="outbound",
        outcome="delivered",
        occurred_at=later,
        actor_label="tests",
    )
    ChannelConsent.objects.create(debtor=in_b[0].debtor, channel="sms", opted_out_at=later)
    Debtor.objects.filter(pk=in_b[1].debtor_id).update(dispute=True, dispute_at=later)
    Case.objects.filter(pk=in_a[0].pk).update(max_days_past_due=0)
    results = experiment_results(experiment, now=later + dt.timedelta(minutes=1))
    by_name = {r.arm.name: r for r in results["arms"]}
    a, b = by_name["A"].metrics, by_name["B"].metrics
    assert by_name["A"].cases == len(in_a)
    assert a["recovery"].value == pytest.approx(2 * 0.5 / len(in_a))
    assert b["recovery"].value == 0
    assert a["cure"].value == pytest.approx(1 / len(in_a))
    assert a["promise_kept"].value == 1 and a["promise_kept"].n == 2
    assert b["opt_out"].value == pytest.approx(1 / len(in_b))
    assert b["dispute"].value == pytest.approx(1 / len(in_b))
    assert a["contacts"].value == pytest.approx(1 / 0.3)  # 1 contact per 300 collected
    comparison = by_name["B"].comparisons["recovery"]
    assert comparison.difference == pytest.approx(-a["recovery"].value)
    assert 0 < comparison.p_value <= 1
    assert results["series"]["days"][0] == timezone.localdate()
