"""Backends for tests: a provider that fails on demand, one that cannot tell what it sent."""

from __future__ import annotations

from messaging.channels.base import (
    UNKNOWABLE,
    Found,
    OutcomeUnknown,
    PermanentError,
    ReminderBackend,
    TransientError,
)

# What the next sends do: a list of "ok", "transient", "permanent", "unknown".
SCRIPT: list[str] = []
DELIVERED: list[tuple[str, str]] = []
LOOKUP: dict[str, object] = {}


def reset(*steps: str) -> None:
    SCRIPT[:] = list(steps)
    DELIVERED.clear()
    LOOKUP.clear()


class ScriptedSms(ReminderBackend):
    channel = "sms"
    can_lookup = True

    def _deliver(self, attempt, message) -> str:
        step = SCRIPT.pop(0) if SCRIPT else "ok"
        key = message.metadata["idempotency_key"]
        if step == "transient":
            raise TransientError("gateway busy (503)")
        if step == "permanent":
            raise PermanentError("number rejected (400)")
        if step == "unknown":
            raise OutcomeUnknown("timed out after the request left")
        DELIVERED.append((key, message.body))
        return f"sms-{key}"

    def lookup(self, idempotency_key: str, **_hints):
        return LOOKUP.get(idempotency_key, UNKNOWABLE)


__all__ = ["Found", "ScriptedSms", "reset"]
