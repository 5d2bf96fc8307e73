"""No path reaches a channel backend's transport without a permit.

Statically: no module but ``compliance/channels.py`` calls (or names) a transport method.
At run time: ``send`` spends a permit before ``_deliver`` runs, and may not be overridden.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

from compliance import gate
from compliance.channels import TRANSPORT_METHODS, ChannelBackend, OutboundMessage
from compliance.models import ContactAttempt
from tests.factories import make_debtor

from .conftest import set_rules

ROOT = Path(settings.BASE_DIR)
ALLOWED = {Path("compliance/channels.py")}
SKIP_DIRS = {".venv", "node_modules", "migrations", "__pycache__", ".git", "var", "staticfiles"}


def _project_files():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIP_DIRS.intersection(relative.parts):
            continue
        yield relative


def _transport_uses(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in TRANSPORT_METHODS:
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and node.value in TRANSPORT_METHODS:
            lines.append(node.lineno)  # getattr(backend, "_deliver")
    return lines


def test_no_module_but_the_base_reaches_a_transport():
    offenders = []
    for relative in _project_files():
        if relative in ALLOWED or relative == Path(__file__).relative_to(ROOT):
            continue
        source = (ROOT / relative).read_text(encoding="utf-8")
        offenders.extend(f"{relative}:{line}" for line in _transport_uses(source))
    assert offenders == [], f"transport called outside compliance/channels.py: {offenders}"


def test_the_scan_finds_a_direct_call():
    assert _transport_uses("backend._deliver(attempt, message)") == [1]
    assert _transport_uses("getattr(backend, '_deliver')(a, m)") == [1]


class RecordingBackend(ChannelBackend):
    channel = "call"

    def __init__(self):
        self.delivered = []

    def _deliver(self, attempt, message):
        self.delivered.append((attempt.pk, message.body))
        return f"ref-{attempt.pk}"


def test_a_backend_may_not_override_send():
    with pytest.raises(TypeError, match="send"):

        class Sneaky(ChannelBackend):
            def send(self, permit_token, message):
                return self._deliver(None, message)


@pytest.fixture
def open_debtor(db):
    set_rules("default", {"call": {}})  # any time, no limit: the real clock is used below
    return make_debtor(country="GB", timezone="Europe/London")


def test_send_without_a_valid_permit_raises_and_delivers_nothing(open_debtor):
    backend = RecordingBackend()
    message = OutboundMessage(debtor_id=open_debtor.pk, to="+447700900123", body="hello")
    for token in ("", "made-up"):
        with pytest.raises(gate.InvalidPermit):
            backend.send(token, message)
    assert backend.delivered == []


def test_send_with_a_permit_delivers_once(open_debtor):
    backend = RecordingBackend()
    permit = gate.request(debtor=open_debtor, channel="call", actor="tests")
    message = OutboundMessage(debtor_id=open_debtor.pk, to="+447700900123", body="hello")
    result = backend.send(permit.token, message)
    assert (
        result.attempt.pk == permit.attempt_id and result.provider_ref == f"ref-{permit.attempt_id}"
    )
    assert backend.delivered == [(permit.attempt_id, "hello")]
    with pytest.raises(gate.InvalidPermit):
        backend.send(permit.token, message)
    assert len(backend.delivered) == 1
    assert ContactAttempt.objects.count() == 1


def test_a_permit_is_for_one_channel_and_debtor(open_debtor):
    class SmsBackend(RecordingBackend):
        channel = "sms"

    permit = gate.request(debtor=open_debtor, channel="call", actor="tests")
    with pytest.raises(gate.InvalidPermit):
        SmsBackend().send(permit.token, OutboundMessage(debtor_id=open_debtor.pk, to="x", body="x"))
    other = make_debtor()
    with pytest.raises(gate.InvalidPermit):
        RecordingBackend().send(permit.token, OutboundMessage(debtor_id=other.pk, to="x", body="x"))
