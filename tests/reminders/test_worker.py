"""End to end: a real Celery worker on Redis and PostgreSQL plans and sends a small portfolio
across time zones; each backend receives exactly what was due, once."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from cases.models import Case
from compliance.models import ContactAttempt
from messaging.models import InboxMessage, PrintJob
from reminders.models import Reminder, ReminderRun

from .conftest import SHANGHAI, UTC, at, loan_due_on, reachable_debtor
from .processes import RedisServer, Worker, client_for, send, wait_for

DAY = dt.date(2030, 3, 5)
# 10:00 in Shanghai; 21:00 the evening before in New York; 02:00 in London.
MORNING_IN_ASIA = at(UTC, 2030, 3, 5, 2, 0)
# 21:30 in Shanghai; 08:30 in New York; 13:30 in London.
AFTERNOON_IN_EUROPE = at(UTC, 2030, 3, 5, 13, 30)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def services(tmp_path):
    redis = RedisServer(tmp_path).start()
    worker = Worker(redis, tmp_path).start()
    yield redis, worker, client_for(redis)
    worker.stop()
    redis.stop()


def _runs_finished(kind: str, n: int):
    return lambda: ReminderRun.objects.filter(kind=kind, finished_at__isnull=False).count() >= n


def test_a_real_worker_reaches_each_debtor_once_in_their_own_hours(services, tmp_path):
    redis, worker, app = services
    shanghai = [reachable_debtor(), reachable_debtor(language="zh-hans")]
    new_york = [reachable_debtor(country="US", tz="America/New_York") for _ in range(2)]
    london = reachable_debtor(country="GB", tz="Europe/London")
    everyone = [*shanghai, *new_york, london]
    for debtor in everyone:
        loan_due_on(debtor, DAY)  # T0: SMS
    loan_due_on(shanghai[0], DAY + dt.timedelta(days=3))  # T-3: email + in-app
    loan_due_on(new_york[0], DAY - dt.timedelta(days=30))  # T+30: letter
    loan_due_on(london, DAY - dt.timedelta(days=3))  # T+3: call task

    # The planner runs twice (a duplicated beat), then two dispatchers race on two processes.
    send(app, "plan_reminders", now=MORNING_IN_ASIA.isoformat())
    send(app, "plan_reminders", now=MORNING_IN_ASIA.isoformat())
    wait_for(_runs_finished("plan", 2), what="two planner runs")
    planned = set(Reminder.objects.values_list("loan__debtor_id", "channel", "scheduled_for"))
    # The T0 SMS is planned for each; the window also brings the next day's T+1 SMS (for the
    # zones where it begins first), held until that day begins where the debtor is.
    due_today = Reminder.objects.filter(scheduled_for__lte=DAY)
    assert due_today.count() == 9
    assert {(d.pk, "sms", DAY) for d in everyone} <= planned

    send(app, "dispatch_reminders", now=MORNING_IN_ASIA.isoformat())
    send(app, "dispatch_reminders", now=MORNING_IN_ASIA.isoformat())
    wait_for(_runs_finished("dispatch", 2), what="two dispatcher runs")
    sent = set(
        Reminder.objects.filter(status="sent").values_list("debtor_id", "channel", "scheduled_for")
    )
    assert sent == {
        (shanghai[0].pk, "sms", DAY),
        (shanghai[1].pk, "sms", DAY),
        (shanghai[0].pk, "email", DAY),
        (shanghai[0].pk, "in_app", DAY),
    }
    assert Case.objects.get(debtor=london).next_action_on == DAY

    send(app, "dispatch_reminders", now=AFTERNOON_IN_EUROPE.isoformat())
    send(app, "dispatch_reminders", now=AFTERNOON_IN_EUROPE.isoformat())
    wait_for(_runs_finished("dispatch", 4), what="two more dispatcher runs")

    today = Reminder.objects.filter(scheduled_for=DAY)
    assert dict(today.values_list("channel", "status").distinct()) == {
        "sms": "sent",
        "email": "sent",
        "in_app": "sent",
        "letter": "sent",
        "call_task": "queued",
    }
    # Exactly what was due reached each backend, once.
    outbox = tmp_path / "outbox"
    sms = [json.loads(p.read_text()) for p in sorted((outbox / "sms").glob("*.json"))]
    phones = sorted(d.contact_points.get(kind="mobile").value for d in everyone)
    assert sorted(m["to"] for m in sms) == phones
    emails = "".join(p.read_text() for p in (outbox / "email").glob("*.log"))
    assert emails.count("X-Idempotency-Key: reminder-") == 1
    assert InboxMessage.objects.filter(debtor=shanghai[0]).count() == 1
    letter = PrintJob.objects.get()
    assert letter.debtor_id == new_york[0].pk
    assert (tmp_path / "media" / letter.pdf.name).read_bytes().startswith(b"%PDF-")
    # Each was sent inside the debtor's own hours, and is on the record as a contact attempt.
    attempts = ContactAttempt.objects.filter(outcome="sent")
    assert attempts.count() == today.filter(status="sent").count() == 8
    for attempt in attempts.select_related("debtor"):
        local = attempt.occurred_at.astimezone(ZoneInfo(attempt.debtor.timezone))
        assert 8 <= local.hour < 21, (attempt.debtor.timezone, local)
    sms_by_zone = {
        a.debtor.timezone: a.occurred_at
        for a in attempts.filter(channel="sms").select_related("debtor")
    }
    assert sms_by_zone["Asia/Shanghai"] == MORNING_IN_ASIA
    assert sms_by_zone["America/New_York"] == AFTERNOON_IN_EUROPE
    assert MORNING_IN_ASIA.astimezone(SHANGHAI).hour == 10
