"""The case timeline: the newest entries of every source, exact, from a fixed set of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import DispositionCode
from cases.services import call_outcome_log, call_place, callback_schedule, note_add, promise_record
from compliance.models import ContactAttempt
from debtors.audit import acting_as
from selfservice.models import PortalEvent
from tests.factories import make_reminder
from workspace.selectors import timeline as selectors

from .conftest import DAYTIME, NIGHT


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


def _by_orm(debtor, limit: int):
    """The reference: each part of the timeline statement run as its own ORM query."""
    rows = {key: list(qs) for key, qs in selectors.timeline_sources(debtor.pk, limit).items()}
    history = {
        model: list(qs) for model, qs in selectors.timeline_history(debtor.pk, limit).items()
    }
    return rows, history


def _rows(found):
    return {
        model: [(r.history_id, r.history_type, r.history_date, r.actor_label) for r in rows]
        for model, rows in found.items()
    }


def test_one_statement_reads_what_the_orm_reads(work, debtor, loan, phone, collector):
    _busy(debtor, loan, collector, work)
    rows_sql, by_sql = selectors.timeline_rows(debtor, limit=40)
    rows_orm, by_orm = _by_orm(debtor, 40)
    assert _rows(by_sql) == _rows(by_orm)
    # Most history sources have rows (no plan here): the comparison means something.
    assert sum(bool(rows) for rows in by_orm.values()) >= 4
    assert rows_sql == rows_orm
    entries_sql = selectors._history_entries(by_sql, limit=40)
    assert selectors._history_entries(by_orm, limit=40) == entries_sql
    changed = [e for e in entries_sql if e.changes]
    assert any("Renamed Person" in new for e in changed for _label, _old, new in e.changes)


def test_every_source_reads_the_same_both_ways(work, debtor, loan, phone, collector):
    """Attempts (with a disposition and a breach), decisions, notes, callbacks, reminders and
    portal events: the one statement gives the same rows, types and entries as the ORM."""
    with time_machine.travel(DAYTIME, tick=False):
        attempt = call_place(actor=collector, debtor=debtor, contact_point=phone)
        call_outcome_log(
            actor=collector,
            debtor=debtor,
            code=DispositionCode.objects.filter(is_active=True).first(),
            note="asked to call back",
            attempt=attempt,
        )
        ContactAttempt.objects.create(
            debtor=debtor,
            channel="call",
            direction="outbound",
            outcome="no_answer",
            occurred_at=NIGHT,
            breach=True,
            breach_reasons=["outside_contact_hours"],
            actor_label="dialer",
        )
        note_add(actor=collector, debtor=debtor, body="spoke to the debtor")
        callback_schedule(
            actor=collector, debtor=debtor, due_at=DAYTIME + dt.timedelta(days=1), note="later"
        )
        PortalEvent.objects.create(
            debtor=debtor, kind="opened", detail="from a phone", actor_label="debtor via portal"
        )
    _busy(debtor, loan, collector, work)  # a hardship pause: after the call
    make_reminder(
        loan,
        loan.installments.order_by("due_date").first(),
        offset_days=-3,
        status="sent",
        finished_at=DAYTIME,
    )
    rows_sql, _history = selectors.timeline_rows(debtor, limit=40)
    rows_orm, _history = _by_orm(debtor, 40)
    assert all(rows_orm[key] for key in rows_orm), {k: len(v) for k, v in rows_orm.items()}
    assert rows_sql == rows_orm
    entries = selectors.timeline(debtor)
    kinds = {e.kind for e in entries}
    assert {"attempt", "decision", "note", "callback", "reminder", "portal"} <= kinds
    details = " | ".join(str(e.detail) for e in entries)
    assert "asked to call back" in details and "breach" in details


def test_each_source_is_cut_to_the_limit(work, debtor, loan, phone, collector):
    _busy(debtor, loan, collector, work)
    _rows_found, found = selectors.timeline_rows(debtor, limit=1)
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
