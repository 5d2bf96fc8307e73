"""The gate's one-statement read equals the plain ORM read of the same rows."""

from __future__ import annotations

import datetime as dt
import types

import pytest
from django.db import connection

from compliance import gate
from compliance import snapshot as snapshots
from compliance.models import ContactAttempt
from compliance.services import contact_attempt_record, contact_preference_add
from debtors.models import ChannelConsent
from tests.factories import make_contact_point

from .conftest import NY, local
from .orm_reference import load_with_orm


@pytest.fixture
def busy_debtor(us_debtor, us_loan):
    phone = us_debtor.contact_points.get()
    make_contact_point(us_debtor, kind="email", value="d@example.com")
    make_contact_point(us_debtor, value="+13125550100", owner="reference", status="invalid")
    ChannelConsent.objects.create(
        debtor=us_debtor, channel="sms", consented_at=local(NY, 2026, 1, 1, 9, 0)
    )
    ChannelConsent.objects.create(
        debtor=us_debtor,
        contact_point=phone,
        channel="sms",
        opted_out_at=local(NY, 2026, 2, 1, 9, 0),
    )
    contact_preference_add(
        actor="tests",
        debtor=us_debtor,
        start_time=dt.time(12, 0),
        end_time=dt.time(13, 30),
        weekdays=[0, 2],
        source="portal",
    )
    contact_preference_add(
        actor="tests",
        debtor=us_debtor,
        channel="sms",
        start_time=dt.time(22, 0),
        end_time=dt.time(7, 0),
        source="portal",
    )
    for day, outcome in ((20, "no_answer"), (25, "conversation"), (28, "busy")):
        contact_attempt_record(
            actor="tests",
            debtor=us_debtor,
            loan=us_loan,
            contact_point=phone,
            channel="call",
            direction="outbound",
            outcome=outcome,
            occurred_at=local(NY, 2026, 2, day, 10, 0, 0) + dt.timedelta(microseconds=123456),
        )
    contact_attempt_record(
        actor="tests",
        debtor=us_debtor,
        channel="sms",
        direction="inbound",
        outcome="delivered",
        occurred_at=local(NY, 2026, 3, 1, 9, 0),
    )
    return us_debtor, phone


def _facts(facts):
    return sorted(
        (f.channel, f.direction, f.outcome, f.occurred_at, f.loan_id, f.contact_point_id)
        for f in facts
    )


@pytest.mark.parametrize("channel", ["call", "sms", "email"])
def test_sql_and_orm_reads_agree(busy_debtor, channel):
    debtor, phone = busy_debtor
    at = local(NY, 2026, 3, 2, 10, 0)
    kwargs = {
        "debtor_id": debtor.pk,
        "channel": channel,
        "contact_point_id": phone.pk,
        "at": at,
        "lookback": dt.timedelta(days=30),
    }
    excluded = ContactAttempt.objects.order_by("id").first().pk
    for exclude in (None, excluded):
        by_sql = snapshots.load(exclude_attempt_id=exclude, **kwargs)
        by_orm = load_with_orm(exclude_attempt_id=exclude, **kwargs)
        assert by_sql.debtor == by_orm.debtor
        assert sorted(by_sql.points, key=lambda p: p.pk) == by_orm.points
        assert sorted(by_sql.consents, key=repr) == sorted(by_orm.consents, key=repr)
        assert sorted(by_sql.inconvenient, key=repr) == sorted(by_orm.inconvenient, key=repr)
        assert _facts(by_sql.history) == _facts(by_orm.history)
        assert len(by_sql.history) == (4 if exclude is None else 3)
        assert sorted(by_sql.policies, key=lambda p: p.pk) == sorted(
            by_orm.policies, key=lambda p: p.pk
        )
    # What ``request`` reads: the batch statement, behind the lock, gives the same snapshot.
    with connection.cursor() as cursor:
        batch = snapshots.lock_and_load(
            cursor,
            debtor_ids=[debtor.pk, 987654321],
            channels=sorted({channel, "call"}),
            since=at - dt.timedelta(days=30),
            ids=2,
            begin=False,
        )
    assert set(batch.debtors) == {debtor.pk}
    assert len(set(batch.decision_ids)) == 2 and len(set(batch.attempt_ids)) == 2
    read = batch.debtors[debtor.pk].snapshot(channel, phone.pk)
    by_orm = load_with_orm(exclude_attempt_id=None, **kwargs)
    assert read.debtor == by_orm.debtor
    assert read.points == by_orm.points
    assert sorted(read.consents, key=repr) == sorted(by_orm.consents, key=repr)
    assert sorted(read.inconvenient, key=repr) == sorted(by_orm.inconvenient, key=repr)
    assert _facts(read.history) == _facts(by_orm.history)
    assert sorted(read.policies, key=lambda p: p.pk) == sorted(by_orm.policies, key=lambda p: p.pk)


def test_unknown_debtor(db):
    with pytest.raises(gate.GateInputError):
        gate.check(
            debtor=types.SimpleNamespace(pk=987654321),
            channel="call",
            at=local(NY, 2026, 3, 2, 10, 0),
        )
    with pytest.raises(gate.GateInputError):
        gate.request(debtor=types.SimpleNamespace(pk=987654321), channel="call", actor="tests")


def test_history_index_covers_what_the_gate_reads(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'attempt_debtor_channel_at'"
        )
        (definition,) = cursor.fetchone()
    assert "INCLUDE (direction, outcome, loan_id, contact_point_id)" in definition


def test_the_hot_path_is_prepared_once_per_session(us_debtor, us_loan, settings):
    from django.db import connection

    for minute in (0, 1):
        gate.request(
            debtor=us_debtor,
            channel="call",
            loan=us_loan,
            actor="tests",
            now=local(NY, 2026, 3, 2, 10, minute),
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'compliance_%%'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"compliance_lock_debtors", "compliance_read_debtors", "compliance_decide_many"} <= names
    settings.COMPLIANCE_PREPARED_STATEMENTS = False
    permit = gate.request(
        debtor=us_debtor,
        channel="call",
        loan=us_loan,
        actor="tests",
        now=local(NY, 2026, 3, 2, 10, 2),
    )
    assert ContactAttempt.objects.filter(pk=permit.attempt_id, outcome="pending").exists()
    assert gate.check(
        debtor=us_debtor, channel="call", loan=us_loan, at=local(NY, 2026, 3, 2, 10, 3)
    ).allowed
