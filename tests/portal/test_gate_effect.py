"""A portal opt-out, stop request or dispute blocks the very next reminder and call at the gate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from compliance import gate
from debtors.models import ContactPoint
from reminders import dispatcher, planner
from reminders.models import Reminder
from tests.reminders.conftest import SHANGHAI, at, loan_due_on, reachable_debtor

from .conftest import DOB, Portal, address

DUE = dt.date(2030, 3, 5)
MORNING = at(SHANGHAI, 2030, 3, 2, 10, 0)


@pytest.fixture
def reachable(db, outbox):
    debtor = reachable_debtor(date_of_birth=DOB)
    loan = loan_due_on(debtor, DUE)
    return debtor, loan


@pytest.fixture
def outbox(settings, tmp_path):
    settings.REMINDER_OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "messaging.channels.sms.FileSmsBackend"}
    return tmp_path / "outbox"


def _portal(debtor, loan):
    return Portal(debtor, loan, client=Client(REMOTE_ADDR=address())).signed_in()


def _phone(debtor):
    return ContactPoint.objects.get(debtor=debtor, kind=ContactPoint.Kind.MOBILE)


def test_the_gate_allows_before_the_portal_is_used(reachable):
    debtor, _loan = reachable
    assert gate.check(
        debtor=debtor, channel="call", contact_point=_phone(debtor), at=MORNING
    ).allowed


def test_a_portal_opt_out_blocks_the_next_reminder_and_call(reachable):
    debtor, loan = reachable
    _portal(debtor, loan).client.post(
        "/p/contact/", {"action": "choices", "channels": ["email", "letter"]}
    )
    decision = gate.check(debtor=debtor, channel="call", contact_point=_phone(debtor), at=MORNING)
    assert not decision.allowed and "channel_opt_out" in decision.reasons
    with pytest.raises(gate.ContactBlocked) as blocked:
        gate.request(
            debtor=debtor, channel="call", actor="tests", contact_point=_phone(debtor), now=MORNING
        )
    assert "channel_opt_out" in blocked.value.decision.reasons
    planner.plan(now=MORNING)
    dispatcher.dispatch(now=MORNING)
    in_app = Reminder.objects.get(loan=loan, channel="in_app")
    assert in_app.status == "closed" and in_app.reason == "channel_opt_out"
    assert Reminder.objects.get(loan=loan, channel="email").status == "sent"


def test_hours_chosen_on_the_portal_block_other_hours(reachable):
    debtor, loan = reachable
    _portal(debtor, loan).client.post(
        "/p/contact/",
        {
            "action": "choices",
            "channels": ["call", "sms", "email", "in_app", "letter"],
            "suits_from": "18:00",
            "suits_until": "20:00",
        },
    )
    decision = gate.check(debtor=debtor, channel="call", contact_point=_phone(debtor), at=MORNING)
    assert not decision.allowed and "debtor_inconvenient_time" in decision.reasons
    evening = at(SHANGHAI, 2030, 3, 2, 18, 30)
    assert gate.check(
        debtor=debtor, channel="call", contact_point=_phone(debtor), at=evening
    ).allowed


def test_a_portal_dispute_blocks_the_next_reminder_and_call(reachable):
    debtor, loan = reachable
    _portal(debtor, loan).client.post("/p/dispute/", {"reason": "This is not my loan"})
    with pytest.raises(gate.ContactBlocked) as blocked:
        gate.request(
            debtor=debtor, channel="call", actor="tests", contact_point=_phone(debtor), now=MORNING
        )
    assert "dispute_hold" in blocked.value.decision.reasons
    planner.plan(now=MORNING)
    dispatcher.dispatch(now=MORNING)
    reasons = set(Reminder.objects.filter(loan=loan).values_list("status", "reason"))
    assert reasons and reasons == {("closed", "dispute_hold")}


def test_stopping_all_contact_blocks_the_next_reminder_and_call(reachable):
    debtor, loan = reachable
    _portal(debtor, loan).client.post("/p/contact/", {"action": "cease", "confirm": "on"})
    decision = gate.check(debtor=debtor, channel="sms", at=MORNING)
    assert not decision.allowed and "cease_communication" in decision.reasons
    planner.plan(now=MORNING)
    dispatcher.dispatch(now=MORNING)
    assert set(Reminder.objects.filter(loan=loan).values_list("reason", flat=True)) == {
        "cease_communication"
    }
