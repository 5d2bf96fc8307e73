"""What supervisors watch: each collector's day, the gate's decisions, breaches, discounts
waiting for approval."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from cases.models import Case
from cases.services import collectors
from compliance.models import (
    ContactAttempt,
    ContactDecision,
)
from debtors.models import (
    Debtor,
    Payment,
    PromiseToPay,
    RepaymentPlan,
)

# --- Supervisors ----------------------------------------------------------------------------


@dataclass
class CollectorStats:
    user: Any
    queue_size: int = 0
    contacts_today: int = 0
    promises_today: int = 0
    promises_amount: Any = 0
    collected: Any = 0


def team_stats(*, now: dt.datetime | None = None) -> list[CollectorStats]:
    """Per collector: open cases, contacts and promises today, amounts collected today on
    their cases. Four grouped queries whatever the team's size."""

    now = now or timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end = start + dt.timedelta(days=1)
    stats = {u.pk: CollectorStats(user=u) for u in collectors()}
    for row in (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .filter(assigned_to__in=list(stats))
        .values("assigned_to")
        .annotate(n=Count("id"))
    ):
        stats[row["assigned_to"]].queue_size = row["n"]
    for row in (
        ContactAttempt.objects.filter(
            actor_user_id__in=list(stats), occurred_at__gte=start, occurred_at__lt=end
        )
        .values("actor_user_id")
        .annotate(n=Count("id"))
    ):
        stats[row["actor_user_id"]].contacts_today = row["n"]
    for row in (
        PromiseToPay.objects.filter(
            created_by__in=list(stats), created_at__gte=start, created_at__lt=end
        )
        .values("created_by")
        .annotate(n=Count("id"), amount=Sum("amount"))
    ):
        stats[row["created_by"]].promises_today = row["n"]
        stats[row["created_by"]].promises_amount = row["amount"]
    for row in (
        Payment.objects.filter(
            received_at__gte=start,
            received_at__lt=end,
            loan__debtor__case__assigned_to__in=list(stats),
        )
        .values("loan__debtor__case__assigned_to")
        .annotate(total=Sum("amount"))
    ):
        stats[row["loan__debtor__case__assigned_to"]].collected = row["total"]
    return list(stats.values())


def decision_log(
    *,
    reason: str = "",
    channel: str = "",
    verdict: str = "",
    collector_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    debtor_ref: str = "",
) -> QuerySet[ContactDecision]:
    rows = ContactDecision.objects.all()
    if reason:
        rows = rows.filter(reasons__contains=[reason])
    if channel:
        rows = rows.filter(channel=channel)
    if verdict == "blocked":
        rows = rows.filter(allowed=False)
    elif verdict == "allowed":
        rows = rows.filter(allowed=True)
    if collector_id:
        rows = rows.filter(actor_user_id=collector_id)
    if date_from:
        rows = rows.filter(
            decided_at__gte=timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
        )
    if date_to:
        rows = rows.filter(
            decided_at__lt=timezone.make_aware(
                dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
            )
        )
    if debtor_ref:
        rows = rows.filter(
            debtor_id__in=Debtor.objects.filter(external_ref=debtor_ref).values("id")
        )
    return rows.order_by("-decided_at", "-id")


def breaches() -> QuerySet[ContactAttempt]:
    return (
        ContactAttempt.objects.filter(breach=True)
        .select_related("debtor", "breach_policy")
        .order_by("-occurred_at", "-id")
    )


def discounts_waiting() -> QuerySet[RepaymentPlan]:
    return (
        RepaymentPlan.objects.filter(
            status=RepaymentPlan.Status.PROPOSED,
            discount_amount__gt=0,
            discount_approved_at__isnull=True,
        )
        .select_related("loan", "loan__debtor", "loan__debtor__case", "created_by")
        .order_by("created_at")
    )
