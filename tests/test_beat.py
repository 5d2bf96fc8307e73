"""The periodic jobs beat starts: the daily refresh of the work queue's priorities, the check
for abandoned imports."""

from __future__ import annotations

import datetime as dt

from celery.schedules import crontab
from django.conf import settings

from cases.models import Case
from cases.tasks import refresh_case_priorities
from collections_app.celery import app
from tests.factories import make_case, make_debtor, make_loan

TASK = "cases.tasks.refresh_case_priorities"


def _entries(task: str) -> list[dict]:
    return [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == task]


def test_beat_refreshes_case_priorities_once_a_day_after_midnight():
    (entry,) = _entries(TASK)
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.hour == {0}
    assert schedule.minute == {5}
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert settings.CELERY_TIMEZONE == "UTC"


def test_beat_looks_for_abandoned_imports_every_few_minutes():
    (entry,) = _entries("imports.tasks.fail_abandoned_imports")
    assert 0 < float(entry["schedule"]) <= 600


def test_every_scheduled_task_is_registered_with_celery():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_refresh_moves_priorities_with_the_date_and_twice_changes_nothing(db, collector):
    debtor = make_debtor()
    make_loan(debtor)  # installments from 15 January 2026
    case = make_case(debtor, collector)
    assert case.priority == 0

    refresh_case_priorities(now="2026-03-02T01:00:00+00:00")
    case.refresh_from_db()
    first = (case.max_days_past_due, case.priority)
    assert case.max_days_past_due == (dt.date(2026, 3, 2) - dt.date(2026, 1, 15)).days
    assert case.priority > 0

    refresh_case_priorities(now="2026-03-02T01:00:00+00:00")
    case.refresh_from_db()
    assert (case.max_days_past_due, case.priority) == first

    refresh_case_priorities(now="2026-03-03T01:00:00+00:00")
    assert Case.objects.get(pk=case.pk).max_days_past_due == first[0] + 1
