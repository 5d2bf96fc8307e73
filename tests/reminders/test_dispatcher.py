"""The dispatcher: windows per time zone, holds, provider errors, crash recovery."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from compliance import gate
from compliance.models import ContactAttempt, ContactPolicy
from debtors.models import ChannelConsent, ContactPoint
from debtors.services import debtor_set_holds, payment_post
from messaging.channels.base import Found
from messaging.models import InboxMessage, MessageTemplate, PrintJob, SentMessage
from reminders import dispatcher, planner
from reminders.models import Reminder, ReminderStatus
from selfservice.links import LinkInvalid, link_resolve
from selfservice.services import links_revoke

from . import backends
from .conftest import NY, SHANGHAI, UTC, at, loan_due_on, reachable_debtor

DUE = dt.date(2030, 3, 5)


def run(now):
    planner.plan(now=now)
    return dispatcher.dispatch(now=now)


def plan_only(now, channel="sms", day=DUE):
    """Plan, then keep only the rows of one channel and day (the window plans neighbours too)."""
    planner.plan(now=now)
    Reminder.objects.exclude(channel=channel, scheduled_for=day).delete()


def sms_files(outbox):
    folder = outbox / "sms"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def one(**filters) -> Reminder:
    return Reminder.objects.get(**filters)


@pytest.fixture
def scripted(settings):
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "tests.reminders.backends.ScriptedSms"}
    backends.reset()
    return backends


def test_each_debtor_is_reached_inside_their_own_hours(db, outbox):
    shanghai = reachable_debtor()
    new_york = reachable_debtor(country="US", tz="America/New_York")
    cn_loan, us_loan = loan_due_on(shanghai, DUE), loan_due_on(new_york, DUE)

    # 02:00 UTC: 10:00 in Shanghai on the due date, 21:00 the evening before in New York.
    first = at(UTC, 2030, 3, 5, 2, 0)
    plan_only(first)
    assert dispatcher.dispatch(now=first) == {"sent": 1, "waiting": 1}
    assert one(loan=cn_loan, channel="sms").status == ReminderStatus.SENT
    us = one(loan=us_loan, channel="sms")
    assert us.status == ReminderStatus.PLANNED and us.reason == "before_local_day"
    assert us.not_before == at(NY, 2030, 3, 5, 0, 0)

    # Midnight in New York: the day has begun, but the window has not.
    assert dispatcher.dispatch(now=us.not_before) == {"waiting": 1}
    us.refresh_from_db()
    assert us.reason == "outside_contact_hours"
    assert us.not_before == at(NY, 2030, 3, 5, 8, 0)

    assert dispatcher.dispatch(now=us.not_before) == {"sent": 1}
    attempts = ContactAttempt.objects.filter(channel="sms", outcome="sent")
    local_hours = {
        a.debtor_id: a.occurred_at.astimezone(SHANGHAI if a.debtor_id == shanghai.pk else NY).hour
        for a in attempts
    }
    assert local_hours == {shanghai.pk: 10, new_york.pk: 8}
    files = sms_files(outbox)
    assert len(files) == 2
    bodies = {json.loads(f.read_text())["to"] for f in files}
    assert bodies == {
        shanghai.contact_points.get(kind="mobile").value,
        new_york.contact_points.get(kind="mobile").value,
    }
    assert dispatcher.dispatch(now=us.not_before + dt.timedelta(hours=1)) == {}


def test_sent_reminders_are_contact_attempts_in_the_api(db, outbox, client, supervisor):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    run(at(SHANGHAI, 2030, 3, 2, 10, 0))
    client.force_login(supervisor)
    answer = client.get("/api/v1/contact-attempts/", {"debtor": debtor.pk}).json()
    rows = answer.get("results", answer)
    assert sorted((r["channel"], r["outcome"]) for r in rows) == [
        ("email", "sent"),
        ("in_app", "sent"),
    ]
    assert {r["recorded_by"] for r in rows} == {
        f"system: reminder #{r.pk}" for r in Reminder.objects.filter(debtor=debtor)
    }
    assert len(mail.outbox) == 1 and "debtor" in mail.outbox[0].to[0]
    assert mail.outbox[0].extra_headers["X-Idempotency-Key"].startswith("reminder-")
    inbox = InboxMessage.objects.get(debtor=debtor)
    assert "/p/" in inbox.body
    # Each sent message's words are kept with its attempt (the case timeline shows them).
    words = {m.channel: m for m in SentMessage.objects.filter(debtor=debtor)}
    assert set(words) == {"email", "in_app"}
    assert words["in_app"].body == inbox.body
    assert words["email"].body == mail.outbox[0].body
    assert {m.attempt.outcome for m in words.values()} == {"sent"}


def test_a_hold_closes_the_reminder_with_its_reason(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    debtor_set_holds(actor="tests", debtor=debtor, changes={"dispute": True})
    assert run(at(SHANGHAI, 2030, 3, 2, 10, 0)) == {"closed": 2}
    assert set(Reminder.objects.values_list("status", "reason")) == {("closed", "dispute_hold")}
    assert not ContactAttempt.objects.filter(outcome="sent").exists()
    assert mail.outbox == []


def test_an_opted_out_channel_is_closed_and_the_others_still_go(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    ChannelConsent.objects.create(debtor=debtor, channel="email", opted_out_at=timezone.now())
    assert run(at(SHANGHAI, 2030, 3, 2, 10, 0)) == {"closed": 1, "sent": 1}
    assert one(channel="email").reason == "channel_opt_out"
    assert one(channel="in_app").status == "sent"


def test_a_missing_contact_point_is_a_readable_outcome(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    ContactPoint.objects.filter(debtor=debtor, kind="email").update(status="invalid")
    run(at(SHANGHAI, 2030, 3, 2, 10, 0))
    email = one(channel="email")
    assert (email.status, email.reason) == ("closed", "no_contact_point")
    assert "no usable contact point for email" in email.last_error


def test_a_broken_template_fails_with_its_error(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    # Written around the validation (as a bad import might): caught at send time too.
    MessageTemplate.objects.filter(key="friendly_reminder", channel="email").update(
        body="Hi {{ nickname }} {{ opt_out_text }}"
    )
    run(at(SHANGHAI, 2030, 3, 2, 10, 0))
    email = one(channel="email")
    assert (email.status, email.reason) == ("failed", "template_error")
    assert "nickname" in email.last_error
    MessageTemplate.objects.filter(key="friendly_reminder", channel="in_app").delete()
    Reminder.objects.filter(channel="in_app").update(status="planned", finished_at=None)
    dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 2, 11, 0))
    assert one(channel="in_app").reason == "template_missing"


def test_the_debtors_language_is_used(db, outbox):
    debtor = reachable_debtor(language="zh-hans")
    loan_due_on(debtor, DUE)
    run(at(SHANGHAI, 2030, 3, 2, 10, 0))
    assert "温馨提醒" in mail.outbox[0].body and "¥100.00" in mail.outbox[0].body


def test_a_row_taken_back_while_the_gate_granted_its_permit_is_not_sent(db, outbox, monkeypatch):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0))
    granting = gate.request_many

    def recovered_meanwhile(requests, now=None):
        answers = granting(requests, now=now)
        # Another worker's recovery puts the rows back (due tomorrow) before this one links
        # the permits.
        Reminder.objects.filter(status="sending").update(
            status="planned", claimed_at=None, not_before=at(SHANGHAI, 2030, 3, 3, 10, 0)
        )
        return answers

    monkeypatch.setattr(gate, "request_many", recovered_meanwhile)
    dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 2, 10, 0))

    assert mail.outbox == []
    attempts = ContactAttempt.objects.all()
    assert attempts and {a.outcome for a in attempts} == {"failed"}
    assert set(Reminder.objects.values_list("status", flat=True)) == {"planned"}
    assert set(Reminder.objects.values_list("contact_attempt_id", flat=True)) == {None}


def test_a_paid_loan_is_not_reminded(db, outbox):
    debtor = reachable_debtor()
    loan = loan_due_on(debtor, DUE)
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0))
    payment_post(
        actor="tests",
        loan=loan,
        amount=Decimal("100.00"),
        received_at=timezone.now(),
        method="bank_transfer",
        external_ref="P-1",
    )
    # The payment closed the case (paid), and with it the reminders, before any dispatch.
    assert dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 2, 10, 0)) == {}
    assert set(Reminder.objects.values_list("reason", flat=True)) == {"paid"}


def test_a_call_task_queues_the_case_and_sends_nothing(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, dt.date(2030, 3, 2))
    planner.plan(now=at(SHANGHAI, 2030, 3, 5, 10, 0))
    Reminder.objects.exclude(channel="call_task").delete()
    assert dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 5, 10, 0)) == {"queued": 1}
    assert Case.objects.get(debtor=debtor).next_action_on == dt.date(2030, 3, 5)
    assert not ContactAttempt.objects.exists()


def test_a_call_task_without_an_open_case_is_closed_with_that_reason(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, dt.date(2030, 3, 2))
    planner.plan(now=at(SHANGHAI, 2030, 3, 5, 10, 0))
    Reminder.objects.exclude(channel="call_task").delete()
    # The case closed after the task was planned (the planner plans none for a closed case).
    Case.objects.filter(debtor=debtor).update(
        status=Case.Status.CLOSED, closed_reason=Case.ClosedReason.WITHDRAWN
    )
    assert dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 5, 10, 0)) == {"closed": 1}
    assert one(channel="call_task").reason == "no_open_case"
    assert Case.objects.get(debtor=debtor).next_action_on is None


def test_call_tasks_no_policy_covers_fail_alone_and_the_batch_goes_on(db, outbox):
    covered = reachable_debtor()
    loan_due_on(covered, dt.date(2030, 3, 2))
    uncovered = reachable_debtor(country="GB", tz="Europe/London", phone="+447700900123")
    loan_due_on(uncovered, dt.date(2030, 3, 2))
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    planner.plan(now=now)
    Reminder.objects.exclude(channel="call_task").delete()
    assert Reminder.objects.count() == 2
    ContactPolicy.objects.filter(is_default=True).update(is_active=False)
    dispatcher.clear_caches()
    assert dispatcher.dispatch(now=now) == {"queued": 1, "failed": 1}
    failed = one(debtor=uncovered)
    assert (failed.status, failed.reason) == ("failed", "gate_error")
    assert failed.last_error
    assert one(debtor=covered).status == "queued"


def test_a_letter_is_rendered_to_pdf_and_queued(db, outbox):
    debtor = reachable_debtor(language="zh-hans")
    loan_due_on(debtor, dt.date(2030, 2, 1))
    planner.plan(now=at(SHANGHAI, 2030, 3, 3, 10, 0))
    assert list(Reminder.objects.values_list("channel", flat=True)) == ["letter"]
    assert dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 3, 10, 0)) == {"sent": 1}
    job = PrintJob.objects.get(debtor=debtor)
    assert job.status == "queued" and job.pages >= 1
    with job.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_a_temporary_error_is_retried_on_the_backoff_then_fails(db, outbox, scripted, settings):
    settings.REMINDER_RETRY_BACKOFF_SECONDS = [60, 300]
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    plan_only(now)
    scripted.reset("transient", "transient", "transient")
    assert dispatcher.dispatch(now=now) == {"retry": 1}
    sms = one(channel="sms")
    assert (sms.status, sms.reason, sms.tries) == ("planned", "retry", 1)
    assert "503" in sms.last_error
    assert sms.not_before == now + dt.timedelta(seconds=60)
    # Each try is a failed attempt on the record; the next try needs a new permit.
    later = now + dt.timedelta(hours=1)
    Reminder.objects.update(not_before=now)
    assert dispatcher.dispatch(now=later) == {"retry": 1}
    Reminder.objects.update(not_before=now)
    assert dispatcher.dispatch(now=later) == {"failed": 1}
    sms.refresh_from_db()
    assert (sms.status, sms.tries) == ("failed", 3)
    assert "Gave up after 3 tries" in sms.last_error
    assert list(ContactAttempt.objects.values_list("outcome", flat=True)) == ["failed"] * 3
    assert scripted.DELIVERED == []


def test_a_permanent_error_fails_at_once(db, outbox, scripted):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    plan_only(now)
    scripted.reset("permanent")
    assert dispatcher.dispatch(now=now) == {"failed": 1}
    sms = one(channel="sms")
    assert (sms.status, sms.reason, sms.tries) == ("failed", "provider", 1)
    assert "rejected" in sms.last_error


def test_an_uncertain_send_is_settled_by_the_status_query(db, outbox, scripted):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    loan_due_on(debtor, DUE)
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    plan_only(now)
    first, second = Reminder.objects.order_by("id")
    scripted.reset("unknown", "unknown")
    scripted.LOOKUP[first.idempotency_key] = Found(provider_ref="gw-1")
    counts = dispatcher.dispatch(now=now)
    assert counts == {"sent": 1, "unknown": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.provider_ref) == ("sent", "gw-1")
    assert (second.status, second.reason) == ("unknown", "outcome_unknown")
    # Unknown is never re-sent: it stays for a supervisor.
    assert dispatcher.dispatch(now=now + dt.timedelta(hours=1)) == {}


def _stale(reminder: Reminder, **fields) -> None:
    Reminder.objects.filter(pk=reminder.pk).update(
        status="sending", claimed_at=timezone.now() - dt.timedelta(hours=1), **fields
    )


def test_recovery_resends_only_what_certainly_did_not_leave(db, outbox):
    debtors = [reachable_debtor() for _ in range(4)]
    for debtor in debtors:
        loan_due_on(debtor, DUE)
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    plan_only(now)
    a, b, c, d = Reminder.objects.order_by("id")

    # a: the worker died before asking the gate.
    _stale(a)
    # b: the gate granted a permit, never spent, now expired.
    permit_b = gate.request(
        debtor=b.debtor, channel="sms", actor=b.actor, loan=b.loan, now=at(SHANGHAI, 2026, 1, 5, 11)
    )
    _stale(b)
    # c: the permit was spent and the provider has the message (the file exists).
    planner_now = now
    dispatcher.claim(now=planner_now, batch_size=0)
    Reminder.objects.filter(pk=c.pk).update(status="sending", claimed_at=timezone.now())
    assert dispatcher.process(c.pk, now=now) == "sent"
    Reminder.objects.filter(pk=c.pk).update(status="sending", finished_at=None)
    # The state a crash between the provider's answer and the outcome leaves: an attempt still
    # pending. The append-only trigger refuses to rewind an outcome, so the test's superuser
    # switches triggers off for this one statement.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        ContactAttempt.objects.filter(pk=Reminder.objects.get(pk=c.pk).contact_attempt_id).update(
            outcome="pending"
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    _stale(c)
    # d: spent, but the provider never got it (no file).
    permit_d = gate.request(debtor=d.debtor, channel="sms", actor=d.actor, loan=d.loan, now=now)
    from compliance.models import ContactPermit

    ContactPermit.objects.filter(attempt_id=permit_d.attempt_id).update(redeemed_at=timezone.now())
    _stale(d, contact_attempt_id=permit_d.attempt_id)

    counts = dispatcher.recover_stale()
    assert counts == {"recovered": 3, "sent": 1}
    assert one(pk=c.pk).status == "sent"
    assert ContactAttempt.objects.get(pk=permit_b.attempt_id).outcome == "failed"
    assert ContactAttempt.objects.get(pk=permit_d.attempt_id).outcome == "failed"
    assert dispatcher.dispatch(now=now + dt.timedelta(minutes=5))["sent"] == 3
    assert len(sms_files(outbox)) == 4
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}


def test_recovery_without_a_status_query_marks_the_outcome_unknown(db, outbox):
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    now = at(SHANGHAI, 2030, 3, 2, 10, 0)
    planner.plan(now=now)
    email = one(channel="email")
    permit = gate.request(
        debtor=debtor, channel="email", actor=email.actor, loan=email.loan, now=now
    )
    from compliance.models import ContactPermit

    ContactPermit.objects.filter(attempt_id=permit.attempt_id).update(redeemed_at=timezone.now())
    _stale(email)
    assert dispatcher.recover_stale() == {"unknown": 1}
    email.refresh_from_db()
    assert (email.status, email.reason) == ("unknown", "outcome_unknown")
    assert "cannot tell" in email.last_error
    assert mail.outbox == []


def test_dispatching_twice_sends_nothing_twice(db, outbox):
    for _ in range(3):
        loan_due_on(reachable_debtor(), DUE)
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    plan_only(now)
    planner.plan(now=now)
    Reminder.objects.exclude(channel="sms", scheduled_for=DUE).delete()
    assert Reminder.objects.count() == 3
    assert dispatcher.dispatch(now=now, batch_size=2) == {"sent": 3}
    assert dispatcher.dispatch(now=now) == {}
    assert len(sms_files(outbox)) == 3


def test_the_command_prints_counts(db, outbox, capsys):
    loan_due_on(reachable_debtor(), DUE)
    call_command("plan_reminders", "--now", "2030-03-02T10:00:00+08:00")
    call_command("dispatch_reminders", "--now", "2030-03-02T10:00:00+08:00")
    assert "Dispatched 2 reminders: sent 2." in capsys.readouterr().out


def test_a_reminder_whose_next_stage_has_begun_is_closed_unsent(db, outbox):
    loan_due_on(reachable_debtor(), DUE)
    planner.plan(now=at(SHANGHAI, 2030, 3, 2, 10, 0))  # the T-3 stages
    # Nobody dispatched until the due date: the friendly reminders are out of date.
    assert dispatcher.dispatch(now=at(SHANGHAI, 2030, 3, 5, 10, 0)) == {"closed": 2}
    assert set(Reminder.objects.values_list("reason", flat=True)) == {"superseded"}
    assert mail.outbox == []


def test_a_sent_link_is_ended_by_a_later_revocation_though_its_date_is_later(
    db, outbox, supervisor
):
    """The batch's links are issued by the database's clock: a worker whose clock runs a day
    ahead sends a link dated tomorrow; revoked today, it stays ended when tomorrow comes, and
    the next reminder's link works."""
    debtor = reachable_debtor()
    loan_due_on(debtor, DUE)
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(days=1)):
        assert run(at(SHANGHAI, 2030, 3, 2, 10, 0)) == {"sent": 2}
    sent = InboxMessage.objects.get(debtor=debtor).body
    with time_machine.travel(start):
        links_revoke(actor=supervisor, debtor=debtor)
    with time_machine.travel(start + dt.timedelta(days=1, minutes=1)):
        with pytest.raises(LinkInvalid):
            link_resolve(_token_in(sent))
        assert run(at(SHANGHAI, 2030, 3, 5, 10, 0)) == {"sent": 1}
        latest = SentMessage.objects.filter(debtor=debtor).latest("id").body
        assert link_resolve(_token_in(latest)).debtor_id == debtor.pk


