"""Celery tasks of the collections workflow: the reminder planner and dispatcher.

Each task takes primitive arguments (ids, ISO instants), calls one service, is ``acks_late``
with time limits, and is safe to run twice: the state lives in PostgreSQL rows with unique
keys and a status machine, never in the task message. No task is scheduled with a long ETA.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from collections_app.models import Reminder, ReminderStatus
from collections_app.reminders import dispatcher, planner
from collections_app.services import case_priorities_refresh


def _instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        raise ValueError("The instant must carry a time zone.")
    return parsed


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def plan_reminders(now: str | None = None) -> dict:
    """Plan what is due (beat, every 15 minutes); running it twice plans nothing new."""
    return planner.plan(now=_instant(now), actor="plan_reminders")


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def dispatch_reminders(
    now: str | None = None, batch_size: int = 100, max_batches: int | None = None
) -> dict:
    """One dispatcher pass (beat, every minute, and on demand)."""
    return dispatcher.dispatch(
        now=_instant(now), batch_size=batch_size, max_batches=max_batches, budget_seconds=120
    )


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def send_reminder(reminder_id: int, now: str | None = None) -> str:
    """Send one reminder now if it is due (on demand). A second delivery finds it taken."""
    at = _instant(now) or timezone.now()
    dispatcher.clear_caches()
    taken = Reminder.objects.filter(
        pk=reminder_id, status=ReminderStatus.PLANNED, not_before__lte=at
    ).update(status=ReminderStatus.SENDING, claimed_at=timezone.now())
    if not taken:
        return "skipped"
    return dispatcher.process(reminder_id, now=_instant(now))


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def refresh_case_priorities(now: str | None = None) -> int:
    """Recompute every case's queue inputs and priority (beat, daily just after midnight):
    days past due and what is due today move with the date. Running it twice changes nothing."""
    return case_priorities_refresh(now=_instant(now))


from collections_app.imports.tasks import run_import  # noqa: E402, F401 - registered with Celery
