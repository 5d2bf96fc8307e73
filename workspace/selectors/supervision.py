"""What supervisors watch: each collector's day, the gate's decisions, breaches, discounts
waiting for approval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from cases.models import Case
from cases.services import collectors
from compliance.models import (
    ContactAttempt,
    ContactDecision,
)
from debtors.models import (
    Debtor,
    RepaymentPlan,
)
from workspace.selectors.figures import Figures, Scope, figures, today_and_week

# --- Supervisors ----------------------------------------------------------------------------


@dataclass
class CollectorStats:
    user: Any
    queue_size: int = 0
    today: Figures = field(default_factory=Figures)


def team_stats(
    *, collector_ids: Sequence[int] | None = None, now: dt.datetime | None = None
) -> list[CollectorStats]:
    """Per active collector (of ``collector_ids`` only, when given): open cases, and today's
    figures (``figures``). Six queries whatever the number of collectors."""
    people = collectors()
    if collector_ids is not None:
        people = people.filter(pk__in=list(collector_ids))
    stats = {u.pk: CollectorStats(user=u) for u in people}
    for row in (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .filter(assigned_to__in=list(stats))
        .values("assigned_to")
        .annotate(n=Count("id"))
    ):
        stats[row["assigned_to"]].queue_size = row["n"]
    today, _week = today_and_week(now)
    found = figures([today], Scope(collector_ids=tuple(stats), by_collector=True))
    for pk, stat in stats.items():
        stat.today = found.get((pk, today.key), Figures())
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
