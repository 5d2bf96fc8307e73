"""The gate's batch entry point and its own-transaction path on PostgreSQL.

``request`` outside any transaction of the caller sends two messages: lock and read, then
write and commit. These tests run outside the test's transaction (``transaction=True``) so
that path is the one taken, and check that the session is left idle whatever happens.
"""

from __future__ import annotations

import datetime as dt
import types

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from compliance import gate
from compliance.channels import ChannelBackend, OutboundMessage
from compliance.models import ContactAttempt, ContactDecision, ContactPermit, ContactPolicy
from compliance.reasons import Reason
from compliance.selectors import NoPolicy
from tests.factories import make_contact_point, make_debtor, make_loan

from .conftest import set_rules

AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in London
ONE_CALL_A_DAY = {"call": {"limits": [{"count": "attempts", "max": 1, "days": 1}]}}


def idle() -> bool:
    return connection.connection.info.transaction_status == TRANSACTION_STATUS_IDLE


@pytest.fixture
def london(db):
    set_rules("default", ONE_CALL_A_DAY)
    return make_debtor(country="GB", timezone="Europe/London")


def _ask(debtor, channel="call", **kwargs):
    return gate.GateRequest.of(debtor=debtor, channel=channel, actor="tests", **kwargs)


def test_two_requests_for_one_debtor_in_a_batch_see_each_other(london):
    other = make_debtor(country="GB", timezone="Europe/London")
    first, second, third = gate.request_many([_ask(london), _ask(london), _ask(other)], now=AT)
    assert isinstance(first, gate.Permit) and isinstance(third, gate.Permit)
    assert isinstance(second, gate.Decision) and second.reasons == [Reason.DAILY_LIMIT]
    assert second.decision_id > first.decision.decision_id
    rows = ContactDecision.objects.order_by("id")
    assert [(r.debtor_id, r.allowed) for r in rows] == [
        (london.pk, True),
        (london.pk, False),
        (other.pk, True),
    ]
    assert set(ContactAttempt.objects.values_list("pk", flat=True)) == {
        first.attempt_id,
        third.attempt_id,
    }
    assert ContactPermit.objects.count() == 2


def test_an_unknown_debtor_or_a_foreign_contact_point_stops_only_its_own_request(london):
    stranger = make_contact_point(make_debtor(), value="+447700900001")
    wanted = [
        gate.GateRequest(debtor_id=987654321, channel="call", actor="tests"),
        gate.GateRequest(
            debtor_id=london.pk, channel="call", actor="tests", contact_point_id=stranger.pk
        ),
        _ask(london),
    ]
    unknown, foreign, allowed = gate.request_many(wanted, now=AT)
    assert isinstance(unknown, gate.GateInputError)
    assert isinstance(foreign, gate.GateInputError)
    assert isinstance(allowed, gate.Permit)
    assert ContactDecision.objects.count() == 1


def test_a_debtor_no_policy_covers_stops_only_its_own_request(london):
    american = make_debtor(country="US", timezone="America/New_York")
    ContactPolicy.objects.filter(is_default=True).update(is_active=False)
    uncovered, allowed = gate.request_many(
        [_ask(london), _ask(american)], now=AT + dt.timedelta(hours=6)
    )
    assert isinstance(uncovered, NoPolicy)
    assert isinstance(allowed, gate.Permit)
    assert list(ContactDecision.objects.values_list("debtor_id", flat=True)) == [american.pk]


def test_a_batch_in_the_callers_transaction_commits_with_it(london):
    # The test runs inside a transaction: the batch takes a savepoint, not a commit.
    (permit,) = gate.request_many([_ask(london, loan=make_loan(london))], now=AT)
    assert isinstance(permit, gate.Permit)
    assert connection.in_atomic_block
    assert ContactAttempt.objects.get(pk=permit.attempt_id).decision_id == (
        permit.decision.decision_id
    )


