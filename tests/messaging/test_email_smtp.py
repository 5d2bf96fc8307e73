"""Email through SMTP, against a real SMTP server on loopback (aiosmtpd): what every email
carries (List-Unsubscribe with a mailto and a one-click link, RFC 8058's List-Unsubscribe-Post,
a VERP Return-Path naming the message) and how the server's answers map onto the errors."""

from __future__ import annotations

import email
import socket
from email.policy import default

import pytest
import time_machine
from aiosmtpd.controller import Controller

from compliance import gate
from compliance.channels import OutboundMessage
from debtors.models import ContactPoint
from messaging.channels.base import PermanentError, TransientError
from messaging.channels.email import EmailBackend
from messaging.inbound_mail import verp_key
from messaging.unsubscribe import address_of
from tests.reminders.conftest import SHANGHAI, at, reachable_debtor

NOW = at(SHANGHAI, 2030, 3, 5, 10, 0)


class Recorder:
    """Keeps every message the server accepts; refuses recipients listed in ``refuse``."""

    def __init__(self):
        self.envelopes = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    recorder = Recorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "collections@lender.example"
    settings.EMAIL_BOUNCE_DOMAIN = "mail.lender.example"
    settings.WEBHOOK_BASE_URL = "https://collect.lender.example"
    yield recorder
    controller.stop()


def _send(debtor, body="Your payment is due."):
    point = debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL)
    with time_machine.travel(NOW, tick=False):
        permit = gate.request(debtor=debtor, channel="email", actor="t", contact_point=point)
    message = OutboundMessage(
        debtor_id=debtor.pk,
        to=point.value,
        subject="Payment reminder",
        body=body,
        metadata={"idempotency_key": f"desk-{permit.attempt_id}"},
    )
    return point, permit, EmailBackend().send(permit.token, message)


def test_every_email_carries_unsubscribe_headers_and_a_verp_return_path(smtp, db):
    with time_machine.travel(NOW, tick=False):
        debtor = reachable_debtor()
    point, permit, result = _send(debtor)
    [envelope] = smtp.envelopes
    key = f"desk-{permit.attempt_id}"
    # The envelope sender (what the receiving MTA writes as Return-Path) names the message.
    assert verp_key(envelope.mail_from) == key
    assert envelope.mail_from.endswith("@mail.lender.example")
    assert envelope.rcpt_tos == [point.value]
    sent = email.message_from_bytes(envelope.content, policy=default)
    assert sent["From"] == "collections@lender.example"
    assert verp_key(sent["Return-Path"]) == key
    assert sent["Message-ID"] == result.provider_ref
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = [part.strip().strip("<>") for part in sent["List-Unsubscribe"].split(",")]
    mailto, https = links
    assert mailto.startswith("mailto:unsubscribe+") and "@mail.lender.example" in mailto
    assert https.startswith("https://collect.lender.example/u/")
    assert address_of(https.rstrip("/").rsplit("/", 1)[1]) == point.value


def test_a_refused_recipient_is_a_permanent_error(smtp, db):
    with time_machine.travel(NOW, tick=False):
        debtor = reachable_debtor()
    smtp.refuse.add(debtor.contact_points.get(kind=ContactPoint.Kind.EMAIL).value)
    with pytest.raises(PermanentError):
        _send(debtor)
    assert smtp.envelopes == []


def test_a_server_that_is_down_is_a_transient_error(smtp, settings, db):
    with time_machine.travel(NOW, tick=False):
        debtor = reachable_debtor()
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    with pytest.raises(TransientError):
        _send(debtor)
