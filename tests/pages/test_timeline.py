"""The case timeline: the newest entries of every source, exact, from a fixed set of queries."""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collections_app import selectors
from collections_app.services import note_add, promise_record
from debtors.audit import acting_as

from .conftest import DAYTIME


def _busy(debtor, loan, collector, work):
    """History of every kind the timeline shows: created, changed, on five tables."""
    with time_machine.travel(DAYTIME, tick=False):
        promise_record(
            actor=collector, loan=loan, amount=Decimal("12.5000"), promised_date=DAYTIME.date()
        )
    with acting_as(collector):
        debtor.full_name = "Renamed Person"
        debtor.hardship_pause_until = dt.date(2026, 4, 1)
        debtor.save()
        work.status = work.Status.ON_HOLD
        work.save()


def _rows(found):
    return {
        model: [(r.history_id, r.history_type, r.history_date, r.actor_label) for r in rows]
        for model, rows in found.items()
    }


def test_one_statement_reads_what_the_orm_reads(work, debtor, loan, phone, collector, monkeypatch):
    _busy(debtor, loan, collector, work)
    by_sql = selectors._timeline_history(debtor, limit=40)
    entries_sql = selectors._history_entries(debtor, limit=40)
    monkeypatch.setattr(selectors, "connection", types.SimpleNamespace(vendor="sqlite"))
    by_orm = selectors._timeline_history(debtor, limit=40)
    assert _rows(by_sql) == _rows(by_orm)
    # Most sources have rows (no plan here): the comparison means something.
    assert sum(bool(rows) for rows in by_orm.values()) >= 4
    assert selectors._history_entries(debtor, limit=40) == entries_sql
    changed = [e for e in entries_sql if e.changes]
    assert any("Renamed Person" in new for e in changed for _label, _old, new in e.changes)


def test_each_source_is_cut_to_the_limit(work, debtor, loan, phone, collector):
    _busy(debtor, loan, collector, work)
    found = selectors._timeline_history(debtor, limit=1)
    assert max(len(rows) for rows in found.values()) == 2


def test_the_newest_entries_exactly_and_a_fixed_number_of_queries(work, debtor, collector):
    later = timezone.now() + dt.timedelta(days=1)  # newer than the fixtures' history
    for minute in range(45):
        with time_machine.travel(later + dt.timedelta(minutes=minute), tick=False):
            note_add(actor=collector, debtor=debtor, body=f"note {minute}")
    with CaptureQueriesContext(connection) as queries:
        entries = selectors.timeline(debtor, limit=10)
    assert [e.detail for e in entries] == [f"note {m}" for m in range(44, 34, -1)]
    few = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        selectors.timeline(debtor)
    assert len(queries.captured_queries) == few
