"""What comes back: Twilio and Alibaba Cloud webhooks (replies, keywords, delivery reports),
email bounces and complaints, one-click unsubscribe, and what the gate makes of each."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from compliance import gate
from compliance.engine import OPT_OUT_CONFIRMATION
from compliance.models import ContactAttempt
from debtors.models import ChannelConsent, ConsentEvent, ContactPoint
from messaging import tasks
from messaging.inbound import OPT_IN_WORDS, OPT_OUT_WORDS
from messaging.models import InboundMessage, ReceivedMessage, SentMessage
from messaging.unsubscribe import bounce_address, token
from tests.factories import make_contact_point
from tests.messaging.standins import twilio as twilio_standin
from tests.reminders.conftest import SHANGHAI, at, reachable_debtor

TOKEN = "twilio-test-token"  # noqa: S105 - a test secret
PUSH = "aliyun-push-token"  # noqa: S105
MAIL = "mail-token"  # noqa: S105
NOW = at(SHANGHAI, 2030, 3, 5, 10, 0)
SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def channels(settings, tmp_path, db):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.ALIYUN_SMS_PUSH_TOKEN = PUSH
    settings.EMAIL_INBOUND_TOKEN = MAIL
    settings.WEBHOOK_BASE_URL = ""
    settings.REMINDER_OUTBOX_DIR = tmp_path / "outbox"
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "messaging.channels.sms.FileSmsBackend"}
    with time_machine.travel(NOW, tick=False):
        yield


def _twilio(client, path, params, *, token=TOKEN):
    url = f"http://testserver{path}"
    signature = twilio_standin.signature(token, url, params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature})


def _sms(client, sender, body, sid="SM" + "1" * 32):
    return _twilio(
        client,
        "/webhooks/twilio/sms/",
        {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body},
    )


def _sms_allowed(debtor, point) -> gate.Decision:
    return gate.check(debtor=debtor, channel="sms", contact_point=point, at=timezone.now())


def _mobile(debtor) -> ContactPoint:
    return debtor.contact_points.get(kind=ContactPoint.Kind.MOBILE)


# --- Keywords ---------------------------------------------------------------------------------


@pytest.mark.parametrize("word", sorted(OPT_OUT_WORDS))
def test_every_opt_out_keyword_stops_sms_to_that_number_only(client, word):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    sharing = reachable_debtor(phone=point.value)  # another debtor with the same number
    other = reachable_debtor()
    assert _sms_allowed(debtor, point).allowed

    answer = _sms(client, point.value, f"  {word.lower()} ")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    for who in (debtor, sharing):
        decision = _sms_allowed(who, _mobile(who))
        assert not decision.allowed and "channel_opt_out" in decision.reasons
        # Calls are not affected.
        call = gate.check(debtor=who, channel="call", contact_point=_mobile(who), at=NOW)
        assert "channel_opt_out" not in call.reasons
    assert _sms_allowed(other, _mobile(other)).allowed
    event = ConsentEvent.objects.filter(consent__contact_point=point).get()
    assert event.kind == "opted_out" and word.lower() in event.evidence and "twilio" in event.source
    # One confirmation went out, and nothing more is allowed after it.
    [confirmation] = SentMessage.objects.filter(idempotency_key__startswith="answer-")
    assert "no more text messages" in confirmation.body and confirmation.to == point.value
    # Twilio sends it: it is the TwiML's message.
    assert f"<Message>{confirmation.body}</Message>" in answer.content.decode()
    assert not _sms_allowed(debtor, point).allowed


def test_a_message_that_only_contains_a_keyword_is_a_reply(client):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    _sms(client, point.value, "stop calling me at work")
    assert _sms_allowed(debtor, point).allowed
    reply = ReceivedMessage.objects.get(debtor=debtor)
    attempt = reply.attempt
    assert (attempt.channel, attempt.direction, attempt.outcome) == ("sms", "inbound", "received")
    assert reply.body == "stop calling me at work" and reply.read_at is None


@pytest.mark.parametrize("word", sorted(OPT_IN_WORDS))
def test_start_opts_back_in(client, word):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    _sms(client, point.value, "STOP", sid="SM" + "a" * 32)
    assert not _sms_allowed(debtor, point).allowed
    _sms(client, point.value, word, sid="SM" + "b" * 32)
    assert _sms_allowed(debtor, point).allowed
    kinds = list(
        ConsentEvent.objects.filter(consent__contact_point=point)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["opted_out", "opted_in"]


def test_help_gets_the_help_text_and_changes_nothing(client, settings):
    settings.SMS_HELP_TEXT = "Example Lending: call 400-000-0000. Reply STOP to opt out."
    debtor = reachable_debtor()
    response = _sms(client, _mobile(debtor).value, "help")
    [answer] = SentMessage.objects.filter(idempotency_key__startswith="answer-")
    assert answer.body == settings.SMS_HELP_TEXT
    assert "call 400-000-0000" in response.content.decode()
    assert _sms_allowed(debtor, _mobile(debtor)).allowed


def test_chinese_keywords_through_alibaba_cloud(client):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    for n, word in enumerate(("退订", "TD", "t")):
        ChannelConsent.objects.filter(contact_point=point).update(opted_out_at=None)
        payload = [
            {
                "phone_number": point.value.removeprefix("+86"),
                "send_time": "2030-03-05 10:00:00",
                "content": word,
                "sign_name": "示例",
                "dest_code": "1234",
                "sequence_id": 1000 + n,
            }
        ]
        answer = client.post(
            f"/webhooks/aliyun/sms-up/?token={PUSH}", json.dumps(payload), "application/json"
        )
        assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "成功"}
        assert not _sms_allowed(debtor, point).allowed


def _aliyun_up(client, number, word, sequence):
    payload = [
        {
            "phone_number": number.removeprefix("+86"),
            "send_time": "2030-03-05 10:00:00",
            "content": word,
            "sign_name": "示例",
            "dest_code": "1234",
            "sequence_id": sequence,
        }
    ]
    return client.post(
        f"/webhooks/aliyun/sms-up/?token={PUSH}", json.dumps(payload), "application/json"
    )


def test_an_alibaba_keyword_is_answered_by_a_worker_after_the_webhook_answered(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    debtor = reachable_debtor(language="zh-hans")
    point = _mobile(debtor)
    queued: list[int] = []
    monkeypatch.setattr(tasks.answer_keyword, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        answer = _aliyun_up(client, point.value, "退订", 2000)

    # The webhook answered with the change made and the answer queued, nothing sent yet.
    assert answer.json() == {"code": 0, "msg": "成功"}
    assert not _sms_allowed(debtor, point).allowed
    inbound = InboundMessage.objects.get(provider="aliyun", provider_ref="2000")
    assert queued == [inbound.pk] and inbound.answered_at is None
    assert "不再" in inbound.answer
    assert not SentMessage.objects.exists()

    # The worker's task sends it once; a repeated task finds it taken.
    assert tasks.answer_keyword.apply(args=(inbound.pk,)).get() == 1
    assert tasks.answer_keyword.apply(args=(inbound.pk,)).get() == 0
    [confirmation] = SentMessage.objects.all()
    assert (confirmation.body, confirmation.to) == (inbound.answer, point.value)
    inbound.refresh_from_db()
    assert inbound.answered_at is not None


def test_a_reply_has_no_answer_to_queue(client, monkeypatch, django_capture_on_commit_callbacks):
    debtor = reachable_debtor()
    queued: list[int] = []
    monkeypatch.setattr(tasks.answer_keyword, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        _aliyun_up(client, _mobile(debtor).value, "明天还款", 2001)
    assert queued == []
    assert tasks.answer_keyword.apply(args=(InboundMessage.objects.get().pk,)).get() == 0


def test_forged_or_missing_signatures_change_nothing(client):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    forged = _twilio(
        client,
        "/webhooks/twilio/sms/",
        {"MessageSid": "SM" + "2" * 32, "From": point.value, "Body": "STOP"},
        token="guess",
    )
    assert forged.status_code == 403
    missing = client.post("/webhooks/twilio/sms/", {"MessageSid": "SM1", "From": point.value})
    assert missing.status_code == 403
    bad = client.post("/webhooks/aliyun/sms-up/?token=guess", "[]", "application/json")
    assert bad.status_code == 403
    assert client.post("/webhooks/aliyun/sms-report/", "[]", "application/json").status_code == 403
    assert not InboundMessage.objects.exists()
    assert _sms_allowed(debtor, point).allowed


def test_the_same_message_posted_twice_acts_once(client):
    debtor = reachable_debtor()
    for _ in range(2):
        assert _sms(client, _mobile(debtor).value, "Can I pay on Friday?").status_code == 200
    assert ReceivedMessage.objects.filter(debtor=debtor).count() == 1


def test_a_reply_from_an_unknown_number_is_kept_and_acts_on_nothing(client):
    assert _sms(client, "+8613999999999", "STOP").status_code == 200
    inbound = InboundMessage.objects.get()
    assert (
        inbound.kind == "opt_out"
        and not ChannelConsent.objects.filter(opted_out_at__isnull=False).exists()
    )


def test_a_reply_never_counts_toward_an_outbound_limit(client):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    before = _sms_allowed(debtor, point)
    for n in range(12):
        _sms(client, point.value, f"message {n}", sid=f"SM{n:032d}")
    after = _sms_allowed(debtor, point)
    assert before.allowed and after.allowed
    assert ContactAttempt.objects.filter(debtor=debtor, direction="inbound").count() == 12


# --- The opt-out confirmation in the gate ------------------------------------------------------


def test_the_gate_allows_one_confirmation_after_an_opt_out_and_nothing_else(client):
    debtor = reachable_debtor()
    point = _mobile(debtor)
    ChannelConsent.objects.create(
        debtor=debtor, contact_point=point, channel="sms", opted_out_at=timezone.now()
    )
    with pytest.raises(gate.ContactBlocked):
        gate.request(debtor=debtor, channel="sms", actor="t", contact_point=point)
    permit = gate.request(
        debtor=debtor, channel="sms", actor="t", contact_point=point, purpose=OPT_OUT_CONFIRMATION
    )
    assert permit.token
    with pytest.raises(gate.ContactBlocked) as second:
        gate.request(
            debtor=debtor,
            channel="sms",
            actor="t",
            contact_point=point,
            purpose=OPT_OUT_CONFIRMATION,
        )
    assert second.value.decision.reasons == ["channel_opt_out"]
    # Nor to a point that never opted out.
    other = make_contact_point(debtor, value="+8613700000001")
    with pytest.raises(gate.ContactBlocked):
        gate.request(
            debtor=debtor,
            channel="sms",
            actor="t",
            contact_point=other,
            purpose=OPT_OUT_CONFIRMATION,
        )


# --- Delivery reports -------------------------------------------------------------------------


def _sent(debtor, *, provider, ref, key):
    point = _mobile(debtor)
    permit = gate.request(debtor=debtor, channel="sms", actor="t", contact_point=point)
    ContactAttempt.objects.filter(pk=permit.attempt_id).update(outcome="sent")
    return SentMessage.objects.create(
        attempt_id=permit.attempt_id,
        debtor=debtor,
        channel="sms",
        body="Your payment is due.",
        to=point.value,
        provider=provider,
        provider_ref=ref,
        idempotency_key=key,
    )


def _status(client, sid, status, code=""):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if code:
        params["ErrorCode"] = code
    return _twilio(client, "/webhooks/twilio/status/", params)


def test_a_twilio_status_callback_updates_a_collectors_message(client):
    debtor = reachable_debtor()
    sent = _sent(debtor, provider="twilio", ref="SM" + "c" * 32, key="desk-1")
    assert _status(client, sent.provider_ref, "delivered").status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"
    assert ContactAttempt.objects.get(pk=sent.attempt_id).outcome == "delivered"
    # An unknown message id changes nothing and is no error.
    assert _status(client, "SM" + "d" * 32, "failed").status_code == 200


def test_three_permanent_failures_in_a_row_mark_the_number_invalid(client, settings):
    settings.SMS_INVALID_AFTER_FAILURES = 3
    debtor = reachable_debtor()
    point = _mobile(debtor)
    for n in range(3):
        sent = _sent(debtor, provider="twilio", ref=f"SM{n:032d}", key=f"desk-{n}")
        _status(client, sent.provider_ref, "undelivered", "30005" if n else "30003")
    point.refresh_from_db()
    assert point.status == "valid"  # the first failure was not a permanent one
    # A temporary failure, then two permanent ones: not yet three in a row.
    sent = _sent(debtor, provider="twilio", ref="SM" + "e" * 32, key="desk-9")
    _status(client, sent.provider_ref, "failed", "21211")
    assert ContactPoint.objects.get(pk=point.pk).status == "invalid"
    decision = _sms_allowed(debtor, point)
    assert "invalid_contact_point" in decision.reasons


def test_an_alibaba_report_finds_the_message_by_out_id(client):
    debtor = reachable_debtor()
    sent = _sent(debtor, provider="aliyun", ref="9876^0", key="reminder-77")
    payload = [
        {
            "phone_number": sent.to.removeprefix("+86"),
            "send_time": "2030-03-05 10:00:00",
            "report_time": "2030-03-05 10:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": "other",
            "out_id": "reminder-77",
        },
        {"phone_number": "13800000000", "success": False, "biz_id": "x", "out_id": "nobody"},
    ]
    answer = client.post(
        f"/webhooks/aliyun/sms-report/?token={PUSH}", json.dumps(payload), "application/json"
    )
    assert answer.status_code == 200 and answer.json()["code"] == 0
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"
    bad = client.post(f"/webhooks/aliyun/sms-report/?token={PUSH}", "{not json", "application/json")
    assert bad.status_code == 400


# --- Email ----------------------------------------------------------------------------------


def _mail(client, raw: bytes, token=MAIL):
    return client.post(
        "/webhooks/email/inbound/", raw, "message/rfc822", headers={"X-Webhook-Token": token}
    )


def _email_sent(debtor, key):
    point = debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL)
    permit = gate.request(debtor=debtor, channel="email", actor="t", contact_point=point)
    ContactAttempt.objects.filter(pk=permit.attempt_id).update(outcome="sent")
    return point, SentMessage.objects.create(
        attempt_id=permit.attempt_id,
        debtor=debtor,
        channel="email",
        subject="Reminder",
        body="Your payment is due.",
        to=point.value,
        provider="smtp",
        idempotency_key=key,
    )


def _bounce(to_address: str, status: str, final: str) -> bytes:
    return (
        f"From: MAILER-DAEMON@mx.example.net\r\nTo: {to_address}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {final}\r\nAction: {'failed' if status[0] == '5' else 'delayed'}\r\n"
        f"Status: {status}\r\nDiagnostic-Code: smtp; {status} mailbox\r\n\r\n"
        "--B--\r\n"
    ).encode()


def test_a_permanent_bounce_marks_the_address_invalid(client):
    debtor = reachable_debtor()
    point, sent = _email_sent(debtor, "reminder-5")
    answer = _mail(client, _bounce(bounce_address("reminder-5"), "5.1.1", "someone@else.example"))
    assert answer.status_code == 200 and answer.json()["kind"] == "bounce"
    point.refresh_from_db()
    assert point.status == "invalid"
    sent.refresh_from_db()
    assert sent.delivery_status == "failed" and sent.delivery_permanent
    assert ContactAttempt.objects.get(pk=sent.attempt_id).outcome == "bounced"
    decision = gate.check(debtor=debtor, channel="email", contact_point=point, at=NOW)
    assert "invalid_contact_point" in decision.reasons


def test_a_temporary_bounce_is_recorded_only(client):
    debtor = reachable_debtor()
    point, _sent_message = _email_sent(debtor, "reminder-6")
    answer = _mail(client, _bounce(bounce_address("reminder-6"), "4.4.1", point.value))
    assert answer.json()["kind"] == "delay"
    point.refresh_from_db()
    assert point.status == "valid"


def test_a_bounce_naming_no_message_acts_on_its_final_recipient(client):
    debtor = reachable_debtor()
    point = debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL)
    _mail(client, _bounce("postmaster@example.com", "5.1.1", point.value.upper()))
    point.refresh_from_db()
    assert point.status == "invalid"


def test_an_abuse_report_opts_the_address_out_of_email(client):
    debtor = reachable_debtor()
    point = debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL)
    raw = (SAMPLES / "arf_abuse_report.eml").read_bytes()
    point.value = _complaint_address(raw)
    point.save()
    assert _mail(client, raw).json()["kind"] == "complaint"
    decision = gate.check(debtor=debtor, channel="email", contact_point=point, at=NOW)
    assert "channel_opt_out" in decision.reasons


def _complaint_address(raw: bytes) -> str:
    from messaging.inbound_mail import parse

    return parse(raw).complaint_address


def test_the_email_webhook_needs_its_token_and_the_command_reads_files(client, tmp_path):
    debtor = reachable_debtor()
    point = debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL)
    raw = _bounce("postmaster@example.com", "5.1.1", point.value)
    assert _mail(client, raw, token="guess").status_code == 403
    assert _mail(client, raw, token="").status_code == 403
    point.refresh_from_db()
    assert point.status == "valid"
    path = tmp_path / "bounce.eml"
    path.write_bytes(raw)
    call_command("ingest_mail", str(path))
    point.refresh_from_db()
    assert point.status == "invalid"


def test_one_click_unsubscribe(client):
    debtor = reachable_debtor(language="zh-hans")
    point = debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL)
    url = f"/u/{token(point.value)}/"
    page = client.get(url)
    assert page.status_code == 200 and "退订" in page.content.decode()
    assert gate.check(debtor=debtor, channel="email", contact_point=point, at=NOW).allowed
    for _ in range(2):
        answer = client.post(url, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
        assert answer.status_code == 200
    decision = gate.check(debtor=debtor, channel="email", contact_point=point, at=NOW)
    assert "channel_opt_out" in decision.reasons
    assert ConsentEvent.objects.filter(consent__contact_point=point).count() == 1
    assert (
        client.post(
            url[:-3] + "xx/", "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
        ).status_code
        == 404
    )
    assert (
        client.post(url, "something=else", "application/x-www-form-urlencoded").status_code == 400
    )


def test_a_consent_past_its_expiry_no_longer_counts(db):
    debtor = reachable_debtor(country="US", tz="America/New_York")
    point = _mobile(debtor)
    morning = dt.datetime(2030, 3, 5, 11, 0, tzinfo=dt.UTC).astimezone(dt.UTC) + dt.timedelta(
        hours=4
    )
    assert gate.check(debtor=debtor, channel="sms", contact_point=point, at=morning).allowed
    ChannelConsent.objects.filter(debtor=debtor, channel="sms").update(
        expires_at=morning - dt.timedelta(minutes=1)
    )
    decision = gate.check(debtor=debtor, channel="sms", contact_point=point, at=morning)
    assert "no_consent" in decision.reasons


# --- A reply racing a send: the opt-out wins ---------------------------------------------------


def test_a_permit_granted_before_the_stop_can_no_longer_be_spent(client):
    from compliance.channels import OutboundMessage
    from messaging.channels.sms import FileSmsBackend

    debtor = reachable_debtor()
    point = _mobile(debtor)
    # A reminder's permit, granted just before the debtor's STOP arrives...
    permit = gate.request(debtor=debtor, channel="sms", actor="t", contact_point=point)
    _sms(client, point.value, "STOP")
    # ...is void once the STOP is stored: the sender's hand-over is refused, nothing leaves.
    with pytest.raises(gate.InvalidPermit):
        FileSmsBackend().send(
            permit.token,
            OutboundMessage(
                debtor_id=debtor.pk,
                to=point.value,
                body="Your payment is due.",
                metadata={"idempotency_key": "reminder-race"},
            ),
        )
    assert not SentMessage.objects.filter(idempotency_key="reminder-race").exists()


def test_behind_a_proxy_the_signature_covers_the_public_url(client, settings):
    settings.WEBHOOK_BASE_URL = "https://collect.example.com"
    debtor = reachable_debtor()
    params = {"MessageSid": "SM" + "7" * 32, "From": _mobile(debtor).value, "Body": "hello"}
    public = "https://collect.example.com/webhooks/twilio/sms/"
    signed = twilio_standin.signature(TOKEN, public, params)
    assert (
        client.post("/webhooks/twilio/sms/", params, headers={"X-Twilio-Signature": signed})
    ).status_code == 200
    # Signed for the address Django sees instead: not what Twilio requested.
    assert _twilio(client, "/webhooks/twilio/sms/", params).status_code == 403
