"""Replies for the collector: the Replies list with its unread count, read when the case's
collector opens the case; replies, delivery and read on the timeline; lost contact; the
debtor's in-app inbox."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from compliance import gate
from compliance.channels import OutboundMessage
from debtors.models import ContactPoint
from messaging import inbound
from messaging.channels.inbox import InboxBackend
from messaging.models import ReceivedMessage, SentMessage
from tests.factories import make_contact_point
from tests.workspace.conftest import DAYTIME
from tests.workspace.test_chinese_pages import BIRTH, on_portal

pytestmark = pytest.mark.django_db


def _reply(number: str, text: str, sid: str):
    return inbound.sms_received(inbound.Sms("twilio", sid, number, "+15005550006", text))


def test_a_reply_reaches_its_collector_and_no_one_else(
    client, collector, other_collector, work, phone, others_case
):
    _reply(phone.value, "我周五还款", "SM" + "1" * 32)
    client.force_login(collector)
    page = client.get(reverse("replies"))
    assert "我周五还款" in page.content.decode()
    assert 'id="unread-replies"' in page.content.decode()
    other = Client()
    other.force_login(other_collector)
    page = other.get(reverse("replies"))
    assert "我周五还款" not in page.content.decode()
    assert 'id="unread-replies"' not in page.content.decode()


def test_opening_the_case_reads_its_replies_for_its_collector_only(
    client, collector, supervisor, work, phone
):
    _reply(phone.value, "Please call me after six", "SM" + "2" * 32)
    boss = Client()
    boss.force_login(supervisor)
    boss.get(reverse("case-detail", args=[work.pk]))
    assert ReceivedMessage.objects.get().read_at is None
    client.force_login(collector)
    page = client.get(reverse("case-detail", args=[work.pk])).content.decode()
    reply = ReceivedMessage.objects.get()
    assert reply.read_at is not None and reply.read_by == collector
    # The timeline shows what was written, as an inbound SMS.
    assert "Please call me after six" in page
    assert 'id="unread-replies"' not in client.get(reverse("home")).content.decode()


def test_lost_contact_shows_when_every_phone_and_email_is_invalid(client, collector, work, phone):
    email = make_contact_point(work.debtor, kind=ContactPoint.Kind.EMAIL, value="d@example.com")
    client.force_login(collector)
    url = reverse("case-detail", args=[work.pk])
    assert 'id="lost-contact"' not in client.get(url).content.decode()
    ContactPoint.objects.filter(pk__in=[phone.pk, email.pk]).update(status="invalid")
    assert 'id="lost-contact"' in client.get(url).content.decode()


def test_the_inbox_shows_messages_newest_first_and_opening_one_reads_it(
    client, collector, work, loan, settings
):
    debtor = work.debtor
    debtor.date_of_birth = BIRTH
    debtor.save(update_fields=["date_of_birth"])
    point = make_contact_point(debtor, kind=ContactPoint.Kind.IN_APP, value="app-1")
    with time_machine.travel(DAYTIME, tick=False):
        permit = gate.request(debtor=debtor, channel="in_app", actor="t", contact_point=point)
        result = InboxBackend().send(
            permit.token,
            OutboundMessage(
                debtor_id=debtor.pk,
                to=point.value,
                subject="Payment reminder",
                body="Your payment is due.",
                metadata={"idempotency_key": "desk-inbox-1"},
            ),
        )
    SentMessage.objects.create(
        attempt=result.attempt,
        debtor=debtor,
        channel="in_app",
        subject="Payment reminder",
        body="Your payment is due.",
        provider="inbox",
        idempotency_key="desk-inbox-1",
    )
    result.attempt.outcome = "sent"
    result.attempt.save(update_fields=["outcome"])
    portal = on_portal(debtor, loan)
    listing = portal.get(reverse("portal:inbox")).content.decode()
    assert "Payment reminder" in listing
    message = debtor.inbox_messages.get()
    client.force_login(collector)
    case_url = reverse("case-detail", args=[work.pk])
    assert "Delivered to the inbox" in client.get(case_url).content.decode()
    opened = portal.get(reverse("portal:inbox-message", args=[message.pk]))
    assert opened.status_code == 200 and "Your payment is due." in opened.content.decode()
    message.refresh_from_db()
    assert message.read_at is not None
    assert "Delivered and read" in client.get(case_url).content.decode()
    # Another debtor's message is out of reach.
    assert portal.get(reverse("portal:inbox-message", args=[message.pk + 999])).status_code == 404
