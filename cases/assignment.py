"""Who works a case: the admins' ordered assignment rules deal out cases without a collector.

A case with no collector (or one whose collector is no longer active) goes to the first active
rule, lowest ``order`` first, whose conditions it meets and whose pool has an active collector:

* conditions: the debtor's country and preferred language, the product and risk band of one of
  its open loans, and ranges of days past due and of outstanding balance (the case's queue
  facts); a condition left empty matches anything;
* methods: ``round_robin`` deals the cases in turn around the pool (the rule remembers how many
  it dealt, so the turn carries on across calls); ``least_loaded`` gives each case to the
  collector with the fewest cases not closed at that moment (ties: the lowest user id).

It runs in the caller's transaction whenever a case is created, reopened or gets a new loan
(``cases.lifecycle.cases_follow_ledger``), for the whole portfolio on a supervisor's request
(``POST /api/v1/assignment-rules/apply/``), and when a collector is made inactive. A case no
rule matches stays unassigned, for a supervisor to deal by hand.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.lifecycle import write_with_history
from cases.models import AssignmentRule, Case
from cases.roles import COLLECTOR, is_admin, is_supervisor
from debtors.audit import Actor, acting_as
from debtors.models import Loan

WHY_RULE = "assignment rule %s"

RULE_FIELDS = (
    "name",
    "order",
    "is_active",
    "countries",
    "languages",
    "products",
    "risk_bands",
    "min_days_past_due",
    "max_days_past_due",
    "min_outstanding",
    "max_outstanding",
    "method",
)


def rule_condition(rule: AssignmentRule) -> Q:
    """The cases ``rule``'s conditions match, as a filter on ``Case``."""
    condition = Q()
    if rule.countries:
        condition &= Q(debtor__country__in=rule.countries)
    if rule.languages:
        condition &= Q(debtor__preferred_language__in=rule.languages)
    open_loans = Loan.objects.filter(debtor_id=OuterRef("debtor_id")).exclude(
        status__in=Loan.CLOSED_STATUSES
    )
    if rule.products:
        condition &= Q(Exists(open_loans.filter(product__in=rule.products)))
    if rule.risk_bands:
        condition &= Q(Exists(open_loans.filter(risk_band__in=rule.risk_bands)))
    if rule.min_days_past_due is not None:
        condition &= Q(max_days_past_due__gte=rule.min_days_past_due)
    if rule.max_days_past_due is not None:
        condition &= Q(max_days_past_due__lte=rule.max_days_past_due)
    if rule.min_outstanding is not None:
        condition &= Q(total_outstanding__gte=rule.min_outstanding)
    if rule.max_outstanding is not None:
        condition &= Q(total_outstanding__lte=rule.max_outstanding)
    return condition


def _pool(rule: AssignmentRule) -> list:
    return list(
        rule.collectors.filter(is_active=True, groups__name=COLLECTOR).distinct().order_by("id")
    )


def _deal(rule: AssignmentRule, cases: list[Case], pool: list) -> dict[int, list[Case]]:
    """Which of ``pool`` gets each of ``cases`` (in id order), by the rule's method."""
    dealt: dict[int, list[Case]] = {user.pk: [] for user in pool}
    if rule.method == AssignmentRule.Method.LEAST_LOADED:
        loads = dict(
            Case.objects.filter(assigned_to__in=pool)
            .exclude(status=Case.Status.CLOSED)
            .values("assigned_to")
            .annotate(n=Count("id"))
            .values_list("assigned_to", "n")
        )
        heap = [(loads.get(user.pk, 0), user.pk) for user in pool]
        heapq.heapify(heap)
        for case in cases:
            load, user_id = heapq.heappop(heap)
            dealt[user_id].append(case)
            heapq.heappush(heap, (load + 1, user_id))
    else:
        for offset, case in enumerate(cases):
            dealt[pool[(rule.dealt + offset) % len(pool)].pk].append(case)
        rule.dealt += len(cases)
        # The turn is bookkeeping, not a change of the rule: no history row.
        AssignmentRule.objects.filter(pk=rule.pk).update(dealt=rule.dealt)
    return dealt


