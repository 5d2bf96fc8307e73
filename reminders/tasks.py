"""Celery tasks of the reminders: the planner and the dispatcher.

Each task takes primitive arguments (ids, ISO instants), calls one service, is ``acks_late``
with time limits, and is safe to run twice: the state lives in PostgreSQL rows with unique
keys and a status machine, never in the task message. No task is scheduled with a long ETA.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from cases.tasks import instant
from reminders import dispatcher, planner
from reminders.models import Reminder, ReminderStatus


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def plan_reminders(now: str | None = None) -> dict:
    """Plan what is due (beat, every 15 minutes); running it twice plans nothing new."""
    return planner.plan(now=instant(now), actor="plan_reminders")


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def dispatch_reminders(
    now: str | None = None, batch_size: int = 100, max_batches: int | None = None
) -> dict:
    """One dispatcher pass (beat, every minute, and on demand)."""
    return dispatcher.dispatch(
        now=instant(now), batch_size=batch_size, max_batches=max_batches, budget_seconds=120
    )


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def send_reminder(reminder_id: int, now: str | None = None) -> str:
    """Send one reminder now if it is due (on demand). A second delivery finds it taken."""
    at = instant(now) or timezone.now()
    dispatcher.clear_caches()
    taken = Reminder.objects.filter(
        pk=reminder_id, status=ReminderStatus.PLANNED, not_before__lte=at
    ).update(status=ReminderStatus.SENDING, claimed_at=timezone.now())
    if not taken:
        return "skipped"
    return dispatcher.process(reminder_id, now=instant(now))