def _token_in(body: str) -> str:
    return re.search(r"/p/([^/\s]+)/", body).group(1)


def test_a_batch_costs_the_same_queries_whatever_its_size(db, outbox):
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    for _ in range(11):
        loan_due_on(reachable_debtor(), DUE)
    plan_only(now)
    ids = list(Reminder.objects.order_by("id").values_list("pk", flat=True))
    assert len(ids) == 11
    Reminder.objects.update(status="sending", claimed_at=timezone.now())
    dispatcher.clear_caches()
    assert set(dispatcher.process_batch(ids[:2], now=now).values()) == {"sent"}  # warms caches
    counts = []
    for batch in (ids[2:5], ids[5:]):
        with CaptureQueriesContext(connection) as queries:
            outcomes = dispatcher.process_batch(batch, now=now)
        assert outcomes == dict.fromkeys(batch, "sent")
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert len(sms_files(outbox)) == 11
    sent = ContactAttempt.objects.filter(outcome="sent")
    assert sent.count() == 11 and not sent.filter(breach=True).exists()
    assert not sent.filter(breach_policy__isnull=True).exists()


def test_two_messages_to_one_debtor_in_a_batch_are_judged_one_after_the_other(db, outbox):
    # The default policy (Britain) allows one SMS a day: the second waits for the next day.
    debtor = reachable_debtor(country="GB", tz="Europe/London")
    loan_due_on(debtor, DUE, currency="GBP")
    loan_due_on(debtor, DUE, currency="GBP")
    now = at(UTC, 2030, 3, 5, 10, 0)
    plan_only(now)
    assert Reminder.objects.count() == 2
    assert dispatcher.dispatch(now=now) == {"sent": 1, "waiting": 1}
    waiting = one(status="planned")
    assert waiting.reason == "daily_limit"
    assert waiting.not_before == at(UTC, 2030, 3, 6, 8, 0)
    assert len(sms_files(outbox)) == 1
