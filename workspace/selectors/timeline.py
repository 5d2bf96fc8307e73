"""The case timeline: everything that happened to a debtor, newest first, from every source."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cases.models import Callback, Case, Note
from compliance.models import (
    ContactAttempt,
    ContactDecision,
)
from debtors.models import (
    ContactPoint,
    Debtor,
    Loan,
    Payment,
    PromiseToPay,
    RepaymentPlan,
)
from debtors.sql import instance_from_json
from messaging.models import DeliveryStatus, ReceivedMessage, SentMessage
from reminders.models import Reminder, ReminderStage
from reminders.selectors import reason_text
from selfservice.models import PortalEvent
from workspace.selectors.audit import changes_from_rows, historical_model
from workspace.selectors.labels import choice_label, reasons_text

# --- The timeline ---------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str  # attempt, decision, note, callback, promise, plan, payment, change, reminder
    title: str
    detail: str = ""
    actor: str = ""
    tone: str = ""  # "", "good", "bad", "warn"
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    # What the entry was about, formatted by the page in the viewer's language: an amount and
    # its currency, a date or an instant it is due by, the words of a message.
    amount: Decimal | None = None
    currency: str = ""
    due_on: dt.date | None = None
    due_at: dt.datetime | None = None
    quote: str = ""


TIMELINE_LIMIT = 40


def timeline(
    debtor: Debtor, *, limit: int = TIMELINE_LIMIT, loans: list[Loan] | None = None
) -> list[TimelineEntry]:
    """The newest ``limit`` things that happened to the debtor, newest first. Each source is
    read newest first and cut to ``limit`` rows, so the merged list is exact; the audit page
    has everything older. Every source is read by one statement (``timeline_statement``).
    ``loans`` from ``debtors.selectors.debtor_loans`` (with their payments) save reading the
    payments again."""
    rows, history = timeline_rows(debtor, limit=limit)
    entries = [
        *(_attempt_entry(row) for row in rows["attempt"]),
        *(_decision_entry(row) for row in rows["decision"]),
        *(
            TimelineEntry(
                at=row["created_at"],
                kind="note",
                title=_("Note"),
                detail=row["body"],
                actor=row["author_name"],
            )
            for row in rows["note"]
        ),
        *(_callback_entry(row) for row in rows["callback"]),
        *(_reminder_entry(row) for row in rows["reminder"]),
        *(_portal_entry(row) for row in rows["portal"]),
        *_payment_entries(debtor, loans, limit=limit),
        *_history_entries(history, limit=limit),
        *_promise_entries(history, _currencies(debtor, loans)),
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _attempt_entry(row: dict) -> TimelineEntry:
    if row["code_label"] is not None:
        detail = _(row["code_label"])
        if row["disposition_note"]:
            detail = f"{detail} — {row['disposition_note']}"
    else:
        detail = choice_label(ContactAttempt, "outcome", row["outcome"])
    if row.get("delivery") == DeliveryStatus.READ:
        detail = _("Delivered and read")
    elif row["channel"] == "in_app" and row["outcome"] == "sent":
        detail = _("Delivered to the inbox")
    if row["breach"]:
        detail = f"{detail} · " + _("breach: %(r)s") % {
            "r": ", ".join(reasons_text(row["breach_reasons"]))
        }
    return TimelineEntry(
        at=row["occurred_at"],
        kind="attempt",
        quote=row["message"] or "",
        title=_("%(direction)s: %(channel)s")
        % {
            "direction": choice_label(ContactAttempt, "direction", row["direction"]),
            "channel": choice_label(ContactAttempt, "channel", row["channel"]),
        },
        detail=detail,
        actor=row["actor_label"],
        tone="bad" if row["breach"] else ("good" if row["outcome"] == "conversation" else ""),
    )


def _decision_entry(row: dict) -> TimelineEntry:
    channel = choice_label(ContactDecision, "channel", row["channel"])
    if row["allowed"]:
        title = _("Gate allowed %(channel)s") % {"channel": channel}
    else:
        title = _("Gate blocked %(channel)s") % {"channel": channel}
    return TimelineEntry(
        at=row["decided_at"],
        kind="decision",
        title=title,
        detail=", ".join(reasons_text(row["reasons"])),
        actor=row["actor_label"],
        tone="" if row["allowed"] else "warn",
    )


def _callback_entry(row: dict) -> TimelineEntry:
    return TimelineEntry(
        at=row["created_at"],
        kind="callback",
        title=_("Callback scheduled (%(status)s)")
        % {"status": choice_label(Callback, "status", row["status"])},
        detail=row["note"],
        actor=row["creator_name"],
        due_at=row["due_at"],
    )


REMINDER_TONES = {"sent": "good", "failed": "bad", "unknown": "bad", "closed": "warn"}


def _reminder_entry(row: dict) -> TimelineEntry:
    detail = choice_label(Reminder, "status", row["status"])
    if row["reason"]:
        detail = f"{detail} · {reason_text(row['reason'])}"
    # The stage's own wording (``ReminderStage.__str__``), from the columns read with the row.
    stage = ReminderStage(
        name=row["stage_name"], offset_days=row["stage_offset_days"], channel=row["stage_channel"]
    )
    return TimelineEntry(
        at=row["finished_at"] or row["created_at"],
        kind="reminder",
        title=_("Reminder: %(stage)s") % {"stage": stage},
        detail=detail,
        actor=_("system"),
        tone=REMINDER_TONES.get(row["status"], ""),
    )


PORTAL_TONES = {"dispute": "warn", "cease": "warn", "locked": "bad", "plan_accepted": "good"}


def _portal_entry(row: dict) -> TimelineEntry:
    """What the debtor did on the self-service portal, or staff decided about it."""
    return TimelineEntry(
        at=row["created_at"],
        kind="portal",
        title=choice_label(PortalEvent, "kind", row["kind"]),
        detail=row["detail"],
        actor=row["actor_label"],
        tone=PORTAL_TONES.get(row["kind"], ""),
    )


def _payment_entries(debtor: Debtor, loans: list[Loan] | None, *, limit: int):
    if loans is None:
        payments = [
            (p, p.loan)
            for p in Payment.objects.filter(loan__debtor=debtor)
            .select_related("loan")
            .order_by("-received_at")[:limit]
        ]
    else:
        # The case page has every loan's payments already (``debtors.selectors.debtor_loans``).
        payments = sorted(
            ((p, loan) for loan in loans for p in loan.payment_list),
            key=lambda pair: pair[0].received_at,
            reverse=True,
        )[:limit]
    return [
        TimelineEntry(
            at=p.received_at,
            kind="payment",
            title=_("Payment on %(loan)s") % {"loan": loan},
            detail=choice_label(Payment, "method", p.method),
            tone="good",
            amount=p.amount,
            currency=loan.currency,
        )
        for p, loan in payments
    ]


def timeline_sources(debtor_id: int, limit: int) -> dict[str, QuerySet]:
    """The timeline's sources other than history and payments: each one's newest ``limit``
    rows, as the columns its entry needs."""
    username = get_user_model().USERNAME_FIELD
    newest = ("-created_at", "-id")
    return {
        "attempt": ContactAttempt.objects.filter(debtor_id=debtor_id)
        .order_by("-occurred_at", "-id")
        .values(
            "occurred_at",
            "direction",
            "channel",
            "outcome",
            "breach",
            "breach_reasons",
            "actor_label",
            code_label=F("disposition__code__label"),
            disposition_note=F("disposition__note"),
            message=Coalesce(
                Subquery(SentMessage.objects.filter(attempt_id=OuterRef("pk")).values("body")[:1]),
                Subquery(
                    ReceivedMessage.objects.filter(attempt_id=OuterRef("pk")).values("body")[:1]
                ),
            ),
            delivery=Subquery(
                SentMessage.objects.filter(attempt_id=OuterRef("pk")).values("delivery_status")[:1]
            ),
        )[:limit],
        "decision": ContactDecision.objects.filter(debtor_id=debtor_id)
        .order_by("-decided_at", "-id")
        .values("decided_at", "allowed", "channel", "reasons", "actor_label")[:limit],
        "note": Note.objects.filter(debtor_id=debtor_id)
        .order_by(*newest)
        .values("created_at", "body", author_name=F(f"author__{username}"))[:limit],
        "callback": Callback.objects.filter(debtor_id=debtor_id)
        .order_by(*newest)
        .values(
            "created_at", "status", "note", "due_at", creator_name=F(f"created_by__{username}")
        )[:limit],
        "reminder": Reminder.objects.filter(debtor_id=debtor_id)
        .order_by(*newest)
        .values(
            "created_at",
            "finished_at",
            "status",
            "reason",
            stage_name=F("stage__name"),
            stage_offset_days=F("stage__offset_days"),
            stage_channel=F("stage__channel"),
        )[:limit],
        "portal": PortalEvent.objects.filter(debtor_id=debtor_id)
        .order_by(*newest)
        .values("created_at", "kind", "detail", "actor_label")[:limit],
    }


# What the case timeline shows of the history: each model, and the lookup from its rows to the
# debtor.
TIMELINE_HISTORY = (
    (Debtor, "id"),
    (ContactPoint, "debtor_id"),
    (RepaymentPlan, "loan__debtor_id"),
    (PromiseToPay, "loan__debtor_id"),
    (Case, "debtor_id"),
)


def timeline_history(debtor_id: int, limit: int) -> dict[Any, QuerySet]:
    """Each ``TIMELINE_HISTORY`` model's newest ``limit + 1`` history rows of the debtor (one
    more than shown, to tell what the oldest one changed)."""
    return {
        model: historical_model(model)
        .objects.filter(**{lookup: debtor_id})
        .order_by("-history_date", "-history_id")[: limit + 1]
        for model, lookup in TIMELINE_HISTORY
    }


def timeline_rows(debtor: Debtor, *, limit: int) -> tuple[dict[str, list[dict]], dict[Any, list]]:
    """The rows of every timeline source (``timeline_sources``: newest ``limit``, as dicts)
    and of every history table (``timeline_history``: as historical instances, newest first),
    read by ``timeline_statement``."""
    sql, keys, params, datetimes = timeline_statement(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, [debtor.pk if p == _STAND_IN else p for p in params])
        found = cursor.fetchall()
    rows: dict[str, list[dict]] = {key: [] for key in keys if isinstance(key, str)}
    history: dict[Any, list] = {key: [] for key in keys if not isinstance(key, str)}
    for index, text in found:
        key = keys[index]
        if not isinstance(key, str):
            history[key].append(instance_from_json(historical_model(key), text))
            continue
        data = json.loads(text, parse_float=Decimal)
        for name in datetimes[index]:
            if data[name] is not None:
                data[name] = dt.datetime.fromisoformat(data[name])
        rows[key].append(data)
    # UNION ALL keeps each part's order in practice; sort to be sure of it.
    for found_rows in history.values():
        found_rows.sort(key=lambda r: (r.history_date, r.history_id), reverse=True)
    return rows, history


# A debtor id no row has: the timeline statement is compiled once for it (``timeline_statement``)
# and each call puts the real id in its place.
_STAND_IN = -7_000_000_000_000_000_001


@lru_cache(maxsize=8)
def timeline_statement(limit: int):
    """TIMELINE: every timeline source and history table of one debtor in one statement.

    Written for the ``pages`` benchmark (case page p95 under 200 ms): a case page opens all
    day long, and eleven queries cost it more than reading their rows. Each part is the SQL the
    ORM compiles for ``timeline_sources`` and ``timeline_history`` (for a stand-in debtor id,
    once per process), cut by its own index scan and LIMIT, every row as JSON; only the
    ``UNION ALL`` around them is written here. The tests run each part's queryset on its own
    and compare (``tests/workspace/test_timeline.py``).

    Gives the SQL, the key of each part (a source's name or a model), the parameters and, per
    part, the names of the columns that hold instants.
    """
    parts, keys, params, datetimes = [], [], [], []
    for key, queryset in timeline_sources(_STAND_IN, limit).items():
        sql, found = queryset.query.sql_with_params()
        parts.append(f"(SELECT {len(keys)}, row_to_json(x)::text FROM ({sql}) x)")  # noqa: S608
        keys.append(key)
        params += found
        datetimes.append(
            tuple(
                name
                for name in queryset.query.values_select
                if isinstance(queryset.model._meta.get_field(name), models.DateTimeField)
            )
        )
    for model, queryset in timeline_history(_STAND_IN, limit).items():
        sql, found = queryset.query.sql_with_params()
        parts.append(f"(SELECT {len(keys)}, row_to_json(x)::text FROM ({sql}) x)")  # noqa: S608
        keys.append(model)
        params += found
        datetimes.append(())
    return " UNION ALL ".join(parts), tuple(keys), tuple(params), tuple(datetimes)


def _currencies(debtor: Debtor, loans: list[Loan] | None) -> dict[int, str]:
    """Each of the debtor's loans' currency, by loan id."""
    if loans is not None:
        return {loan.pk: loan.currency for loan in loans}
    return dict(Loan.objects.filter(debtor=debtor).values_list("pk", "currency"))


def _promise_entries(history: dict[Any, list], currencies: dict[int, str]) -> list[TimelineEntry]:
    """A promise made: its amount, with the loan's currency, and the date it is due by. (The
    history entries show how its status changed afterwards.)"""
    return [
        TimelineEntry(
            at=row.history_date,
            kind="promise",
            title=_("Promise to pay"),
            actor=row.actor_label or "",
            amount=row.amount,
            currency=currencies.get(row.loan_id, ""),
            due_on=row.promised_date,
        )
        for row in history.get(PromiseToPay, ())
        if row.history_type == "+"
    ]


def _history_entries(history: dict[Any, list], *, limit: int) -> list[TimelineEntry]:
    out = []
    for model, rows in history.items():
        for change in changes_from_rows(model, rows, limit=limit):
            if model is PromiseToPay and change.created:
                continue  # a promise entry of its own (``_promise_entries``)
            out.append(
                TimelineEntry(
                    at=change.at,
                    kind="change",
                    title=f"{change.object_label} {change.action}",
                    actor=change.actor,
                    # A creation is summed up by its title; the audit page has every field.
                    changes=[] if change.created else change.diffs,
                )
            )
    return out
