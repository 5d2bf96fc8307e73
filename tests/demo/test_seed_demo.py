"""``manage.py seed_demo``: deterministic, consistent, every stage and story, both writers."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F, Sum

from cases.models import Case
from compliance.models import ContactAttempt
from debtors.models import (
    ChannelConsent,
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PaymentAllocation,
    PlanInstallment,
    PromiseToPay,
    RepaymentPlan,
)
from debtors.validators import normalize_phone
from demo.seeding import names, seed_portfolio
from demo.seeding.generator import PortfolioGenerator

from ..factories import make_debtor

TODAY = dt.date(2026, 6, 15)
ZERO = Decimal("0")

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _seed(**kwargs) -> None:
    call_command("seed_demo", "--today", TODAY.isoformat(), *kwargs.pop("args", ()), **kwargs)


def _fingerprint() -> dict:
    return {
        "debtors": list(
            Debtor.objects.order_by("external_ref").values_list(
                "external_ref", "full_name", "country", "timezone", "national_id"
            )
        ),
        "loans": list(
            Loan.objects.order_by("external_ref").values_list(
                "external_ref",
                "principal",
                "principal_balance",
                "interest_balance",
                "status",
                "oldest_unpaid_due_date",
            )
        ),
        "installments": list(
            Installment.objects.order_by("loan__external_ref", "sequence").values_list(
                "loan__external_ref", "sequence", "due_date", "amount_due", "amount_paid"
            )
        ),
        "contacts": sorted(ContactPoint.objects.values_list("debtor__external_ref", "value")),
        "cases": list(
            Case.objects.order_by("debtor__external_ref").values_list(
                "debtor__external_ref", "status", "max_days_past_due", "total_outstanding"
            )
        ),
    }


def _fingerprint_of_run(**kwargs) -> dict:
    """Seed inside a savepoint, read everything, roll it back."""
    try:
        with transaction.atomic():
            seed_portfolio(today=TODAY, **kwargs)
            fingerprint = _fingerprint()
            raise _Rollback
    except _Rollback:
        pass
    return fingerprint


def _band(loan: Loan) -> str:
    if loan.oldest_unpaid_due_date is None:
        return "paid"
    days = (TODAY - loan.oldest_unpaid_due_date).days
    if days <= 0:
        return "pre_due"
    for high, name in ((30, "1-30"), (60, "31-60"), (90, "61-90"), (180, "91-180")):
        if days <= high:
            return name
    return "180+"


def assert_portfolio_consistent() -> None:
    """The invariants both writers must keep, checked row by row in Python."""
    active_plans = {
        p.loan_id: p for p in RepaymentPlan.objects.filter(status=RepaymentPlan.Status.ACTIVE)
    }
    schedules: dict[int, list] = {}
    for inst in Installment.objects.all():
        if inst.loan_id not in active_plans:
            schedules.setdefault(inst.loan_id, []).append(inst)
    plan_loans = {p.pk: loan_id for loan_id, p in active_plans.items()}
    for inst in PlanInstallment.objects.filter(plan_id__in=plan_loans):
        schedules.setdefault(plan_loans[inst.plan_id], []).append(inst)

    loans = list(Loan.objects.all())
    assert loans
    for loan in loans:
        schedule = schedules[loan.pk]
        unpaid = [i for i in schedule if i.amount_paid < i.amount_due]
        expected_oldest = min((i.due_date for i in unpaid), default=None)
        assert loan.oldest_unpaid_due_date == expected_oldest, loan.external_ref
        outstanding = sum((i.amount_due - i.amount_paid for i in schedule), ZERO)
        assert loan.outstanding == outstanding, loan.external_ref
        assert loan.principal_balance == min(loan.principal, outstanding)
        assert loan.credit_balance == ZERO
        if loan.status in (Loan.Status.LEGAL, Loan.Status.CHARGED_OFF):
            assert outstanding > 0
        elif outstanding == 0:
            assert loan.status == Loan.Status.PAID, loan.external_ref
        elif loan.pk in active_plans:
            assert loan.status == Loan.Status.IN_PLAN, loan.external_ref
        elif expected_oldest < TODAY:
            assert loan.status == Loan.Status.DELINQUENT, loan.external_ref
        else:
            assert loan.status == Loan.Status.CURRENT, loan.external_ref

    by_debtor: dict[int, list[Loan]] = {}
    for loan in loans:
        by_debtor.setdefault(loan.debtor_id, []).append(loan)
    broken = Counter(
        PromiseToPay.objects.filter(status=PromiseToPay.Status.BROKEN).values_list(
            "loan__debtor_id", flat=True
        )
    )
    debtors = {d.pk: d for d in Debtor.objects.all()}
    cases = list(Case.objects.all())
    # Every seeded debtor has its case (debtors made by the test factories have none).
    seeded = {pk for pk, d in debtors.items() if d.external_ref.startswith("S")}
    assert {case.debtor_id for case in cases} == seeded
    for case in cases:
        open_loans = [
            loan
            for loan in by_debtor.get(case.debtor_id, [])
            if loan.status not in Loan.CLOSED_STATUSES
        ]
        assert case.total_outstanding == sum((loan.outstanding for loan in open_loans), ZERO)
        assert case.max_days_past_due == max(
            (loan.days_past_due(TODAY) for loan in open_loans), default=0
        )
        assert case.broken_promises == broken.get(case.debtor_id, 0)
        debtor = debtors[case.debtor_id]
        held = any(
            getattr(debtor, flag) for flag in Debtor.HOLD_FLAGS
        ) or debtor.hardship_paused_on(TODAY)
        if not open_loans:
            assert case.status == Case.Status.CLOSED
            assert case.closed_reason == Case.ClosedReason.PAID
        elif held:
            assert case.status == Case.Status.ON_HOLD
        elif any(loan.status == Loan.Status.IN_PLAN for loan in open_loans):
            assert case.status == Case.Status.IN_PLAN
        else:
            assert case.status == Case.Status.OPEN

    # Money adds up: every payment is fully allocated, every allocation lands on an installment,
    # and what installments show as paid is what was allocated to them (a kept plan settles
    # the loan's own installments when it completes, without allocations of their own).
    for payment in Payment.objects.annotate(allocated=Sum("allocations__amount")):
        assert payment.allocated == payment.amount == payment.allocated_amount
    kept_plan_loans = set(
        RepaymentPlan.objects.filter(status=RepaymentPlan.Status.KEPT).values_list(
            "loan_id", flat=True
        )
    )
    allocated = dict(
        PaymentAllocation.objects.filter(installment__isnull=False)
        .values_list("installment_id")
        .annotate(total=Sum("amount"))
    )
    for inst in Installment.objects.exclude(loan_id__in=kept_plan_loans):
        assert inst.amount_paid == allocated.get(inst.pk, ZERO)
        assert (inst.paid_at is not None) == (inst.amount_paid == inst.amount_due)
    plan_allocated = dict(
        PaymentAllocation.objects.filter(plan_installment__isnull=False)
        .values_list("plan_installment_id")
        .annotate(total=Sum("amount"))
    )
    for inst in PlanInstallment.objects.all():
        assert inst.amount_paid == plan_allocated.get(inst.pk, ZERO)
    for plan in RepaymentPlan.objects.annotate(planned=Sum("installments__amount_due")):
        assert plan.planned == plan.total_amount
        assert plan.outstanding_at_creation == plan.total_amount + plan.discount_amount


class TestDeterminism:
    def test_same_seed_same_records(self):
        first = list(PortfolioGenerator(seed=7, today=TODAY, debtors=60))
        second = list(PortfolioGenerator(seed=7, today=TODAY, debtors=60))
        assert first == second
        assert [d.full_name for d in first] != [
            d.full_name for d in PortfolioGenerator(seed=8, today=TODAY, debtors=60)
        ]

    def test_a_debtor_does_not_depend_on_the_size_of_the_run(self):
        small = list(PortfolioGenerator(seed=3, today=TODAY, debtors=10))
        large = list(PortfolioGenerator(seed=3, today=TODAY, debtors=50))
        assert large[:10] == small

    def test_same_seed_same_rows(self):
        first = _fingerprint_of_run(seed=11, debtors=40, method="orm")
        second = _fingerprint_of_run(seed=11, debtors=40, method="orm")
        assert first == second
        assert len(first["loans"]) >= 40

    def test_loans_option_makes_exactly_that_many(self):
        seed_portfolio(seed=2, loans=57, today=TODAY, method="orm")
        assert Loan.objects.count() == 57


class TestSmallDemo:
    @pytest.fixture
    def demo(self):
        _seed(seed=1)
        return None

    def test_default_size_and_derived_fields(self, demo):
        assert Debtor.objects.count() == 200
        assert Case.objects.count() == 200
        assert_portfolio_consistent()

    def test_every_stage_is_represented(self, demo):
        bands = Counter(_band(loan) for loan in Loan.objects.all())
        for band in ("paid", "pre_due", "1-30", "31-60", "61-90", "91-180", "180+"):
            assert bands[band] > 0, band
        statuses = set(Loan.objects.values_list("status", flat=True))
        assert {"current", "delinquent", "in_plan", "paid", "legal"} <= statuses

    def test_stories_are_represented(self, demo):
        assert set(RepaymentPlan.objects.values_list("status", flat=True)) >= {
            "active",
            "kept",
            "broken",
        }
        assert RepaymentPlan.objects.filter(discount_amount__gt=0, status="active").exists()
        assert set(PromiseToPay.objects.values_list("status", flat=True)) >= {
            "pending",
            "kept",
            "broken",
        }
        # Partly paid installments.
        assert (
            Installment.objects.filter(amount_paid__gt=0)
            .exclude(amount_paid__gte=F("amount_due"))
            .exists()
        )
        assert ChannelConsent.objects.filter(
            opted_out_at__isnull=False, contact_point=None
        ).exists()
        assert ChannelConsent.objects.filter(
            opted_out_at__isnull=False, contact_point__isnull=False
        ).exists()
        assert Debtor.objects.filter(dispute=True).exclude(dispute_reason="").exists()
        assert Debtor.objects.filter(cease_communication=True).exists()
        assert Debtor.objects.filter(hardship_pause_until__gte=TODAY).exists()
        assert set(ContactPoint.objects.values_list("status", flat=True)) >= {
            "valid",
            "unverified",
            "invalid",
            "wrong_party",
        }
        assert set(Case.objects.values_list("status", flat=True)) >= {
            "open",
            "in_plan",
            "on_hold",
            "closed",
        }

    def test_countries_zones_and_languages(self, demo):
        assert set(Debtor.objects.values_list("country", flat=True)) >= {
            "CN",
            "US",
            "GB",
            "SG",
            "HK",
        }
        zones = set(Debtor.objects.values_list("timezone", flat=True))
        assert {"Asia/Shanghai", "America/New_York", "America/Los_Angeles", ""} <= zones
        assert Debtor.objects.filter(timezone="", country="US").exists()
        assert Debtor.objects.filter(preferred_language="zh-hans").exists()
        assert Debtor.objects.filter(preferred_language="en").exists()
        assert Debtor.objects.filter(full_name__regex=r"^[\u4e00-\u9fff]+$").exists()
        assert Debtor.objects.filter(full_name__regex=r"^[A-Za-z' ]+$").exists()

    def test_phone_numbers_are_valid(self, demo):
        phones = ContactPoint.objects.filter(kind__in=ContactPoint.PHONE_KINDS)
        assert phones.count() > 200
        for point in phones:
            assert normalize_phone(point.value, None) == point.value

    def test_history_is_attributed_to_seed_demo(self, demo):
        for model in (Debtor, Loan, Installment, Payment, PromiseToPay, RepaymentPlan, Case):
            labels = set(model.history.values_list("actor_label", flat=True))
            assert labels == {"system: seed_demo"}, model
            assert model.history.count() == model.objects.count()


class TestIfEmpty:
    def test_second_run_does_nothing(self):
        _seed(seed=4, debtors=15, args=["--if-empty"])
        counts = (Debtor.objects.count(), Loan.objects.count(), Payment.objects.count())
        _seed(seed=4, debtors=15, args=["--if-empty"])
        _seed(seed=5, debtors=15, args=["--if-empty"])
        assert (Debtor.objects.count(), Loan.objects.count(), Payment.objects.count()) == counts

    def test_existing_debtors_are_left_alone(self):
        make_debtor()
        _seed(seed=4, debtors=15, args=["--if-empty"])
        assert Debtor.objects.count() == 1
        assert not Loan.objects.exists()

    def test_the_same_seed_twice_is_refused(self):
        _seed(seed=6, debtors=5)
        with pytest.raises(CommandError, match="already in this database"):
            _seed(seed=6, debtors=5)

    def test_another_seed_adds_to_the_portfolio(self):
        _seed(seed=6, debtors=5)
        _seed(seed=9, debtors=5)
        assert Debtor.objects.count() == 10


class TestCopyPath:
    def test_copy_keeps_the_invariants(self):
        result = seed_portfolio(seed=21, debtors=150, today=TODAY, method="copy")
        assert result.method == "copy"
        assert Debtor.objects.count() == 150
        assert_portfolio_consistent()
        bands = Counter(_band(loan) for loan in Loan.objects.all())
        for band in ("paid", "pre_due", "1-30", "31-60", "61-90", "91-180", "180+"):
            assert bands[band] > 0, band
        # Benchmark data: no history rows (see demo.seeding.copy).
        assert not Loan.history.exists()

    def test_an_exact_number_of_loans_caps_the_last_debtor_and_its_calls(self):
        """The last debtor keeps only some of its loans: its calls follow the loans kept."""
        generator = PortfolioGenerator(seed=23, today=TODAY, debtors=400)
        loans, capped = 0, None
        for n in range(400):
            whole = generator.record(n)
            if len(whole.loans) > 1 and any(call.loan >= 1 for call in whole.calls):
                capped = loans + 1  # this debtor keeps its first loan only
                break
            loans += len(whole.loans)
        assert capped is not None
        seed_portfolio(seed=23, loans=capped, today=TODAY, method="copy", chunk_debtors=7)
        assert Loan.objects.count() == capped
        assert not ContactAttempt.objects.exclude(loan__debtor=F("debtor")).exists()
        assert_portfolio_consistent()

    def test_copy_and_orm_produce_the_same_portfolio(self):
        orm = _fingerprint_of_run(seed=33, debtors=80, method="orm")
        copy = _fingerprint_of_run(seed=33, debtors=80, method="copy")
        assert orm == copy

    def test_copy_adds_after_existing_rows_and_keeps_sequences_right(self):
        make_debtor()
        seed_portfolio(seed=22, debtors=30, today=TODAY, method="copy", chunk_debtors=7)
        assert Debtor.objects.count() == 31
        # The next ordinary insert gets a fresh id (the sequences moved past the copied rows).
        later = make_debtor()
        assert later.pk > Debtor.objects.exclude(pk=later.pk).order_by("-pk").first().pk
        assert_portfolio_consistent()

    def test_copy_without_a_forked_generator(self):
        from demo.seeding.copy import seed_with_copy

        now = dt.datetime.combine(TODAY, dt.time(12), dt.UTC)
        generator = PortfolioGenerator(seed=23, today=TODAY, debtors=20)
        result = seed_with_copy(generator, today=TODAY, now=now, workers=0)
        assert result.counts["debtors.Debtor"] == 20
        assert_portfolio_consistent()


def test_phone_ranges_are_valid_for_any_subscriber_number():
    rng = random.Random(0)
    for country, (prefixes, digits) in names.MOBILE_RANGES.items():
        code = names.COUNTRY_CALLING_CODES[country]
        for prefix in prefixes:
            for _ in range(30):
                number = f"+{code}{prefix}{rng.randrange(10**digits):0{digits}d}"
                assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number
    for country, places in names.PLACES.items():
        code = names.COUNTRY_CALLING_CODES[country]
        for _city, _region, zone, prefixes, _streets in places:
            assert zone
            for prefix in prefixes:
                for _ in range(30):
                    if country == "US":
                        rest = f"{rng.randint(200, 999)}{rng.randrange(10**4):04d}"
                        if rest[1:3] == "11":
                            continue
                    else:
                        digits = names.LANDLINE_DIGITS[country]
                        rest = f"{rng.randrange(10**digits):0{digits}d}"
                    number = f"+{code}{prefix}{rest}"
                    assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_the_ledger_services_agree_with_the_seeded_derived_fields():
    """Recomputing with ``debtors.services`` changes nothing on a seeded portfolio."""
    from debtors import services

    seed_portfolio(seed=41, debtors=120, today=TODAY, method="copy")
    before = dict(Loan.objects.values_list("pk", "oldest_unpaid_due_date"))
    statuses = dict(Loan.objects.values_list("pk", "status"))
    for loan in Loan.objects.all():
        services.loan_refresh_derived(loan=loan, today=TODAY)
        assert (loan.oldest_unpaid_due_date, loan.status) == (before[loan.pk], statuses[loan.pk])
    plans_before = dict(RepaymentPlan.objects.values_list("pk", "status"))
    promises_before = dict(PromiseToPay.objects.values_list("pk", "status"))
    now = dt.datetime.combine(TODAY, dt.time(12), dt.UTC)
    services.plans_review(now=now)
    services.promises_resolve(now=now)
    assert dict(RepaymentPlan.objects.values_list("pk", "status")) == plans_before
    assert dict(PromiseToPay.objects.values_list("pk", "status")) == promises_before


def test_the_copied_derived_fields_are_what_the_sql_derivation_computes():
    """The COPY path writes the generator's derived fields without a second pass in SQL:
    that pass, run afterwards, finds nothing to correct."""
    from django.db import connection

    from demo.seeding import derive
    from demo.seeding.copy import seed_with_copy

    now = dt.datetime.combine(TODAY, dt.time(12), dt.UTC)
    generator = PortfolioGenerator(seed=52, today=TODAY, debtors=300)
    result = seed_with_copy(generator, today=TODAY, now=now, chunk_debtors=70)
    with connection.cursor() as cursor:
        assert derive.refresh_loans(cursor, loan_id_from=result.first_loan_id, today=TODAY) == 0
    messages = []
    generator = PortfolioGenerator(seed=53, today=TODAY, debtors=40)
    seed_with_copy(generator, today=TODAY, now=now, verify_derived=True, progress=messages.append)
    assert any("0 loans corrected" in message for message in messages)


def test_the_sql_derivation_corrects_wrong_derived_fields():
    """``derive.refresh_loans`` computes the fields itself; it does not trust what was copied."""
    from django.db import connection

    from demo.seeding import derive

    seed_portfolio(seed=51, debtors=60, today=TODAY, method="copy")
    first_loan = Loan.objects.order_by("pk").first().pk
    expected = set(
        Loan.objects.values_list(
            "pk", "oldest_unpaid_due_date", "principal_balance", "interest_balance", "status"
        )
    )
    scrambled = Loan.objects.exclude(status__in=["legal", "charged_off"])
    scrambled.update(
        oldest_unpaid_due_date=None, principal_balance=0, interest_balance=0, status="current"
    )
    with connection.cursor() as cursor:
        changed = derive.refresh_loans(cursor, loan_id_from=first_loan, today=TODAY)
        assert changed > 0
        # Once right, a second pass rewrites nothing.
        assert derive.refresh_loans(cursor, loan_id_from=first_loan, today=TODAY) == 0
    assert (
        set(
            Loan.objects.values_list(
                "pk", "oldest_unpaid_due_date", "principal_balance", "interest_balance", "status"
            )
        )
        == expected
    )
