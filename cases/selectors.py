"""The work queue: a collector's open cases in priority order, one page at a time, and whether
each debtor may be called now.

Every list is scoped through ``cases.access`` and runs a fixed number of queries whatever the
size of the portfolio (the tests assert it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.access import cases_for_user
from cases.models import Callback, Case
from compliance import batch
from compliance.gate import Decision
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
    collector_id: int | None = None  # supervisors only


@dataclass
class QueuePage:
    rows: list[Case]
    next_cursor: str = ""
    contactable: dict[int, Decision | None] = field(default_factory=dict)


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
    )


def next_case(user, *, now=None) -> Case | None:
    return queue_cases(user, QueueFilters(), now=now).only("id").first()


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
