"""The work queue's order: each case's priority, from facts about its debtor and the weights
admins tune (``QueueWeights``).

``case_priorities_refresh`` recomputes the facts (days past due and outstanding of the open
loans, broken promises, the last conversation) and then the priority, for every case or for
some debtors' cases: after an action on a case, when the weights change, and every night
(dates move on). Two set-based UPDATEs whatever the number of cases: the facts first, then
the priority from them and from what is due today (a promise, a callback). The case's
``score_weight`` (the weight of its score band, written by ``scoring``) is added as it is;
``scoring`` moves the priority by a weight's change when it writes one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, ExtractDay, Floor, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Callback, Case, QueueWeights
from compliance.models import ContactAttempt, Outcome
from debtors.audit import acting_as
from debtors.models import Loan, PromiseToPay

# Caps of the facts a priority counts: a year past due, three months since the last contact.
MAX_DAYS_PAST_DUE = 365
MAX_DAYS_SINCE_CONTACT = 90


@transaction.atomic
def queue_weights_save(*, actor, **weights: int) -> QueueWeights:
    unknown = set(weights) - set(QueueWeights.WEIGHT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown weights: %(w)s.") % {"w": ", ".join(sorted(unknown))})
    current = QueueWeights.current()
    for name, value in weights.items():
        if not isinstance(value, int) or value < 0 or value > 100000:
            raise ValidationError({name: _("A weight is a whole number from 0 to 100000.")})
        setattr(current, name, value)
    with acting_as(actor):
        current.save()
    transaction.on_commit(lambda: case_priorities_refresh())
    return current


def _of_debtor(queryset, field: str):
    """One aggregate of ``queryset``'s rows of the case's debtor, as a subquery."""
    return queryset.filter(**{field: OuterRef("debtor_id")}).order_by().values(field)


def _days(expression):
    """Whole days of an interval (a difference of dates or instants)."""
    return ExtractDay(expression)


@transaction.atomic
def case_priorities_refresh(
    *, debtor_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Recompute the queue facts and the priority of every case, or of ``debtor_ids``' cases;
    returns how many cases changed (at most). Only rows that change are written, so a refresh
    right after the events that feed it finds nothing to do."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    end_of_today = timezone.make_aware(
        dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    )
    cases = Case.objects.all()
    if debtor_ids is not None:
        ids = list(debtor_ids)
        if not ids:
            return 0
        cases = cases.filter(debtor_id__in=ids)

    open_loans = _of_debtor(Loan.objects.exclude(status__in=Loan.CLOSED_STATUSES), "debtor_id")
    oldest_due = open_loans.annotate(day=Min("oldest_unpaid_due_date")).values("day")
    outstanding = open_loans.annotate(
        total=Sum(F("principal_balance") + F("interest_balance") + F("fees_balance"))
    ).values("total")
    broken = (
        _of_debtor(
            PromiseToPay.objects.filter(status=PromiseToPay.Status.BROKEN), "loan__debtor_id"
        )
        .annotate(n=Count("id"))
        .values("n")
    )
    last_conversation = (
        _of_debtor(ContactAttempt.objects.filter(outcome=Outcome.CONVERSATION), "debtor_id")
        .annotate(at=Max("occurred_at"))
        .values("at")
    )
    facts = {
        "max_days_past_due": Coalesce(
            Greatest(
                _days(Value(today) - Subquery(oldest_due, output_field=models.DateField())), 0
            ),
            0,
        ),
        "total_outstanding": Coalesce(
            Subquery(outstanding, output_field=models.DecimalField()), Value(Decimal("0"))
        ),
        "broken_promises": Coalesce(Subquery(broken, output_field=models.IntegerField()), 0),
        "last_contact_at": Subquery(last_conversation, output_field=models.DateTimeField()),
    }
    changed = _where_different(cases, facts).update(**facts)
    weights = QueueWeights.current()
    promise_today = PromiseToPay.objects.filter(
        loan__debtor_id=OuterRef("debtor_id"),
        status=PromiseToPay.Status.PENDING,
        promised_date=today,
    )
    callback_due = Callback.objects.filter(
        debtor_id=OuterRef("debtor_id"), status=Callback.Status.OPEN, due_at__lt=end_of_today
    )
    since_contact = Least(
        Coalesce(_days(Value(now) - F("last_contact_at")), MAX_DAYS_SINCE_CONTACT),
        MAX_DAYS_SINCE_CONTACT,
    )
    priority = (
        weights.days_past_due * Least(F("max_days_past_due"), MAX_DAYS_PAST_DUE)
        + weights.balance * Floor(F("total_outstanding") / 1000)
        + weights.promise_due_today * Cast(Exists(promise_today), models.IntegerField())
        + weights.broken_promise * F("broken_promises")
        + weights.callback_due * Cast(Exists(callback_due), models.IntegerField())
        + weights.call_task_due * _one_if(Q(next_action_on__lte=today))
        + weights.since_contact * since_contact
        + F("score_weight")
    )
    priority = {"priority": Cast(priority, models.IntegerField())}
    changed_priority = _where_different(cases, priority).update(**priority)
    return max(changed, changed_priority)


def _one_if(condition: Q):
    """1 where ``condition`` holds, else 0 (never NULL, which would blank the priority)."""
    return models.Case(
        models.When(condition, then=1), default=0, output_field=models.IntegerField()
    )


class IsDistinctFrom(models.Lookup):
    """``field__distinct_from=value``: SQL's ``IS DISTINCT FROM`` (NULLs compare as values;
    a negated ``=`` on a nullable column would count NULL against NULL as a change)."""

    lookup_name = "distinct_from"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IS DISTINCT FROM {rhs}", [*lhs_params, *rhs_params]


for _name in (
    "max_days_past_due",
    "total_outstanding",
    "broken_promises",
    "last_contact_at",
    "priority",
):
    Case._meta.get_field(_name).register_lookup(IsDistinctFrom)


def _where_different(cases, values: dict):
    """``cases`` whose fields differ from ``values`` (expressions): the refresh writes only
    what changed, so a second run writes nothing."""
    different = Q()
    for name, expression in values.items():
        new = f"new_{name}"
        cases = cases.alias(**{new: expression})
        different |= Q(**{f"{name}__distinct_from": F(new)})
    return cases.filter(different)
