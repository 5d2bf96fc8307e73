"""The supervisors' figures: what each number on the wallboard, the team view and the
dashboards' tiles means, and the four grouped queries that count them for any number of
collectors and periods.

* attempts: outbound contact attempts a person made (calls placed, messages sent);
* calls: outbound calls whose outcome is recorded;
* right-party contacts: those calls that reached the debtor (``RIGHT_PARTY``);
* promises: promises to pay recorded, counted and summed per currency;
* kept rate: of the promises falling due in the period that are resolved (kept or broken),
  the share kept; with none resolved there is no rate;
* collected: payments received on loans of the collector's cases, per currency.

A collector's figures are their own attempts and the promises they recorded, and the
payments on the cases assigned to them now. Periods are whole days in the viewer's time
zone. Amounts of different currencies are never added together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.models import ContactAttempt, Direction, Outcome
from debtors.models import Channel, Loan, Payment, PromiseToPay

# A completed outbound call, and one that reached the debtor: the disposition code says so,
# or, where no code was given (an outcome reported through the API), it was a conversation.
COMPLETED_CALL = Q(channel=Channel.CALL, direction=Direction.OUTBOUND) & ~Q(outcome=Outcome.PENDING)
RIGHT_PARTY = Q(disposition__code__right_party_contact=True) | Q(
    disposition__isnull=True, outcome=Outcome.CONVERSATION
)
RESOLVED_PROMISE = (PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN)

# One line per figure, shown on the pages that show the figure.
DEFINITIONS = {
    "attempts": _("Attempts: calls placed and messages sent by the collector."),
    "right_party": _(
        "Right-party contacts: calls whose outcome says the debtor was reached "
        "(rate: of the calls with an outcome)."
    ),
    "promises": _("Promises: promises to pay the collector recorded, and their amount."),
    "kept_rate": _(
        "Kept rate: of the promises falling due in the period that were kept or broken, "
        "the share kept (— when none was)."
    ),
    "collected": _("Collected: payments received on the cases assigned to the collector."),
}


@dataclass(frozen=True)
class Period:
    """Whole days, ``start`` to ``end`` included, in the viewer's time zone."""

    key: str
    start: dt.date
    end: dt.date

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        start = timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))
        return start, end

    def instants(self, name: str) -> Q:
        """``name`` (a date and time) falls within the period."""
        start, end = self.bounds()
        return Q(**{f"{name}__gte": start, f"{name}__lt": end})

    def dates(self, name: str) -> Q:
        """``name`` (a date) falls within the period."""
        return Q(**{f"{name}__gte": self.start, f"{name}__lte": self.end})


def today_and_week(now: dt.datetime | None = None) -> tuple[Period, Period]:
    """Today, and this week from Monday to today."""
    today = timezone.localdate(now)
    monday = today - dt.timedelta(days=today.weekday())
    return Period("today", today, today), Period("week", monday, today)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _add_amounts(into: dict[str, Decimal], amounts: dict[str, Decimal]) -> None:
    for currency, amount in amounts.items():
        into[currency] = into.get(currency, Decimal("0")) + amount


@dataclass
class Figures:
    """One collector's (or one scope's) figures for one period."""

    attempts: int = 0
    calls: int = 0
    right_party: int = 0
    promises: int = 0
    promised: dict[str, Decimal] = field(default_factory=dict)
    kept: int = 0
    resolved: int = 0
    collected: dict[str, Decimal] = field(default_factory=dict)

    @property
    def right_party_rate(self) -> float | None:
        return _ratio(self.right_party, self.calls)

    @property
    def kept_rate(self) -> float | None:
        return _ratio(self.kept, self.resolved)

    @property
    def promised_amounts(self) -> list[tuple[str, Decimal]]:
        return sorted(self.promised.items())

    @property
    def collected_amounts(self) -> list[tuple[str, Decimal]]:
        return sorted(self.collected.items())

    @classmethod
    def total(cls, parts: Iterable[Figures]) -> Figures:
        """The figures of several collectors together (a team): counts added, amounts added
        per currency."""
        total = cls()
        for part in parts:
            total.attempts += part.attempts
            total.calls += part.calls
            total.right_party += part.right_party
            total.promises += part.promises
            total.kept += part.kept
            total.resolved += part.resolved
            _add_amounts(total.promised, part.promised)
            _add_amounts(total.collected, part.collected)
        return total


@dataclass(frozen=True)
class Scope:
    """Whose figures: ``collector_ids`` (``None``: everyone), on ``loans`` (``None``: all)."""

    collector_ids: tuple[int, ...] | None = None
    loans: QuerySet[Loan] | None = None
    by_collector: bool = False

    def key(self, row: dict, name: str) -> int | None:
        return row[name] if self.by_collector else None


# (collector id or None, period key) -> figures
Found = dict[tuple[int | None, str], Figures]


def figures(periods: Sequence[Period], scope: Scope) -> Found:
    """The figures of ``scope`` for each of ``periods``: per collector with
    ``scope.by_collector`` (keys ``(user id, period key)``), else for the whole scope (keys
    ``(None, period key)``). Four queries, whatever the number of collectors and periods; a
    key with nothing to count is missing (read it with ``found.get(key, Figures())``)."""
    if not periods or scope.collector_ids == ():
        return {}
    found: Found = defaultdict(Figures)
    _count_attempts(found, periods, scope)
    _count_promises_made(found, periods, scope)
    _count_promises_due(found, periods, scope)
    _sum_collected(found, periods, scope)
    return dict(found)


