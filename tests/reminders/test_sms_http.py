"""The HTTP SMS adapter against a small fake provider on a loopback port."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from reminders import dispatcher, planner
from reminders.models import Reminder

from .conftest import SHANGHAI, at, loan_due_on, reachable_debtor

DUE = dt.date(2030, 3, 5)
NOW = at(SHANGHAI, 2030, 3, 5, 10, 0)


class FakeProvider:
    """Keeps one message per idempotency key; ``mode`` says how the next POSTs answer."""

    def __init__(self):
        self.messages: dict[str, dict] = {}
        self.posts = 0
        self.mode = "ok"
        self.headers: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                provider.posts += 1
                provider.headers.append(dict(self.headers))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if provider.mode in ("503", "400"):
                    return self._answer(int(provider.mode), {"error": provider.mode})
                key = body["idempotency_key"]
                stored = provider.messages.setdefault(
                    key, {"id": f"gw-{len(provider.messages) + 1}", "status": "accepted", **body}
                )
                if provider.mode == "slow":
                    time.sleep(1.0)  # the message is taken, the answer comes too late
                return self._answer(201, {"id": stored["id"]})

            def do_GET(self):
                key = parse_qs(urlsplit(self.path).query).get("idempotency_key", [""])[0]
                stored = provider.messages.get(key)
                if stored is None:
                    return self._answer(404, {"error": "not found"})
                return self._answer(200, {"id": stored["id"], "status": stored["status"]})

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the client gave up on a slow answer: expected in these tests

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def provider(settings, outbox):
    fake = FakeProvider()
    fake.thread.start()
    settings.SMS_PROVIDER_URL = fake.url
    settings.SMS_PROVIDER_TOKEN = "token-123"
    settings.SMS_PROVIDER_TIMEOUT_SECONDS = 0.3
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "messaging.channels.sms.HttpSmsBackend"}
    yield fake
    fake.server.shutdown()


@pytest.fixture
def due_sms(db, provider):
    loan_due_on(reachable_debtor(), DUE)
    planner.plan(now=NOW)
    Reminder.objects.exclude(channel="sms", scheduled_for=DUE).delete()
    return Reminder.objects.get()


def test_a_message_is_posted_with_its_key(provider, due_sms):
    assert dispatcher.dispatch(now=NOW) == {"sent": 1}
    due_sms.refresh_from_db()
    stored = provider.messages[due_sms.idempotency_key]
    assert due_sms.provider_ref == stored["id"] == "gw-1"
    assert stored["to"] == due_sms.debtor.contact_points.get(kind="mobile").value
    assert provider.headers[0]["Authorization"] == "Bearer token-123"


@pytest.mark.parametrize("mode, status", [("503", "planned"), ("400", "failed")])
def test_provider_errors(provider, due_sms, mode, status):
    provider.mode = mode
    dispatcher.dispatch(now=NOW)
    due_sms.refresh_from_db()
    assert due_sms.status == status
    assert provider.messages == {}


def test_a_late_answer_is_settled_by_the_status_query(provider, due_sms):
    provider.mode = "slow"
    assert dispatcher.dispatch(now=NOW) == {"sent": 1}
    due_sms.refresh_from_db()
    assert (due_sms.status, due_sms.provider_ref) == ("sent", "gw-1")
    assert provider.posts == 1 and len(provider.messages) == 1
