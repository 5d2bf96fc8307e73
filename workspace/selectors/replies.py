"""Replies: what debtors wrote back, for the collector whose case it is (supervisors see
every case's), newest first, with the unread count the navigation shows."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from cases.access import cases_for_user
from cases.models import Case
from messaging.models import ReceivedMessage


def replies_for(user) -> QuerySet[ReceivedMessage]:
    cases = cases_for_user(user)
    return (
        ReceivedMessage.objects.filter(debtor__in=cases.values("debtor_id"))
        .select_related("debtor", "attempt__contact_point")
        .annotate(
            case_id=Subquery(Case.objects.filter(debtor_id=OuterRef("debtor_id")).values("pk")[:1])
        )
        .order_by("-received_at", "-id")
    )


def unread_count(user) -> int:
    return (
        ReceivedMessage.objects.filter(read_at__isnull=True)
        .filter(debtor__in=cases_for_user(user).values("debtor_id"))
        .count()
    )


def replies_read(user, case: Case) -> int:
    """The case's collector opened it: its replies are read (by them). Supervisors looking at
    a case leave them unread for the collector."""
    if case.assigned_to_id != user.pk:
        return 0
    return ReceivedMessage.objects.filter(debtor_id=case.debtor_id, read_at__isnull=True).update(
        read_at=timezone.now(), read_by=user
    )
