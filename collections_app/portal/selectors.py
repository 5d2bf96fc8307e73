"""Reads about the portal for the back office: proposals waiting, ratings, the case panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, QuerySet

from debtors.models import Debtor, RepaymentPlan

from ..access import cases_for_user
from ..models import PortalDispute, PortalEvent, PortalFeedback, PortalLink, PortalPlanRequest


def plan_requests_waiting(user) -> QuerySet[PortalPlanRequest]:
    """Plans debtors proposed beyond the limits, still waiting, on cases the user may see."""
    debtor_ids = cases_for_user(user).values("debtor_id")
    return (
        PortalPlanRequest.objects.filter(
            decided_at__isnull=True,
            plan__status=RepaymentPlan.Status.PROPOSED,
            debtor_id__in=debtor_ids,
        )
        .select_related("plan", "plan__loan", "debtor", "debtor__case")
        .prefetch_related("plan__installments")
        .order_by("created_at")
    )


@dataclass(frozen=True)
class RatingSummary:
    average: float | None
    count: int


def rating_summary(start: dt.datetime, end: dt.datetime) -> RatingSummary:
    """The debtors' average rating of the portal and the number of ratings in a period."""
    row = PortalFeedback.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        average=Avg("score"), count=Count("id")
    )
    average = row["average"]
    return RatingSummary(
        average=round(float(average), 1) if average is not None else None, count=row["count"]
    )


@dataclass
class CasePortal:
    links: list[PortalLink]
    waiting: list[PortalPlanRequest]
    disputes: list[PortalDispute]


def case_portal(debtor: Debtor) -> CasePortal:
    """What the case page shows about the portal (three queries)."""
    return CasePortal(
        links=list(PortalLink.objects.filter(debtor=debtor).order_by("-last_opened_at")[:5]),
        waiting=list(
            PortalPlanRequest.objects.filter(
                debtor=debtor,
                decided_at__isnull=True,
                plan__status=RepaymentPlan.Status.PROPOSED,
            )
            .select_related("plan", "plan__loan", "debtor", "debtor__case")
            .prefetch_related("plan__installments")
            .order_by("created_at")
        ),
        disputes=list(PortalDispute.objects.filter(debtor=debtor).order_by("-created_at")[:5]),
    )


def events_for_timeline(debtor: Debtor, *, limit: int) -> list[PortalEvent]:
    return list(PortalEvent.objects.filter(debtor=debtor).order_by("-created_at", "-id")[:limit])
