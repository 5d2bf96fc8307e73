"""The ledger's periodic tasks decide promises and plans, and running them twice is harmless."""

import datetime as dt
from decimal import Decimal

import time_machine
from django.utils import timezone

from debtors.models import PromiseToPay
from debtors.services import promise_create
from debtors.tasks import resolve_promises, review_plans


def test_resolve_promises_breaks_an_unpaid_promise_once(loan, collector):
    start = timezone.make_aware(dt.datetime(2026, 3, 1, 12), dt.UTC)
    promise = promise_create(
        actor=collector,
        loan=loan,
        amount=Decimal("50"),
        promised_date=dt.date(2026, 3, 3),
        now=start,
    )

    with time_machine.travel(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC), tick=False):
        assert resolve_promises.apply().get() == {"kept": 0, "broken": 1}
        assert resolve_promises.apply().get() == {"kept": 0, "broken": 0}
        assert review_plans.apply().get() == {"kept": 0, "broken": 0}

    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN
    assert promise.history.get(status="broken").actor_label == "system: promises_resolve"
