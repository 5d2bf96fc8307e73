"""The work queue: a collector's open cases in priority order, one page at a time, and whether
each debtor may be called now.

Every list is scoped through ``cases.access`` and runs a fixed number of queries whatever the
size of the portfolio (the tests assert it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.access import cases_for_user
from cases.models import Callback, CallDisposition, Case
from compliance import batch
from compliance.gate import Decision
from compliance.models import ContactAttempt, Outcome
from debtors.models import (
    ContactPoint,
    Debtor,
    Loan,
    PromiseToPay,
)
from debtors.validators import normalize_phone

QUEUE_PAGE_SIZE = 25

# --- The work queue -------------------------------------------------------------------------


@dataclass
class QueueFilters:
    q: str = ""
    status: str = ""
    min_dpd: int | None = None
    promise_today: bool = False
    callback_due: bool = False
    call_task_due: bool = False
    # The score band (A-E) the active score model gave the case (``Case.score_band``).
    score_band: str = ""
    collector_id: int | None = None  # supervisors only
    # Supervisors only: the cases of these collectors (a team's); ``None``: anyone's.
    collector_ids: tuple[int, ...] | None = None


@dataclass
class QueuePage:
    rows: list[Case]
    next_cursor: str = ""
    contactable: dict[int, Decision | None] = field(default_factory=dict)
    # Each debtor's outstanding balance per currency (amounts in different currencies are
    # never added together): {debtor_id: [(currency, amount), ...]}.
    balances: dict[int, list[tuple[str, Decimal]]] = field(default_factory=dict)


def encode_cursor(case: Case) -> str:
    return f"{case.priority}.{case.pk}"


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        priority, pk = cursor.split(".", 1)
        return int(priority), int(pk)
    except (ValueError, AttributeError):
        return None


def queue_cases(user, filters: QueueFilters, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The user's open cases matching the filters, in queue order (priority, then newest id)."""
    now = now or timezone.now()
    cases = cases_for_user(user).exclude(status=Case.Status.CLOSED)
    if filters.collector_id:
        cases = cases.filter(assigned_to_id=filters.collector_id)
    if filters.collector_ids is not None:
        cases = cases.filter(assigned_to_id__in=filters.collector_ids)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.min_dpd:
        cases = cases.filter(max_days_past_due__gte=filters.min_dpd)
    today = timezone.localdate(now)
    if filters.promise_today:
        cases = cases.filter(
            debtor__loans__promises__status=PromiseToPay.Status.PENDING,
            debtor__loans__promises__promised_date=today,
        ).distinct()
    if filters.callback_due:
        end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
        cases = cases.filter(
            debtor__callbacks__status=Callback.Status.OPEN, debtor__callbacks__due_at__lt=end
        ).distinct()
    if filters.call_task_due:
        cases = cases.filter(next_action_on__lte=today)
    if filters.score_band:
        cases = cases.filter(score_band=filters.score_band)
    q = filters.q.strip()
    if q:
        cases = cases.filter(_search(q))
    return cases.order_by("-priority", "-id")


def _search(q: str) -> Q:
    """Name (prefix), debtor or loan reference (exact), or phone number (normalised, exact)."""
    condition = (
        Q(debtor__full_name__istartswith=q)
        | Q(debtor__external_ref=q)
        | Q(debtor__in=Loan.objects.filter(external_ref=q).values("debtor_id"))
    )
    digits = "".join(ch for ch in q if ch.isdigit() or ch == "+")
    if len(digits.lstrip("+")) >= 6:
        numbers = {q}
        for region in ("CN", "US", "GB"):
            try:
                numbers.add(normalize_phone(q, region))
            except Exception:  # noqa: BLE001, S112 - not a number in that region: try the next
                continue
        condition |= Q(
            debtor__in=ContactPoint.objects.filter(
                value__in=sorted(numbers), kind__in=ContactPoint.PHONE_KINDS
            ).values("debtor_id")
        )
    return condition


def queue_page(
    user, filters: QueueFilters, *, after: str = "", size: int = QUEUE_PAGE_SIZE, now=None
) -> QueuePage:
    """One page of the queue (keyset pagination on priority and id), with contactability."""
    now = now or timezone.now()
    cases = queue_cases(user, filters, now=now).select_related("debtor", "assigned_to")
    position = decode_cursor(after) if after else None
    if position is not None:
        priority, pk = position
        # The first condition bounds the index range; the second picks the rows after the cursor.
        cases = cases.filter(priority__lte=priority).filter(
            Q(priority__lt=priority) | Q(priority=priority, id__lt=pk)
        )
    rows = list(cases[: size + 1])
    next_cursor = encode_cursor(rows[size - 1]) if len(rows) > size else ""
    rows = rows[:size]
    return QueuePage(
        rows=rows,
        next_cursor=next_cursor,
        contactable=contactability([case.debtor for case in rows], channel="call", at=now),
        balances=balances_by_currency([case.debtor_id for case in rows]),
    )


def balances_by_currency(debtor_ids: list[int]) -> dict[int, list[tuple[str, Decimal]]]:
    """Each debtor's outstanding balance of open loans, per currency, in one query."""
    found: dict[int, list[tuple[str, Decimal]]] = {}
    if not debtor_ids:
        return found
    rows = (
        Loan.objects.filter(debtor_id__in=debtor_ids)
        .exclude(status__in=Loan.CLOSED_STATUSES)
        .values_list("debtor_id", "currency")
        .annotate(total=Sum(F("principal_balance") + F("interest_balance") + F("fees_balance")))
        .order_by("debtor_id", "currency")
    )
    for debtor_id, currency, total in rows:
        found.setdefault(debtor_id, []).append((currency, total))
    return found