def _span(periods: Sequence[Period]) -> Period:
    return Period("span", min(p.start for p in periods), max(p.end for p in periods))


def _grouped(rows: QuerySet, keys: list[str], aggregates: dict) -> list[dict]:
    if keys:
        return list(rows.values(*keys).annotate(**aggregates).order_by())
    return [rows.aggregate(**aggregates)]


def outbound_attempts(period: Period, scope: Scope) -> QuerySet[ContactAttempt]:
    """The outbound attempts of the period in scope: the collectors' own, on the debtors of
    the scope's loans. The right-party chart counts from the same rows."""
    rows = ContactAttempt.objects.filter(
        period.instants("occurred_at"), direction=Direction.OUTBOUND
    )
    if scope.collector_ids is not None:
        rows = rows.filter(actor_user_id__in=scope.collector_ids)
    if scope.loans is not None:
        rows = rows.filter(debtor_id__in=scope.loans.values("debtor_id"))
    return rows


def _count_attempts(found: Found, periods: Sequence[Period], scope: Scope) -> None:
    aggregates = {}
    for p in periods:
        within = p.instants("occurred_at")
        aggregates[f"attempts_{p.key}"] = Count("id", filter=within & Q(actor_user__isnull=False))
        aggregates[f"calls_{p.key}"] = Count("id", filter=within & COMPLETED_CALL)
        aggregates[f"right_party_{p.key}"] = Count(
            "id", filter=within & COMPLETED_CALL & RIGHT_PARTY
        )
    keys = ["actor_user_id"] if scope.by_collector else []
    for row in _grouped(outbound_attempts(_span(periods), scope), keys, aggregates):
        who = scope.key(row, "actor_user_id")
        for p in periods:
            counted = found[(who, p.key)]
            counted.attempts = row[f"attempts_{p.key}"]
            counted.calls = row[f"calls_{p.key}"]
            counted.right_party = row[f"right_party_{p.key}"]


def promises_in_scope(scope: Scope) -> QuerySet[PromiseToPay]:
    """Promises recorded by the scope's collectors on its loans (the kept-promises chart counts
    from the same rows)."""
    rows = PromiseToPay.objects.all()
    if scope.collector_ids is not None:
        rows = rows.filter(created_by_id__in=scope.collector_ids)
    if scope.loans is not None:
        rows = rows.filter(loan__in=scope.loans)
    return rows


def _count_promises_made(found: Found, periods: Sequence[Period], scope: Scope) -> None:
    aggregates = {}
    for p in periods:
        within = p.instants("created_at")
        aggregates[f"n_{p.key}"] = Count("id", filter=within)
        aggregates[f"amount_{p.key}"] = Sum("amount", filter=within)
    keys = ["created_by", "loan__currency"] if scope.by_collector else ["loan__currency"]
    rows = promises_in_scope(scope).filter(_span(periods).instants("created_at"))
    for row in _grouped(rows, keys, aggregates):
        who = scope.key(row, "created_by")
        for p in periods:
            counted = found[(who, p.key)]
            counted.promises += row[f"n_{p.key}"]
            if row[f"amount_{p.key}"] is not None:
                counted.promised[row["loan__currency"]] = row[f"amount_{p.key}"]


def _count_promises_due(found: Found, periods: Sequence[Period], scope: Scope) -> None:
    aggregates = {}
    for p in periods:
        due = p.dates("promised_date")
        aggregates[f"kept_{p.key}"] = Count("id", filter=due & Q(status=PromiseToPay.Status.KEPT))
        aggregates[f"resolved_{p.key}"] = Count("id", filter=due & Q(status__in=RESOLVED_PROMISE))
    keys = ["created_by"] if scope.by_collector else []
    rows = promises_in_scope(scope).filter(_span(periods).dates("promised_date"))
    for row in _grouped(rows, keys, aggregates):
        who = scope.key(row, "created_by")
        for p in periods:
            counted = found[(who, p.key)]
            counted.kept = row[f"kept_{p.key}"]
            counted.resolved = row[f"resolved_{p.key}"]


COLLECTOR_OF_PAYMENT = "loan__debtor__case__assigned_to"


def payments_in_scope(scope: Scope) -> QuerySet[Payment]:
    """Payments on loans of the scope's collectors' cases and of its loans."""
    rows = Payment.objects.all()
    if scope.collector_ids is not None:
        rows = rows.filter(**{f"{COLLECTOR_OF_PAYMENT}__in": scope.collector_ids})
    if scope.loans is not None:
        rows = rows.filter(loan__in=scope.loans)
    return rows


def _sum_collected(found: Found, periods: Sequence[Period], scope: Scope) -> None:
    aggregates = {
        f"amount_{p.key}": Sum("amount", filter=p.instants("received_at")) for p in periods
    }
    keys = [COLLECTOR_OF_PAYMENT, "loan__currency"] if scope.by_collector else ["loan__currency"]
    rows = payments_in_scope(scope).filter(_span(periods).instants("received_at"))
    for row in _grouped(rows, keys, aggregates):
        who = scope.key(row, COLLECTOR_OF_PAYMENT)
        for p in periods:
            if row[f"amount_{p.key}"] is not None:
                found[(who, p.key)].collected[row["loan__currency"]] = row[f"amount_{p.key}"]
