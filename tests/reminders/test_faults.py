"""Faults: a worker SIGKILLed mid-batch, Redis restarted mid-run, planner and dispatcher run
twice at once. In every case each due reminder is sent once (or recorded as failed or
"outcome unknown"): none lost, none doubled."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection

from compliance.models import ContactAttempt
from reminders import dispatcher, planner
from reminders.models import Reminder, ReminderRun

from .conftest import UTC, at, loan_due_on, reachable_debtor
from .processes import RedisServer, Worker, client_for, send, wait_for

DAY = dt.date(2030, 3, 5)
NOW = at(UTC, 2030, 3, 5, 2, 0)  # 10:00 in Shanghai
FAST_RECOVERY = {
    "REMINDER_SENDING_LEASE_SECONDS": 2,
    "COMPLIANCE_PERMIT_TTL_SECONDS": 3,
    "REMINDER_FILE_BACKEND_DELAY_SECONDS": 0.2,
}

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def portfolio(n: int) -> list[int]:
    """``n`` debtors in Shanghai, each with one SMS due today, planned."""
    for _ in range(n):
        loan_due_on(reachable_debtor(), DAY)
    planner.plan(now=NOW)
    Reminder.objects.exclude(channel="sms", scheduled_for=DAY).delete()
    return list(Reminder.objects.values_list("pk", flat=True))


def assert_each_sent_once(ids: list[int], outbox) -> None:
    statuses = Counter(Reminder.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert set(statuses) <= {"sent", "failed", "unknown"}, statuses
    assert sum(statuses.values()) == len(ids)
    handed_over = Counter((outbox / "sms" / "deliveries.log").read_text().split())
    files = {p.stem for p in (outbox / "sms").glob("reminder-*.json")}
    sent = set(Reminder.objects.filter(pk__in=ids, status="sent").values_list("pk", flat=True))
    assert files == {f"reminder-{pk}" for pk in sent}
    assert all(n == 1 for n in handed_over.values()), handed_over.most_common(3)
    for pk in sent:
        on_record = ContactAttempt.objects.filter(
            actor_label=f"system: reminder #{pk}", outcome="sent"
        ).count()
        assert on_record == 1, pk


def settle(app, *, timeout: float = 120) -> None:
    """Keep asking for dispatcher passes until no reminder is planned or sending."""

    def done():
        if Reminder.objects.filter(status__in=["planned", "sending"]).exists():
            send(app, "dispatch_reminders", now=NOW.isoformat(), batch_size=10)
            return False
        return True

    wait_for(done, timeout=timeout, every=1.0, what="every reminder to be settled")


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(tmp_path):
    ids = portfolio(20)
    redis = RedisServer(tmp_path).start()
    worker = Worker(redis, tmp_path, pool="solo", concurrency=1, **FAST_RECOVERY).start()
    app = client_for(redis)
    try:
        send(app, "dispatch_reminders", now=NOW.isoformat(), batch_size=10)

        def mid_batch():
            counts = Counter(Reminder.objects.values_list("status", flat=True))
            return counts["sent"] >= 3 and counts["sending"] >= 3

        wait_for(mid_batch, every=0.05, what="a batch half sent")
        worker.kill()
        left = Counter(Reminder.objects.values_list("status", flat=True))
        assert left["sending"] > 0, left  # killed in the middle of a claimed batch

        worker = Worker(redis, tmp_path, pool="solo", concurrency=1, **FAST_RECOVERY).start()
        settle(app)
    finally:
        worker.stop()
        redis.stop()
    assert_each_sent_once(ids, tmp_path / "outbox")
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    recovered = Counter()
    for counts in ReminderRun.objects.values_list("counts", flat=True):
        recovered.update({k: v for k, v in counts.items() if k.startswith("recovery_")})
    assert recovered["recovery_recovered"] + recovered["recovery_sent"] > 0, recovered


def test_redis_restarted_mid_run_loses_and_doubles_nothing(tmp_path):
    ids = portfolio(20)
    redis = RedisServer(tmp_path).start()
    worker = Worker(redis, tmp_path, pool="prefork", concurrency=2, **FAST_RECOVERY).start()
    app = client_for(redis)
    try:
        for _ in range(2):
            send(app, "dispatch_reminders", now=NOW.isoformat(), batch_size=5)
        wait_for(
            lambda: Reminder.objects.filter(status="sent").count() >= 3, what="the first sends"
        )
        redis.stop()  # queued messages are lost with it: the rows in PostgreSQL are not
        assert Reminder.objects.exclude(status="sent").exists()
        redis.start()
        settle(app)
    finally:
        worker.stop()
        redis.stop()
    assert_each_sent_once(ids, tmp_path / "outbox")
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}


def test_planner_and_dispatcher_run_twice_at_once(settings, tmp_path):
    settings.REMINDER_OUTBOX_DIR = tmp_path / "outbox"
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "messaging.channels.sms.FileSmsBackend"}
    for _ in range(12):
        loan_due_on(reachable_debtor(), DAY)
    errors: list[BaseException] = []
    results: list[dict] = []

    def twice(job):
        barrier = threading.Barrier(2)

        def run():
            try:
                barrier.wait(timeout=30)
                results.append(job())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    twice(lambda: planner.plan(now=NOW))
    assert errors == []
    planned = Reminder.objects.count()
    assert sum(r["planned"] for r in results) == planned
    assert planned == Reminder.objects.values("loan", "installment", "stage").distinct().count()
    Reminder.objects.exclude(channel="sms", scheduled_for=DAY).delete()
    ids = list(Reminder.objects.values_list("pk", flat=True))
    assert len(ids) == 12

    results.clear()
    twice(lambda: dispatcher.dispatch(now=NOW, batch_size=2))
    assert errors == []
    assert sum(r.get("sent", 0) for r in results) == 12
    assert_each_sent_once(ids, tmp_path / "outbox")