# --- Next case ------------------------------------------------------------------------------

# Candidates asked of the gate at a time: few at first (the first is usually callable), more
# while they keep being refused; at most ``NEXT_CASE_SCAN`` per tier and request.
NEXT_CASE_BATCHES = (10, 40, 200, 1000)
NEXT_CASE_SCAN = 5000
# Before any possible contact: "since the last contact" for a debtor never contacted.
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def recently_worked(user, *, now: dt.datetime):
    """The debtors ``user`` recorded an outcome on within ``NEXT_CASE_RETRY_MINUTES`` (on the
    case page or through the API), counted from the outcome's time."""
    since = now - dt.timedelta(minutes=settings.NEXT_CASE_RETRY_MINUTES)
    attempts = (
        ContactAttempt.objects.filter(actor_user_id=user.pk, occurred_at__gte=since)
        .exclude(outcome=Outcome.PENDING)
        .values("debtor_id")
    )
    dispositions = CallDisposition.objects.filter(recorded_by=user, recorded_at__gte=since).values(
        "debtor_id"
    )
    return attempts.union(dispositions)


def next_case_tiers(user, *, now: dt.datetime) -> list[QuerySet[Case]]:
    """The caller's workable cases, tier by tier, each in its order: callbacks of theirs that
    are due (soonest first); call tasks due today; promises broken since the last contact;
    then every other case by priority. Closed and on-hold cases are never in them; a case
    worked in the last ``NEXT_CASE_RETRY_MINUTES`` is only in the first tier."""
    today = timezone.localdate(now)
    workable = cases_for_user(user).filter(status__in=[Case.Status.OPEN, Case.Status.IN_PLAN])
    due_callbacks = Callback.objects.filter(
        assigned_to=user, status=Callback.Status.OPEN, due_at__lte=now
    )
    callbacks = (
        workable.filter(debtor__in=due_callbacks.values("debtor_id"))
        .annotate(
            due=Subquery(
                due_callbacks.filter(debtor_id=OuterRef("debtor_id"))
                .order_by("due_at")
                .values("due_at")[:1]
            )
        )
        .order_by("due", "-priority", "-id")
    )
    rested = workable.exclude(debtor__in=recently_worked(user, now=now))
    call_tasks = rested.filter(next_action_on__lte=today).order_by(
        "next_action_on", "-priority", "-id"
    )
    broken = PromiseToPay.objects.filter(
        loan__debtor_id=OuterRef("debtor_id"), status=PromiseToPay.Status.BROKEN
    )
    # One correlated test per case (never contacted: any broken promise counts), so the scan
    # stops at the first few matches instead of collecting every broken promise first.
    since_contact = Coalesce(OuterRef("last_contact_at"), Value(NEVER))
    broken_since_contact = rested.filter(
        Exists(broken.filter(resolved_at__gt=since_contact))
    ).order_by("-priority", "-id")
    return [callbacks, call_tasks, broken_since_contact, rested.order_by("-priority", "-id")]


def next_case(user, *, now: dt.datetime | None = None) -> Case | None:
    """The case the collector should work next, or None when nothing can be worked now: the
    first case of the first tier (``next_case_tiers``) whose debtor the gate would let them
    call at this moment (its dry run). Reads only: asking again offers the same case."""
    now = now or timezone.now()
    tiers = next_case_tiers(user, now=now)
    for number, tier in enumerate(tiers):
        # The last two tiers are in priority order: each batch starts after the last case
        # seen (keyset), so a tier the gate keeps refusing is read once, not again per batch.
        by_priority = number >= len(tiers) - 2
        seen, sizes, last = 0, iter(NEXT_CASE_BATCHES), None
        size = next(sizes)
        while seen < NEXT_CASE_SCAN:
            if by_priority:
                rest = tier
                if last is not None:
                    rest = tier.filter(priority__lte=last[0]).filter(
                        Q(priority__lt=last[0]) | Q(priority=last[0], id__lt=last[1])
                    )
                rows = list(rest.values_list("id", "debtor_id", "priority")[:size])
            else:
                rows = list(tier.values_list("id", "debtor_id", "priority")[seen : seen + size])
            if not rows:
                break
            seen, size = seen + len(rows), next(sizes, size)
            last = (rows[-1][2], rows[-1][0])
            answers = batch.check_many(
                debtor_ids=[debtor_id for _pk, debtor_id, _p in rows], channel="call", at=now
            )
            for pk, debtor_id, _priority in rows:
                decision = answers.get(debtor_id)
                if decision is not None and decision.allowed:
                    return Case.objects.get(pk=pk)
    return None


# --- Contactability: the gate's dry run for many debtors at once -----------------------------


def contactability(
    debtors: Iterable[Debtor], *, channel: str, at: dt.datetime
) -> dict[int, Decision | None]:
    """May each debtor be contacted on ``channel`` at ``at``? A dry run, writing nothing.

    The gate's own answer (``compliance.batch.check_many``: same snapshot, same judge), read
    in two queries for the whole page. ``None`` means the answer is unknown (no policy, or no
    time zone). The gate decides again when the contact is actually requested.
    """
    return batch.check_many(debtor_ids=[d.pk for d in debtors], channel=channel, at=at)
