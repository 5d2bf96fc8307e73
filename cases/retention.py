"""Retention: debtors past the retention period have their personal data erased.

A debtor is past it when, for ``RETENTION_YEARS`` (3, as Reg F's record rule), nothing happened:
no payment, no contact attempt, no note, no change to the debtor, its case closed (or never
opened) that long ago, and no loan still being collected. A debtor under legal hold is kept.
``manage.py apply_retention`` erases them (``debtors.erasure``), one transaction per debtor, and
running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import Case, Note
from compliance.models import ContactAttempt
from debtors.audit import Actor, system_actor
from debtors.erasure import debtors_erase
from debtors.models import Debtor, Erasure, Loan, Payment

BATCH = 1000


def retention_cutoff(now: dt.datetime) -> dt.datetime:
    """``RETENTION_YEARS`` before ``now`` (29 February falls back to the 28th)."""
    years = settings.RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def debtors_past_retention(*, now: dt.datetime | None = None) -> QuerySet[Debtor]:
    """Debtors whose personal data may go: idle since the cutoff, nothing left to collect."""
    cutoff = retention_cutoff(now or timezone.now())
    debtor = OuterRef("pk")
    return (
        Debtor.objects.filter(erased_at__isnull=True, legal_hold=False, updated_at__lt=cutoff)
        .exclude(
            Exists(Loan.objects.filter(debtor=debtor).exclude(status__in=Loan.CLOSED_STATUSES))
        )
        .exclude(Exists(Payment.objects.filter(loan__debtor=debtor, received_at__gte=cutoff)))
        .exclude(Exists(ContactAttempt.objects.filter(debtor=debtor, occurred_at__gte=cutoff)))
        .exclude(Exists(Note.objects.filter(debtor=debtor, created_at__gte=cutoff)))
        .exclude(
            Exists(
                Case.objects.filter(debtor=debtor).filter(
                    ~Q(status=Case.Status.CLOSED) | Q(closed_at__gte=cutoff)
                )
            )
        )
    )


def retention_apply(
    *, actor: Actor | None = None, now: dt.datetime | None = None, limit: int | None = None
) -> int:
    """Erase the personal data of every debtor past retention; return how many were erased."""
    actor = actor or system_actor("retention")
    erased = 0
    while limit is None or erased < limit:
        size = BATCH if limit is None else min(BATCH, limit - erased)
        ids = list(
            debtors_past_retention(now=now).order_by("pk").values_list("pk", flat=True)[:size]
        )
        if not ids:
            break
        done = debtors_erase(ids, actor=actor, reason=Erasure.Reason.RETENTION, now=now)
        erased += done
        if done < len(ids):
            # The rest were refused or changed meanwhile: they stay for the next run.
            break
    return erased