def test_the_inputs_are_checked_before_anything_is_asked(london):
    with pytest.raises(gate.GateInputError):
        _ask(london, channel="fax")
    with pytest.raises(gate.GateInputError):
        _ask(london, loan=make_loan(make_debtor()))
    assert gate.request_many([], now=AT) == []


class Recording(ChannelBackend):
    channel = "call"

    def __init__(self):
        self.delivered = []

    def _deliver(self, attempt, message):
        if message.body == "boom":
            raise RuntimeError("transport down")
        self.delivered.append(attempt.pk)
        return f"ref-{attempt.pk}"


def test_send_many_spends_each_permit_once_and_reports_each_item(london, settings):
    set_rules("default", {"call": {}})
    settings.COMPLIANCE_PERMIT_TTL_SECONDS = 3600
    debtors = [make_debtor(country="GB", timezone="Europe/London") for _ in range(3)]
    permits = gate.request_many([_ask(d) for d in debtors])
    message = [OutboundMessage(debtor_id=d.pk, to="+447700900123", body="hi") for d in debtors]
    backend = Recording()
    results = backend.send_many(
        [
            (permits[0].token, message[0]),
            (permits[0].token, message[0]),  # the same permit twice
            (permits[1].token, message[0]),  # another debtor's permit
            (permits[2].token, OutboundMessage(debtor_id=debtors[2].pk, to="x", body="boom")),
        ]
    )
    assert results[0].attempt.pk == permits[0].attempt_id
    assert isinstance(results[1], gate.InvalidPermit) and "already used" in str(results[1])
    assert isinstance(results[2], gate.InvalidPermit) and "another debtor" in str(results[2])
    assert isinstance(results[3], RuntimeError)
    assert backend.delivered == [permits[0].attempt_id]
    # The failed transport still spent its permit: it may never be used again.
    assert isinstance(backend.send_many([(permits[2].token, message[2])])[0], gate.InvalidPermit)


def test_a_backend_may_not_override_send_many():
    with pytest.raises(TypeError, match="send_many"):

        class Sneaky(ChannelBackend):
            def send_many(self, items):
                return []


# --- outside any transaction: the gate's own, in two round trips ------------------------------

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@transactional
def test_request_outside_a_transaction_is_two_round_trips_and_commits():
    set_rules("default", ONE_CALL_A_DAY)
    debtor = make_debtor(country="GB", timezone="Europe/London")
    gate.request(debtor=debtor, channel="call", actor="tests", now=AT)  # prepares
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(gate.ContactBlocked) as blocked,
    ):
        gate.request(debtor=debtor, channel="call", actor="tests", now=AT)
    assert blocked.value.decision.reasons == [Reason.DAILY_LIMIT]
    assert len(queries) == 2, [q["sql"] for q in queries]
    first, second = (q["sql"] for q in queries)
    assert first.startswith("BEGIN") and first.index("compliance_lock_debtors") < first.index(
        "compliance_read_debtors"
    )
    assert second.rstrip().endswith("COMMIT")
    assert idle() and not connection.in_atomic_block
    assert ContactDecision.objects.filter(debtor=debtor).count() == 2


@transactional
def test_an_error_mid_request_rolls_back_and_leaves_the_session_usable(monkeypatch):
    set_rules("default", {"call": {}})
    debtor = make_debtor(country="GB", timezone="Europe/London")

    def broken(*args, **kwargs):
        raise RuntimeError("judging failed")

    monkeypatch.setattr(gate, "judge", broken)
    with pytest.raises(RuntimeError):
        gate.request(debtor=debtor, channel="call", actor="tests", now=AT)
    assert idle()
    monkeypatch.undo()
    with pytest.raises(gate.GateInputError):
        gate.request(debtor=types.SimpleNamespace(pk=987654321), channel="call", actor="tests")
    assert idle()
    assert not ContactDecision.objects.exists()
    permit = gate.request(debtor=debtor, channel="call", actor="tests", now=AT)
    assert idle()
    assert ContactDecision.objects.get().pk == permit.decision.decision_id
