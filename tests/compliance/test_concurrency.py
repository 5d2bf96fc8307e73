"""Real concurrency on PostgreSQL: twenty requests racing for the last three slots."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from compliance import gate
from compliance.models import ContactAttempt, ContactDecision, ContactPermit
from tests.factories import make_debtor

from .conftest import set_rules

THREADS = 20


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_requests_for_three_slots_yield_three_permits():
    # Any hour of the day, at most 7 calls in 7 days; 4 already made: 3 slots left.
    set_rules(
        "default",
        {"call": {"limits": [{"count": "attempts", "max": 7, "per": "debtor", "days": 7}]}},
    )
    debtor = make_debtor(country="GB", timezone="Europe/London")
    earlier = timezone.now() - dt.timedelta(hours=1)
    ContactAttempt.objects.bulk_create(
        ContactAttempt(
            debtor=debtor,
            channel="call",
            direction="outbound",
            outcome="no_answer",
            occurred_at=earlier,
        )
        for _ in range(4)
    )

    barrier = threading.Barrier(THREADS)
    permits, blocked, errors = [], [], []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=30)
            try:
                permit = gate.request(debtor=debtor, channel="call", actor="race")
                with lock:
                    permits.append(permit)
            except gate.ContactBlocked as exc:
                with lock:
                    blocked.append(exc.decision)
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(permits) == 3
    assert len(blocked) == THREADS - 3
    assert all(d.reasons == ["rolling_limit"] for d in blocked)
    assert ContactDecision.objects.count() == THREADS
    assert ContactDecision.objects.filter(allowed=True).count() == 3
    assert ContactPermit.objects.count() == 3
    assert ContactAttempt.objects.filter(outcome="pending").count() == 3
