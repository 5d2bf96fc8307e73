"""An opt-out and a gate request at the same moment, in two connections: the opt-out holds
the debtor's row until it commits, so the gate waits for it and then refuses."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from compliance import gate
from debtors.models import ContactPoint
from debtors.services import contact_points_opt
from tests.reminders.conftest import reachable_debtor


@pytest.mark.django_db(transaction=True)
def test_the_gate_waits_for_an_opt_out_in_progress_and_then_refuses():
    debtor = reachable_debtor()
    point = debtor.contact_points.get(kind=ContactPoint.Kind.MOBILE)
    locked, release = threading.Event(), threading.Event()

    def opt_out():
        try:
            with transaction.atomic():
                contact_points_opt(
                    actor="system: test",
                    points=[point],
                    channel="sms",
                    opt_out=True,
                    source="SMS keyword STOP via twilio",
                    now=timezone.now(),
                )
                locked.set()
                release.wait(5)
        finally:
            connection.close()

    worker = threading.Thread(target=opt_out)
    worker.start()
    assert locked.wait(5)
    answer: list = []

    def ask():
        try:
            answer.append(
                gate.request(debtor=debtor, channel="sms", actor="t", contact_point=point)
            )
        except gate.ContactBlocked as blocked:
            answer.append(blocked.decision)
        finally:
            connection.close()

    asking = threading.Thread(target=ask)
    asking.start()
    time.sleep(0.5)
    assert answer == []  # the gate is waiting for the debtor's row
    release.set()
    worker.join(5)
    asking.join(5)
    [decision] = answer
    assert isinstance(decision, gate.Decision) and "channel_opt_out" in decision.reasons