@transaction.atomic
def cases_assign(
    *,
    debtor_ids: Iterable[int] | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Deal the cases not closed that have no active collector (all, or ``debtor_ids``') by the
    rules. Returns how many were assigned."""
    now = now or timezone.now()
    waiting = Case.objects.exclude(status=Case.Status.CLOSED).filter(
        Q(assigned_to__isnull=True) | Q(assigned_to__is_active=False)
    )
    if debtor_ids is not None:
        ids = list(debtor_ids)
        if not ids:
            return 0
        waiting = waiting.filter(debtor_id__in=ids)
    if not waiting.exists():
        return 0
    assigned = 0
    taken: set[int] = set()
    for rule in AssignmentRule.objects.select_for_update().filter(is_active=True):
        pool = _pool(rule)
        if not pool:
            continue
        cases = list(
            waiting.filter(rule_condition(rule))
            .exclude(pk__in=taken)
            .select_for_update(of=("self",))
            .order_by("id")
        )
        if not cases:
            continue
        for user_id, given in _deal(rule, cases, pool).items():
            for case in given:
                case.assigned_to_id = user_id
            write_with_history(
                given, fields=["assigned_to"], actor=actor, why=WHY_RULE % rule.name, now=now
            )
        taken.update(case.pk for case in cases)
        assigned += len(cases)
    return assigned


@transaction.atomic
def cases_assign_apply(*, actor, now: dt.datetime | None = None) -> int:
    """A supervisor deals out every open case that has no (active) collector."""
    if not is_supervisor(actor):
        raise PermissionDenied(_("Only a supervisor may deal out cases."))
    return cases_assign(actor=actor, now=now)


@transaction.atomic
def collector_cases_redeal(*, user, actor: Actor | None = None, now=None) -> int:
    """Deal again the open cases of ``user`` once they are no longer active."""
    if user.is_active:
        return 0
    debtor_ids = list(
        Case.objects.filter(assigned_to=user)
        .exclude(status=Case.Status.CLOSED)
        .values_list("debtor_id", flat=True)
    )
    return cases_assign(debtor_ids=debtor_ids, actor=actor, now=now)


# --- The rules themselves (admins) ----------------------------------------------------------


def _clean_rule(rule: AssignmentRule, collectors) -> None:
    for low, high in (
        ("min_days_past_due", "max_days_past_due"),
        ("min_outstanding", "max_outstanding"),
    ):
        lo, hi = getattr(rule, low), getattr(rule, high)
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError({high: _("The upper bound is below the lower bound.")})
    for name in ("min_outstanding", "max_outstanding"):
        value = getattr(rule, name)
        if value is not None and (not isinstance(value, Decimal) or value < 0):
            raise ValidationError({name: _("An amount is a number from 0.")})
    rule.countries = sorted({c.upper() for c in rule.countries})
    rule.full_clean(exclude=["collectors"])
    in_group = set(
        get_user_model()
        .objects.filter(pk__in=[user.pk for user in collectors], groups__name=COLLECTOR)
        .values_list("pk", flat=True)
    )
    not_collectors = [user.pk for user in collectors if user.pk not in in_group]
    if not_collectors:
        raise ValidationError(
            {
                "collectors": _("Not collectors: %(ids)s.")
                % {"ids": ", ".join(str(pk) for pk in not_collectors)}
            }
        )
    if not collectors:
        raise ValidationError({"collectors": _("A rule needs at least one collector.")})


def _require_admin(actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied(_("Only an admin may change the assignment rules."))


@transaction.atomic
def assignment_rule_save(
    *, actor, rule: AssignmentRule | None = None, collectors=None, **fields
) -> AssignmentRule:
    """Create a rule, or change ``rule``: only the fields given change (``collectors``: the
    whole pool)."""
    _require_admin(actor)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({key: _("Unknown field.") for key in sorted(unknown)})
    rule = rule or AssignmentRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    pool = list(collectors) if collectors is not None else list(rule.collectors.all())
    if rule.pk is None and collectors is None:
        pool = []
    _clean_rule(rule, pool)
    with acting_as(actor):
        rule.save()
        if collectors is not None:
            rule.collectors.set(pool)
    return rule


@transaction.atomic
def assignment_rule_delete(*, actor, rule: AssignmentRule) -> None:
    _require_admin(actor)
    with acting_as(actor):
        rule.delete()
