"""Today's run for supervisors, template previews for admins, signed SMS delivery reports."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from compliance.models import ContactAttempt
from debtors.services import debtor_set_holds
from messaging.channels.sms import callback_signature
from messaging.models import MessageTemplate
from reminders import dispatcher, planner, selectors
from reminders.models import Reminder

from .conftest import SHANGHAI, at, loan_due_on, reachable_debtor

DUE = dt.date(2030, 3, 5)


@pytest.fixture
def day_run(db, outbox):
    now = at(SHANGHAI, 2030, 3, 2, 10, 0)
    loan_due_on(reachable_debtor(), DUE)
    held = reachable_debtor()
    loan_due_on(held, DUE)
    debtor_set_holds(actor="tests", debtor=held, changes={"cease_communication": True})
    planner.plan(now=now)
    dispatcher.dispatch(now=now)
    return now


def test_supervisors_see_todays_run_by_stage_and_channel(client, supervisor, day_run):
    client.force_login(supervisor)
    page = client.get("/reminders/today/", {"day": "2030-03-02"})
    assert page.status_code == 200
    summary = page.context["summary"]
    assert summary.totals["sent"] == 2 and summary.totals["closed"] == 2
    assert [(code, n) for code, _label, n in summary.blocked] == [("cease_communication", 2)]
    assert {(r.channel, r.counts["sent"], r.counts["closed"]) for r in summary.rows} == {
        ("email", 1, 1),
        ("in_app", 1, 1),
    }
    html = page.content.decode()
    assert "Friendly reminder (email)" in html and "asked to cease communication" in html


def test_failures_are_listed_with_their_error(client, supervisor, db, outbox):
    loan_due_on(reachable_debtor(), DUE)
    MessageTemplate.objects.filter(key="friendly_reminder", channel="email").update(
        body="{{ bad }} {{ opt_out_text }}"
    )
    now = at(SHANGHAI, 2030, 3, 2, 10, 0)
    planner.plan(now=now)
    dispatcher.dispatch(now=now)
    client.force_login(supervisor)
    page = client.get("/reminders/today/", {"day": "2030-03-02"})
    assert [r.reason for r in page.context["summary"].problems] == ["template_error"]
    assert "Unknown variable" in page.content.decode()


def test_collectors_may_not_see_the_run(client, collector, db):
    client.force_login(collector)
    assert client.get("/reminders/today/").status_code == 403


def test_the_page_needs_a_login(client, db):
    assert client.get("/reminders/today/").status_code == 302


def test_admins_preview_a_template_with_a_sample_or_a_real_debtor(client, admin_user, day_run):
    template = MessageTemplate.objects.get(key="due_today", channel="sms", language="zh-hans")
    client.force_login(admin_user)
    page = client.get(f"/reminders/templates/{template.pk}/preview/")
    assert page.status_code == 200
    assert "¥123,456.78" in page.context["rendered"].body
    assert page.context["rendered"].sms.encoding == "UCS-2"
    debtor = Reminder.objects.first().debtor
    page = client.get(f"/reminders/templates/{template.pk}/preview/", {"debtor": debtor.pk})
    assert "¥100.00" in page.context["rendered"].body


def test_collectors_may_not_preview(client, collector, db):
    template = MessageTemplate.objects.first()
    client.force_login(collector)
    assert client.get(f"/reminders/templates/{template.pk}/preview/").status_code == 403


def _post_report(client, payload, secret="s3cret"):  # noqa: S107 - a test secret
    body = json.dumps(payload).encode()
    return client.post(
        "/reminders/sms/delivery/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": callback_signature(body, secret)},
    )


def test_a_signed_delivery_report_updates_the_attempt(client, settings, db, outbox):
    settings.SMS_CALLBACK_SECRET = "s3cret"
    loan_due_on(reachable_debtor(), DUE)
    now = at(SHANGHAI, 2030, 3, 5, 10, 0)
    planner.plan(now=now)
    Reminder.objects.exclude(channel="sms", scheduled_for=DUE).delete()
    dispatcher.dispatch(now=now)
    sms = Reminder.objects.get()
    answer = _post_report(client, {"idempotency_key": sms.idempotency_key, "status": "delivered"})
    assert answer.status_code == 200 and answer.json() == {"updated": True}
    assert ContactAttempt.objects.get(pk=sms.contact_attempt_id).outcome == "delivered"
    # The reminders' view counts the sent reminders by their delivery report.
    assert selectors.run_summary(day=DUE, now=now).deliveries == [("sms", "delivered", 1)]
    # A forged report changes nothing.
    forged = _post_report(
        client, {"idempotency_key": sms.idempotency_key, "status": "failed"}, secret="guess"
    )
    assert forged.status_code == 403
    assert ContactAttempt.objects.get(pk=sms.contact_attempt_id).outcome == "delivered"
    # A report for a message we never sent changes nothing; an unknown status is refused.
    unknown = _post_report(client, {"idempotency_key": "reminder-0", "status": "delivered"})
    assert unknown.status_code == 200 and unknown.json() == {"updated": False}
    assert (
        _post_report(client, {"idempotency_key": sms.idempotency_key, "status": "x"}).status_code
        == 400
    )


def test_supervisors_start_a_dispatcher_pass(
    client, supervisor, collector, db, monkeypatch, django_capture_on_commit_callbacks
):
    from reminders import tasks

    started = []
    monkeypatch.setattr(tasks.dispatch_reminders, "delay", lambda: started.append(1))
    client.force_login(collector)
    assert client.post("/reminders/dispatch/").status_code == 403
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/reminders/dispatch/")
    assert answer.status_code == 302 and started == [1]
