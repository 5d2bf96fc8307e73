"""Celery tasks of the cases: the nightly refresh of statuses and of the queue's order."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from cases.lifecycle import cases_reconcile
from cases.priorities import case_priorities_refresh


def instant(value: str | None) -> dt.datetime | None:
    """An ISO 8601 instant from a task's arguments (it must carry a time zone), or None."""
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        raise ValueError("The instant must carry a time zone.")
    return parsed


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def refresh_case_priorities(now: str | None = None) -> int:
    """Bring every case's status in line with its facts (a hold that expired yesterday puts
    its case back to open), then recompute every case's queue inputs and priority (beat, daily
    just after midnight): days past due and what is due today move with the date. Running it
    twice changes nothing."""
    at = instant(now)
    cases_reconcile(actor="nightly refresh", now=at)
    return case_priorities_refresh(now=at)
