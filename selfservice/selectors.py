"""Reads about the portal for the back office (proposals waiting, ratings, the case panel), and
the disputes a debtor raised, for the debtor's own pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, Exists, OuterRef, QuerySet

from cases.access import cases_for_user
from debtors.models import Debtor, RepaymentPlan
from selfservice.models import PortalDispute, PortalFeedback, PortalLink, PortalPlanRequest


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
    """What the case page shows about the portal. Most debtors never use it: one query asks
    which of the three lists has anything, and only those are read."""
    has_links, has_waiting, has_disputes = _portal_presence(debtor.pk)
    return CasePortal(
        links=(
            list(PortalLink.objects.filter(debtor=debtor).order_by("-last_opened_at")[:5])
            if has_links
            else []
        ),
        waiting=(
            list(
                PortalPlanRequest.objects.filter(
                    debtor=debtor,
                    decided_at__isnull=True,
                    plan__status=RepaymentPlan.Status.PROPOSED,
                )
                .select_related("plan", "plan__loan", "debtor", "debtor__case")
                .prefetch_related("plan__installments")
                .order_by("created_at")
            )
            if has_waiting
            else []
        ),
        disputes=(
            list(PortalDispute.objects.filter(debtor=debtor).order_by("-created_at")[:5])
            if has_disputes
            else []
        ),
    )


def _portal_presence(debtor_id: int) -> tuple[bool, bool, bool]:
    """Whether the debtor has links, undecided plan requests and disputes (one query)."""
    found = (
        Debtor.objects.filter(pk=debtor_id)
        .annotate(
            has_links=Exists(PortalLink.objects.filter(debtor_id=OuterRef("pk"))),
            has_waiting=Exists(
                PortalPlanRequest.objects.filter(debtor_id=OuterRef("pk"), decided_at__isnull=True)
            ),
            has_disputes=Exists(PortalDispute.objects.filter(debtor_id=OuterRef("pk"))),
        )
        .values_list("has_links", "has_waiting", "has_disputes")
        .first()
    )
    return found or (False, False, False)


def debtor_disputes(debtor: Debtor) -> QuerySet[PortalDispute]:
    """The debtor's own disputes, newest first: the only ones their portal pages may show."""
    return PortalDispute.objects.filter(debtor=debtor).order_by("-created_at", "-pk")
