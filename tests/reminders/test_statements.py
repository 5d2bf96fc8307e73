"""The dispatcher's batch statements give the ORM's answer on the same rows.

``RELEASE_MANY``, ``CLOSE_MANY``, ``LINK_ATTEMPTS`` and ``MARK_SENT`` (``reminders.services``)
each change many reminders in one UPDATE, only those still ``sending``. Each test builds two
identical sets of reminders in every status, applies the service to the first set and, to the
second, the same change through the ORM (a conditional UPDATE per row), then compares the rows
field by field (the second set's rows matched to the first's by position), what the service
returned, and the contact attempts the sends completed. Rows listed but no longer ``sending``,
and ``sending`` rows not listed, must come out untouched in both.

``PLAN_INSERT`` (``reminders.planner.insert_sql``, run by ``planner.plan``) plans every stage's
reminders in a few INSERT ... SELECT statements. On a seeded portfolio, with loans in active
plans and stages limited to products, a balance range, a band and loans with or without a
plan, the rows it inserts must be the rows the same rules give when asked stage by stage and
day by day through the ORM; a second run inserts nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from cases.models import Case
from compliance.models import ContactAttempt, ContactDecision, ContactPolicy, Outcome
from compliance.services import permit_attempts_complete
from debtors.models import Installment, Loan, PlanInstallment, RepaymentPlan
from demo.seeding import seed_portfolio
from reminders import planner, services
from reminders.models import Reminder, ReminderStage, ReminderStatus, ReminderStrategy
from tests.factories import make_debtor, make_loan, make_reminder

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2030, 3, 5, 2, 0, tzinfo=dt.UTC)
CLAIMED = NOW - dt.timedelta(minutes=1)
EARLIER = NOW - dt.timedelta(days=1)
LATER = NOW + dt.timedelta(hours=6)

SENDING, PLANNED = ReminderStatus.SENDING, ReminderStatus.PLANNED

# The starting state of each reminder of a set, by position.
START = [
    {"status": SENDING, "claimed_at": CLAIMED, "tries": 1},
    {"status": SENDING, "claimed_at": CLAIMED, "tries": 2, "reason": "retry", "last_error": "504"},
    {"status": SENDING, "claimed_at": CLAIMED},
    {"status": PLANNED, "reason": "daily_limit", "not_before": LATER},
    {"status": ReminderStatus.SENT, "provider_ref": "gw-1", "finished_at": EARLIER, "tries": 1},
    {"status": ReminderStatus.CLOSED, "reason": "paid", "finished_at": EARLIER},
    {"status": ReminderStatus.FAILED, "reason": "template_error", "last_error": "x", "tries": 3},
    {"status": ReminderStatus.QUEUED, "finished_at": EARLIER},
    {"status": ReminderStatus.UNKNOWN, "reason": "outcome_unknown", "claimed_at": EARLIER},
    {"status": SENDING, "claimed_at": CLAIMED, "tries": 4},
]

# Compared as they are; the foreign keys differ between the sets by construction.
OWN_FIELDS = [
    f.attname for f in Reminder._meta.concrete_fields if not f.is_relation and not f.primary_key
]
ATTEMPT_FIELDS = [
    f.attname
    for f in ContactAttempt._meta.concrete_fields
    if not f.primary_key and f.attname not in ("debtor_id", "loan_id", "decision_id")
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


class Twin:
    """One set: a debtor's loan, a reminder per ``START`` entry, a pending attempt for each
    (granted by a decision, as the gate's permits are)."""

    def __init__(self):
        debtor = make_debtor()
        loan = make_loan(debtor)
        installment = loan.installments.get(sequence=1)
        self.reminders = [make_reminder(loan, installment, **fields) for fields in START]
        policy = ContactPolicy.objects.filter(is_current=True, is_default=True).get()
        self.attempts = []
        for reminder in self.reminders:
            decision = ContactDecision.objects.create(
                decided_at=EARLIER,
                actor_label=f"system: reminder #{reminder.pk}",
                debtor=debtor,
                channel="sms",
                loan=loan,
                allowed=True,
                reasons=[],
                timezones=["Asia/Shanghai"],
                policy=policy,
                policy_slug=policy.slug,
                policy_version=policy.version,
            )
            self.attempts.append(
                ContactAttempt.objects.create(
                    debtor=debtor,
                    loan=loan,
                    channel="sms",
                    direction="outbound",
                    outcome=Outcome.PENDING,
                    occurred_at=EARLIER,
                    actor_label="system: dispatcher",
                    decision=decision,
                )
            )

    def id(self, position: int) -> int:
        return self.reminders[position].pk

    def attempt(self, position: int) -> int:
        return self.attempts[position].pk

    def rows(self) -> list[dict]:
        """Each reminder's fields, its attempt named by position (the sets' ids differ)."""
        positions = {a.pk: n for n, a in enumerate(self.attempts)}
        found = Reminder.objects.in_bulk([r.pk for r in self.reminders])
        rows = []
        for reminder in self.reminders:
            row = found[reminder.pk]
            values = {name: getattr(row, name) for name in OWN_FIELDS}
            values["attempt"] = positions.get(row.contact_attempt_id, row.contact_attempt_id)
            rows.append(values)
        return rows

    def attempt_rows(self) -> list[dict]:
        found = ContactAttempt.objects.in_bulk([a.pk for a in self.attempts])
        return [
            {name: getattr(found[a.pk], name) for name in ATTEMPT_FIELDS} for a in self.attempts
        ]

    def positions(self, ids) -> set[int]:
        return {n for n, r in enumerate(self.reminders) if r.pk in set(ids)}


def _orm_update(reminder_id: int, **fields) -> bool:
    """The reference: the single-row conditional UPDATE of ``reminders.services``."""
    return bool(Reminder.objects.filter(pk=reminder_id, status=SENDING).update(**fields))


def _changed(before: list[dict], after: list[dict]) -> set[int]:
    return {n for n, (old, new) in enumerate(zip(before, after, strict=True)) if old != new}


def _compare(a: Twin, b: Twin, before: list[dict], *, listed: set[int]) -> set[int]:
    """Both sets agree row by row; the change touched some listed rows and left the others."""
    after = a.rows()
    assert after == b.rows()
    changed = _changed(before, after)
    assert changed, "nothing changed: the comparison proves nothing"
    assert changed <= listed
    assert listed - changed, "every listed row changed: none was left alone"
    return changed


def test_release_many_is_the_orms_conditional_update():
    a, b = Twin(), Twin()
    before = a.rows()
    assert before == b.rows()
    # (position, not_before, reason): sending rows, and rows that are not sending any more.
    wanted = [
        (0, LATER, "outside_contact_hours"),
        (1, LATER, "retry"),
        (3, NOW, "x"),
        (4, NOW, "y"),
    ]
    wanted += [(6, NOW, "z"), (9, LATER + dt.timedelta(hours=1), "daily_limit")]

    linked = services.reminders_settle(released=[(a.id(n), when, why) for n, when, why in wanted])
    for n, when, why in wanted:
        _orm_update(
            b.id(n), status=PLANNED, not_before=when, reason=why, last_error="", claimed_at=None
        )

    assert linked == set()
    changed = _compare(a, b, before, listed={n for n, _when, _why in wanted})
    assert changed == {0, 1, 9}
    assert {row["status"] for row in a.rows()[:2]} == {PLANNED}


def test_close_many_is_the_orms_conditional_update():
    a, b = Twin(), Twin()
    before = a.rows()
    wanted = [(2, "superseded", ""), (9, "no_contact_point", "no usable contact point for sms")]
    wanted += [(3, "superseded", ""), (5, "expired", "late"), (8, "paid", "")]

    services.reminders_settle(closed=[(a.id(n), why, error) for n, why, error in wanted])
    for n, why, error in wanted:
        _orm_update(
            b.id(n),
            status=ReminderStatus.CLOSED,
            reason=why,
            last_error=error,
            finished_at=timezone.now(),
        )

    changed = _compare(a, b, before, listed={n for n, _why, _error in wanted})
    assert changed == {2, 9}
    assert a.rows()[9]["finished_at"] == NOW


def test_link_attempts_is_the_orms_conditional_update_and_names_the_rows_it_linked():
    a, b = Twin(), Twin()
    before = a.rows()
    wanted = [0, 1, 2, 3, 4, 7]

    linked = services.reminders_settle(attempts=[(a.id(n), a.attempt(n)) for n in wanted])
    linked_by_orm = {
        n
        for n in wanted
        if _orm_update(b.id(n), contact_attempt_id=b.attempt(n), tries=F("tries") + 1)
    }

    assert a.positions(linked) == linked_by_orm
    changed = _compare(a, b, before, listed=set(wanted))
    assert changed == linked_by_orm == {0, 1, 2}
    assert [row["tries"] for row in a.rows()[:3]] == [2, 3, 1]


def test_one_settle_releases_closes_then_links_like_the_orm_in_that_order():
    """A row released in the same call is no longer ``sending`` when the attempts are linked:
    it does not take its attempt, in either set."""
    a, b = Twin(), Twin()
    before = a.rows()
    released = [(0, LATER, "retry"), (3, LATER, "retry")]
    closed = [(1, "superseded", ""), (4, "superseded", "")]
    attempts = [0, 1, 2, 9, 5]

    linked = services.reminders_settle(
        released=[(a.id(n), when, why) for n, when, why in released],
        closed=[(a.id(n), why, error) for n, why, error in closed],
        attempts=[(a.id(n), a.attempt(n)) for n in attempts],
    )
    for n, when, why in released:
        _orm_update(
            b.id(n), status=PLANNED, not_before=when, reason=why, last_error="", claimed_at=None
        )
    for n, why, error in closed:
        _orm_update(
            b.id(n),
            status=ReminderStatus.CLOSED,
            reason=why,
            last_error=error,
            finished_at=timezone.now(),
        )
    linked_by_orm = {
        n
        for n in attempts
        if _orm_update(b.id(n), contact_attempt_id=b.attempt(n), tries=F("tries") + 1)
    }

    assert a.positions(linked) == linked_by_orm == {2, 9}
    listed = {n for n, *_rest in released} | {n for n, *_rest in closed} | set(attempts)
    assert _compare(a, b, before, listed=listed) == {0, 1, 2, 9}


def test_mark_sent_is_the_orms_conditional_update_and_completes_only_its_attempts(monkeypatch):
    a, b = Twin(), Twin()
    before, attempts_before = a.rows(), a.attempt_rows()
    assert attempts_before == b.attempt_rows()
    long_ref = "gw-" + "9" * 250  # longer than the column: cut to 200, as the single-row path
    wanted = [(0, "gw-100"), (1, long_ref), (9, "gw-109"), (3, "gw-103"), (4, "gw-104")]
    wanted += [(7, "gw-107")]
    completed: list[list[int]] = []

    def spy(*, attempt_ids, outcome, now=None):
        completed.append(list(attempt_ids))
        return permit_attempts_complete(attempt_ids=attempt_ids, outcome=outcome, now=now)

    monkeypatch.setattr(services, "permit_attempts_complete", spy)
    count = services.reminders_mark_sent(sent=[(a.id(n), a.attempt(n), ref) for n, ref in wanted])

    sent_by_orm = [
        n
        for n, ref in wanted
        if _orm_update(
            b.id(n),
            status=ReminderStatus.SENT,
            provider_ref=ref[:200],
            reason="",
            last_error="",
            contact_attempt_id=b.attempt(n),
            finished_at=timezone.now(),
        )
    ]
    permit_attempts_complete(
        attempt_ids=[b.attempt(n) for n in sent_by_orm], outcome=Outcome.SENT, now=timezone.now()
    )

    assert count == len(sent_by_orm) == 3
    changed = _compare(a, b, before, listed={n for n, _ref in wanted})
    assert changed == set(sent_by_orm) == {0, 1, 9}
    assert a.rows()[1]["provider_ref"] == long_ref[:200]
    # The attempts completed are exactly the returned ones, those of the rows that changed.
    assert len(completed) == 1
    assert sorted(completed[0]) == sorted(a.attempt(n) for n in sent_by_orm)
    attempts_after = a.attempt_rows()
    assert attempts_after == b.attempt_rows()
    assert _changed(attempts_before, attempts_after) == set(sent_by_orm)
    for n in sent_by_orm:
        assert attempts_after[n]["outcome"] == Outcome.SENT
        assert attempts_after[n]["completed_at"] == NOW
        assert attempts_after[n]["breach_policy_id"] is not None
    assert {attempts_after[n]["outcome"] for n in (2, 3, 4, 7)} == {Outcome.PENDING}


def test_nothing_to_settle_or_mark_changes_nothing():
    a = Twin()
    before = a.rows()
    assert services.reminders_settle() == set()
    assert services.reminders_mark_sent(sent=[]) == 0
    assert a.rows() == before


# --- The planner's insert ------------------------------------------------------------------

TODAY = NOW.date()
ACTIVE = RepaymentPlan.Status.ACTIVE
PLANNED_FIELDS = (
    "loan_id",
    "installment_id",
    "plan_installment_id",
    "stage_id",
    "scheduled_for",
    "due_date",
    "channel",
    "debtor_id",
    "status",
    "not_before",
)


def _planned_by_orm(now: dt.datetime) -> set[tuple]:
    """The reference: what the planner's rules ask for, each stage and day in ORM queries."""
    today = now.astimezone(dt.UTC).date()
    bands = planner.strategy_bands()
    stages = list(ReminderStage.objects.filter(is_active=True, strategy__is_active=True))
    gaps = planner.stage_gaps(stages)
    in_plan = Exists(RepaymentPlan.objects.filter(loan=OuterRef("pk"), status=ACTIVE))
    rows = set()
    for stage in stages:
        stage_bands = [b for b in bands[stage.strategy_id] if b in (stage.risk_bands or [b])]
        loans = (
            Loan.objects.exclude(status__in=Loan.CLOSED_STATUSES)
            .exclude(debtor__case__status=Case.Status.CLOSED)
            .filter(risk_band__in=stage_bands)
            .alias(balance=F("principal_balance") + F("interest_balance") + F("fees_balance"))
        )
        if stage.min_balance is not None:
            loans = loans.filter(balance__gte=stage.min_balance)
        if stage.max_balance is not None:
            loans = loans.filter(balance__lte=stage.max_balance)
        if stage.products:
            loans = loans.filter(product__in=stage.products)
        for day in planner.planning_days(today, gaps[stage.pk]):
            due = day - dt.timedelta(days=stage.offset_days)
            still_open = {"due_date": due, "amount_paid__lt": F("amount_due")}
            if stage.has_active_plan is not True:
                own = Installment.objects.filter(
                    loan__in=loans.alias(in_plan=in_plan).filter(in_plan=False), **still_open
                )
                for loan_id, item_id, debtor_id in own.values_list("loan_id", "id", "loan__debtor"):
                    rows.add((loan_id, item_id, None, stage.pk, day, due, stage.channel, debtor_id))
            if stage.has_active_plan is not False:
                planned = PlanInstallment.objects.filter(
                    plan__status=ACTIVE, plan__loan__in=loans, **still_open
                ).values_list("plan__loan", "id", "plan__loan__debtor")
                for loan_id, item_id, debtor_id in planned:
                    rows.add((loan_id, None, item_id, stage.pk, day, due, stage.channel, debtor_id))
    return {(*row, ReminderStatus.PLANNED, _not_before(now, row[4])) for row in rows}


def _not_before(now: dt.datetime, day: dt.date) -> dt.datetime:
    """A row is due from the earliest local midnight of its day anywhere (UTC+14), or now."""
    return max(now, dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(hours=14))


def _planned_rows() -> set[tuple]:
    return set(Reminder.objects.values_list(*PLANNED_FIELDS))


def _stage(slug: str, offset: int, channel: str, **conditions) -> ReminderStage:
    return ReminderStage.objects.create(
        strategy=ReminderStrategy.objects.get(slug=slug),
        name=f"Test T+{offset}",
        offset_days=offset,
        channel=channel,
        template_key="overdue",
        **conditions,
    )


def _ago(back: int) -> dt.date:
    """The date ``back`` days before today."""
    return TODAY - dt.timedelta(days=back)


def _loan(debtor, band: str, due: dt.date, amount="1000.00", paid="0.00", **fields) -> Loan:
    loan = make_loan(
        debtor, installments=[(due, Decimal(amount))], risk_band=band, currency="CNY", **fields
    )
    Installment.objects.filter(loan=loan).update(amount_paid=Decimal(paid))
    return loan


def _plan(loan: Loan, due: dt.date, status=ACTIVE, paid="0.00") -> PlanInstallment:
    plan = RepaymentPlan.objects.create(
        loan=loan,
        status=status,
        outstanding_at_creation=loan.principal_balance,
        total_amount=loan.principal_balance,
    )
    return PlanInstallment.objects.create(
        plan=plan,
        sequence=1,
        due_date=due,
        amount_due=loan.principal_balance,
        amount_paid=Decimal(paid),
    )


def test_the_planners_insert_plans_what_the_orm_asks_for():
    seed_portfolio(seed=7, debtors=60, today=TODAY, method="orm")
    # Firm collection is switched off: high-risk loans fall to the default strategy (gentle),
    # whose stages may then be limited to a band; firm's own stages plan nothing.
    ReminderStrategy.objects.filter(slug="firm").update(is_active=False)
    product = _stage(
        "standard",
        4,
        "email",
        products=["bnpl", "auto_loan"],
        min_balance=Decimal("500"),
        max_balance=Decimal("50000"),
    )
    without_plan = _stage("standard", 3, "in_app", has_active_plan=False)
    with_plan = _stage("gentle", 2, "sms", has_active_plan=True)
    high_only = _stage("gentle", 6, "letter", risk_bands=["high"])
    inactive = _stage("gentle", 5, "email", is_active=False)

    debtor = make_debtor()
    wanted = {
        "bnpl": _loan(debtor, "medium", _ago(4), product="bnpl"),
        "part paid": _loan(debtor, "medium", _ago(4), paid="300.00", product="auto_loan"),
        "no plan": _loan(debtor, "medium", _ago(3), product="personal_loan"),
        "plan": _loan(debtor, "low", _ago(20)),
        "high": _loan(debtor, "high", _ago(6)),
        "high in plan": _loan(debtor, "high", _ago(30)),
        "proposed plan": _loan(debtor, "low", _ago(2)),
    }
    # Each left alone by the stage named (None: by every stage).
    left_alone = {
        "product": (_loan(debtor, "medium", _ago(4), product="personal_loan"), product),
        "too small": (_loan(debtor, "medium", _ago(4), amount="100.00", product="bnpl"), product),
        "too large": (_loan(debtor, "medium", _ago(4), amount="60000.00", product="bnpl"), product),
        "closed": (_loan(debtor, "medium", _ago(4), product="bnpl", status=Loan.Status.PAID), None),
        "paid": (_loan(debtor, "medium", _ago(4), paid="1000.00", product="bnpl"), None),
        "in plan": (_loan(debtor, "medium", _ago(3), product="personal_loan"), None),
        "low band": (_loan(debtor, "low", _ago(6)), high_only),
        "paid plan": (_loan(debtor, "low", _ago(20)), None),
    }
    loans = {name: loan for name, (loan, _by) in left_alone.items()}
    _plan(wanted["plan"], _ago(2))
    _plan(wanted["high in plan"], _ago(1))
    _plan(wanted["proposed plan"], _ago(40), status=RepaymentPlan.Status.PROPOSED)
    _plan(loans["in plan"], _ago(40))
    _plan(loans["paid plan"], _ago(2), paid=str(loans["paid plan"].principal_balance))

    expected = _planned_by_orm(NOW)
    counts = planner.plan(now=NOW, reconcile=False)

    planned = _planned_rows()
    assert planned == expected
    assert counts["planned"] == len(expected)
    by_channel = Counter(row[6] for row in expected)
    assert {k: v for k, v in counts.items() if k != "planned"} == by_channel
    # A second run finds everything planned already.
    assert planner.plan(now=NOW, reconcile=False)["planned"] == 0
    assert _planned_rows() == expected

    # Not vacuous: the seeded loans and both paths have rows, every test stage plans its
    # loans, and the loans a rule excludes are left alone.
    stages_of: dict[int, set[int]] = {}
    for row in expected:
        stages_of.setdefault(row[0], set()).add(row[3])
    ours = {loan.pk for loan in [*wanted.values(), *loans.values()]}
    assert len(set(stages_of) - ours) >= 10
    assert any(row[1] for row in expected) and any(row[2] for row in expected)
    assert product.pk in stages_of[wanted["bnpl"].pk] & stages_of[wanted["part paid"].pk]
    assert without_plan.pk in stages_of[wanted["no plan"].pk]
    assert with_plan.pk in stages_of[wanted["plan"].pk] & stages_of[wanted["high in plan"].pk]
    assert high_only.pk in stages_of[wanted["high"].pk]
    # A proposed plan is not an active one: the loan's own installment is reminded.
    assert any(row[0] == wanted["proposed plan"].pk and row[1] for row in expected)
    for name, (loan, stage) in left_alone.items():
        if stage is None:
            assert loan.pk not in stages_of, name
        else:
            assert stage.pk not in stages_of.get(loan.pk, set()), name
    firm = ReminderStage.objects.filter(strategy__slug="firm").values_list("pk", flat=True)
    assert not {*firm, inactive.pk} & {row[3] for row in expected}
