"""Reads of the collectors' workspace: the queue, the case page, the timeline, audit history.

Every list is scoped through ``collections_app.access`` and runs a fixed number of queries
whatever the size of the portfolio (the tests assert it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from compliance import batch
from compliance.gate import Decision
from compliance.models import (
    ContactAttempt,
    ContactDecision,
    ContactPolicy,
)
from compliance.reasons import reason_label
from debtors.models import (
    ChannelConsent,
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PlanInstallment,
    PromiseToPay,
    RepaymentPlan,
    mask,
)
from debtors.validators import normalize_phone

from .access import cases_for_user
from .models import Callback, Case, Note, PortalEvent, Reminder, ReminderStage

QUEUE_PAGE_SIZE = 25

# --- The work queue -------------------------------------------------------------------------


@dataclass
class QueueFilters:
    q: str = ""
    status: str = ""
    min_dpd: int | None = None
    promise_today: bool = False
    callback_due: bool = False
    collector_id: int | None = None  # supervisors only


@dataclass
class QueuePage:
    rows: list[Case]
    next_cursor: str = ""
    contactable: dict[int, Decision | None] = field(default_factory=dict)


def encode_cursor(case: Case) -> str:
    return f"{case.priority}.{case.pk}"


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        priority, pk = cursor.split(".", 1)
        return int(priority), int(pk)
    except (ValueError, AttributeError):
        return None


def queue_cases(user, filters: QueueFilters, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The user's open cases matching the filters, in queue order (priority, then newest id)."""
    now = now or timezone.now()
    cases = cases_for_user(user).exclude(status=Case.Status.CLOSED)
    if filters.collector_id:
        cases = cases.filter(assigned_to_id=filters.collector_id)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.min_dpd:
        cases = cases.filter(max_days_past_due__gte=filters.min_dpd)
    today = timezone.localdate(now)
    if filters.promise_today:
        cases = cases.filter(
            debtor__loans__promises__status=PromiseToPay.Status.PENDING,
            debtor__loans__promises__promised_date=today,
        ).distinct()
    if filters.callback_due:
        end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
        cases = cases.filter(
            debtor__callbacks__status=Callback.Status.OPEN, debtor__callbacks__due_at__lt=end
        ).distinct()
    q = filters.q.strip()
    if q:
        cases = cases.filter(_search(q))
    return cases.order_by("-priority", "-id")


def _search(q: str) -> Q:
    """Name (prefix), debtor or loan reference (exact), or phone number (normalised, exact)."""
    condition = (
        Q(debtor__full_name__istartswith=q)
        | Q(debtor__external_ref=q)
        | Q(debtor__in=Loan.objects.filter(external_ref=q).values("debtor_id"))
    )
    digits = "".join(ch for ch in q if ch.isdigit() or ch == "+")
    if len(digits.lstrip("+")) >= 6:
        numbers = {q}
        for region in ("CN", "US", "GB"):
            try:
                numbers.add(normalize_phone(q, region))
            except Exception:  # noqa: BLE001, S112 - not a number in that region: try the next
                continue
        condition |= Q(
            debtor__in=ContactPoint.objects.filter(
                value__in=sorted(numbers), kind__in=ContactPoint.PHONE_KINDS
            ).values("debtor_id")
        )
    return condition


def queue_page(
    user, filters: QueueFilters, *, after: str = "", size: int = QUEUE_PAGE_SIZE, now=None
) -> QueuePage:
    """One page of the queue (keyset pagination on priority and id), with contactability."""
    now = now or timezone.now()
    cases = queue_cases(user, filters, now=now).select_related("debtor", "assigned_to")
    position = decode_cursor(after) if after else None
    if position is not None:
        priority, pk = position
        # The first condition bounds the index range; the second picks the rows after the cursor.
        cases = cases.filter(priority__lte=priority).filter(
            Q(priority__lt=priority) | Q(priority=priority, id__lt=pk)
        )
    rows = list(cases[: size + 1])
    next_cursor = encode_cursor(rows[size - 1]) if len(rows) > size else ""
    rows = rows[:size]
    return QueuePage(
        rows=rows,
        next_cursor=next_cursor,
        contactable=contactability([case.debtor for case in rows], channel="call", at=now),
    )


def next_case(user, *, now=None) -> Case | None:
    return queue_cases(user, QueueFilters(), now=now).only("id").first()


# --- Contactability: the gate's dry run for many debtors at once -----------------------------


def contactability(
    debtors: Iterable[Debtor], *, channel: str, at: dt.datetime
) -> dict[int, Decision | None]:
    """May each debtor be contacted on ``channel`` at ``at``? A dry run, writing nothing.

    The gate's own answer (``compliance.batch.check_many``: same snapshot, same judge), read
    in two queries for the whole page. ``None`` means the answer is unknown (no policy, or no
    time zone). The gate decides again when the contact is actually requested.
    """
    return batch.check_many(debtor_ids=[d.pk for d in debtors], channel=channel, at=at)


def reasons_text(codes: Iterable[str]) -> list[str]:
    return [str(reason_label(code)) for code in codes]


def choice_label(model, field_name: str, value):
    """The label of ``value`` among a model field's choices (the value itself if unknown),
    from the choices read once per process: ``get_<field>_display()`` rebuilds them on every
    call, and a page shows dozens."""
    try:
        return _choice_labels(model, field_name).get(value, value)
    except TypeError:  # an unhashable value is never a choice
        return value


@lru_cache(maxsize=512)
def _choice_labels(model, field_name: str) -> dict:
    return dict(model._meta.get_field(field_name).flatchoices)


# --- The case page --------------------------------------------------------------------------


# What ``case_loans`` gives each loan (and each plan), as prefetched relations: the name, the
# model and its order (the last key breaks ties the same way on every path).
CASE_LOAN_RELATIONS = {
    "installments": (Installment, ("due_date", "sequence", "id")),
    "payments": (Payment, ("-received_at", "-id")),
    "plans": (RepaymentPlan, ("-created_at", "-id")),
    "promises": (PromiseToPay, ("-promised_date", "-id")),
}
PLAN_INSTALLMENT_ORDER = ("due_date", "sequence", "id")
LOAN_ORDER = ("opened_on", "id")


def case_loans(debtor: Debtor, *, one_statement: bool = True) -> list[Loan]:
    """The debtor's loans with installments, payments, plans (with installments) and promises,
    as prefetched relations (``loan.installments.all`` reads no more).

    One statement reads all six tables, every row as JSON; ``one_statement=False`` reads them
    with ``prefetch_related``, one query per table, which the tests compare it with."""
    if one_statement:
        return _case_loans_in_one_statement(debtor)
    querysets = {
        name: model.objects.order_by(*order) for name, (model, order) in CASE_LOAN_RELATIONS.items()
    }
    querysets["plans"] = querysets["plans"].prefetch_related(
        Prefetch("installments", queryset=PlanInstallment.objects.order_by(*PLAN_INSTALLMENT_ORDER))
    )
    return list(
        Loan.objects.filter(debtor=debtor)
        .order_by(*LOAN_ORDER)
        .prefetch_related(*(Prefetch(name, queryset=qs) for name, qs in querysets.items()))
    )


def _case_loans_in_one_statement(debtor: Debtor) -> list[Loan]:
    loans_table = Loan._meta.db_table
    parts = [(Loan, f"{loans_table} x WHERE x.debtor_id = %(d)s")]
    loans_of_debtor = f"SELECT l.id FROM {loans_table} l WHERE l.debtor_id = %(d)s"  # noqa: S608
    for model, _order in CASE_LOAN_RELATIONS.values():
        parts.append((model, f"{model._meta.db_table} x WHERE x.loan_id IN ({loans_of_debtor})"))
    parts.append(
        (
            PlanInstallment,
            f"{PlanInstallment._meta.db_table} x WHERE x.plan_id IN (SELECT p.id FROM "  # noqa: S608
            f"{RepaymentPlan._meta.db_table} p WHERE p.loan_id IN ({loans_of_debtor}))",
        )
    )
    sql = " UNION ALL ".join(
        f"(SELECT {index}, row_to_json(x)::text FROM {source})"  # noqa: S608 - tables from models
        for index, (_model, source) in enumerate(parts)
    )
    found: dict[Any, list] = {model: [] for model, _source in parts}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"d": debtor.pk})
        for index, text in cursor.fetchall():
            model = parts[index][0]
            found[model].append(_instance_from_json(model, text))
    loans = _ordered(found[Loan], LOAN_ORDER)
    by_loan = {loan.pk: loan for loan in loans}
    for name, (model, order) in CASE_LOAN_RELATIONS.items():
        children: dict[int, list] = {loan.pk: [] for loan in loans}
        for row in _ordered(found[model], order):
            row.loan = by_loan[row.loan_id]  # as a prefetch sets it: no query for ``row.loan``
            children[row.loan_id].append(row)
        for loan in loans:
            _set_prefetched(loan, name, children[loan.pk])
    plans = {plan.pk: plan for plan in found[RepaymentPlan]}
    plan_children: dict[int, list] = {pk: [] for pk in plans}
    for row in _ordered(found[PlanInstallment], PLAN_INSTALLMENT_ORDER):
        row.plan = plans[row.plan_id]
        plan_children[row.plan_id].append(row)
    for plan in found[RepaymentPlan]:
        _set_prefetched(plan, "installments", plan_children[plan.pk])
    return loans


def _instance_from_json(model, text: str):
    """A model instance from ``row_to_json`` of one of its table's rows, as if read by the ORM."""
    data = json.loads(text, parse_float=Decimal)
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias,
        [f.attname for f in fields],
        [f.to_python(data[f.column]) for f in fields],
    )


def _ordered(rows: list, order: tuple[str, ...]) -> list:
    """``rows`` sorted as ``order_by(*order)`` would (each key ascending, or descending with a
    leading minus; no key is ever null here)."""
    for key in reversed(order):
        name = key.lstrip("-")
        rows = sorted(rows, key=lambda row, name=name: getattr(row, name), reverse=key[0] == "-")
    return rows


def _set_prefetched(instance, name: str, rows: list) -> None:
    """Give ``instance`` the rows of its relation ``name`` as ``prefetch_related`` does: a
    queryset of the relation whose results are already there, so ``.all()`` reads nothing."""
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def open_callbacks(debtor: Debtor) -> list[Callback]:
    return list(
        Callback.objects.filter(debtor=debtor, status=Callback.Status.OPEN)
        .select_related("assigned_to")
        .order_by("due_at")[:20]
    )


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


TIMELINE_LIMIT = 40


def timeline(
    debtor: Debtor, *, limit: int = TIMELINE_LIMIT, loans: list[Loan] | None = None
) -> list[TimelineEntry]:
    """The newest ``limit`` things that happened to the debtor, newest first. Each source is
    read newest first and cut to ``limit`` rows, so the merged list is exact; the audit page
    has everything older. On PostgreSQL every source is read by one statement
    (``_timeline_rows``). ``loans`` from ``case_loans`` (with their payments) save reading the
    payments again."""
    rows, history = _timeline_rows(debtor, limit=limit)
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
    if row["breach"]:
        detail = f"{detail} · " + _("breach: %(r)s") % {
            "r": ", ".join(reasons_text(row["breach_reasons"]))
        }
    return TimelineEntry(
        at=row["occurred_at"],
        kind="attempt",
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
        changes=[(_("due at"), "", timezone.localtime(row["due_at"]).strftime("%Y-%m-%d %H:%M"))],
    )


REMINDER_TONES = {"sent": "good", "failed": "bad", "unknown": "bad", "closed": "warn"}


def _reminder_entry(row: dict) -> TimelineEntry:
    from .reminders.selectors import reason_text

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
        # The case page has every loan's payments already (``case_loans``).
        payments = sorted(
            ((p, loan) for loan in loans for p in loan.payments.all()),
            key=lambda pair: pair[0].received_at,
            reverse=True,
        )[:limit]
    return [
        TimelineEntry(
            at=p.received_at,
            kind="payment",
            title=_("Payment %(amount)s %(currency)s on %(loan)s")
            % {"amount": p.amount.normalize(), "currency": loan.currency, "loan": loan},
            detail=choice_label(Payment, "method", p.method),
            tone="good",
        )
        for p, loan in payments
    ]


def _timeline_sources(debtor_id: int, limit: int) -> dict[str, QuerySet]:
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


# --- History: readable field-by-field differences --------------------------------------------

SKIPPED_FIELDS = {
    "id",
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
    "history_user_id",
    "actor_label",
    "updated_at",
}


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a column with no model field: show its name
        return name


def _display(model, name: str, value: Any, users: dict | None = None) -> str:
    if value is None or value == "":
        return "—"
    f = next((f for f in model._meta.concrete_fields if f.attname == name), None)
    if f is None:
        return str(value)
    if users is not None and f.is_relation and f.related_model is get_user_model():
        return users.get(value, str(value))
    if isinstance(value, Decimal):
        # Amounts are stored with four places; show two unless more are used.
        return f"{value.quantize(Decimal('0.01')) if value == value.quantize(Decimal('0.01')) else value.normalize():f}"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if name == "national_id" or (name == "value" and model is ContactPoint):
        # Audit pages never unmask: revealing is its own audited action.
        return mask(str(value))
    return str(value)


@dataclass
class Change:
    at: dt.datetime
    actor: str
    action: str  # created, changed, deleted
    object_label: str
    diffs: list[tuple[str, str, str]]
    created: bool = False


def history_changes(model, queryset, *, limit: int = 100) -> list[Change]:
    """The history rows of ``queryset`` (a historical model's queryset), newest first, each with
    its differences from the previous version of the same object. One query."""
    rows = list(queryset.order_by("-history_date", "-history_id")[: limit + 1])
    return _changes(model, rows, limit=limit)


def _changes(model, rows: list, *, limit: int) -> list[Change]:
    """``history_changes`` over rows already read: newest first, at most ``limit + 1``."""
    rows = rows[::-1]
    names = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in SKIPPED_FIELDS and f.name not in SKIPPED_FIELDS
    ]
    labels = {f.attname: str(f.verbose_name) for f in model._meta.concrete_fields}
    user_fields = [
        f.attname
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is get_user_model() and f.attname in names
    ]
    user_ids = {getattr(r, n) for r in rows for n in user_fields} - {None}
    users = (
        dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
        if user_ids
        else {}
    )
    previous: dict[int, Any] = {}
    changes = []
    for index, row in enumerate(rows):
        prev = previous.get(row.id)
        previous[row.id] = row
        if index == 0 and len(rows) > limit:
            continue  # only there to diff the next one against
        if row.history_type == "+":
            action = _("created")
            diffs = [
                (
                    labels[n],
                    "",
                    _display(model, n, getattr(row, n), users),
                )
                for n in names
                if getattr(row, n) not in (None, "", False)
            ]
        elif row.history_type == "-":
            action, diffs = _("deleted"), []
        else:
            action = _("changed")
            diffs = []
            if prev is not None:
                for n in names:
                    old, new = getattr(prev, n), getattr(row, n)
                    if old != new:
                        label = labels[n]
                        diffs.append(
                            (label, _display(model, n, old, users), _display(model, n, new, users))
                        )
            if not diffs and prev is not None:
                continue
        changes.append(
            Change(
                at=row.history_date,
                actor=row.actor_label or "",
                action=action,
                object_label=f"{capfirst(model._meta.verbose_name)} #{row.id}",
                diffs=diffs,
                created=row.history_type == "+",
            )
        )
    changes.reverse()
    return changes


def _historical(model):
    """The historical model of ``model``, read without going through ``model.history`` (that
    descriptor builds a new manager class on every access)."""
    return vars(model)["history"].model


# What the case timeline shows of the history: (model, the condition on its historical table
# in SQL, the same as an ORM lookup).
TIMELINE_HISTORY = (
    (Debtor, "h.id = %s", "id"),
    (ContactPoint, "h.debtor_id = %s", "debtor_id"),
    (
        RepaymentPlan,
        "h.loan_id IN (SELECT l.id FROM debtors_loan l WHERE l.debtor_id = %s)",
        "loan__debtor_id",
    ),
    (
        PromiseToPay,
        "h.loan_id IN (SELECT l.id FROM debtors_loan l WHERE l.debtor_id = %s)",
        "loan__debtor_id",
    ),
    (Case, "h.debtor_id = %s", "debtor_id"),
)


def _timeline_rows(
    debtor: Debtor, *, limit: int, one_statement: bool = True
) -> tuple[dict[str, list[dict]], dict[Any, list]]:
    """The rows of every timeline source (``_timeline_sources``: newest ``limit``, as dicts)
    and of every history table in ``TIMELINE_HISTORY`` (newest ``limit + 1``, as historical
    instances, newest first).

    On PostgreSQL one statement reads them all, each part cut by its own index scan and LIMIT,
    every row as JSON: a case page opens all day long, and eleven queries cost it more than
    reading their rows. ``one_statement=False`` runs each source's queryset on its own, which
    the tests compare it with.
    """
    if not one_statement:
        rows = {key: list(qs) for key, qs in _timeline_sources(debtor.pk, limit).items()}
        return rows, {
            model: list(
                _historical(model)
                .objects.filter(**{lookup: debtor.pk})
                .order_by("-history_date", "-history_id")[: limit + 1]
            )
            for model, _where, lookup in TIMELINE_HISTORY
        }
    sql, keys, params, datetimes = _timeline_statement(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, [debtor.pk if p == _STAND_IN else p for p in params])
        found = cursor.fetchall()
    rows: dict[str, list[dict]] = {key: [] for key in keys if isinstance(key, str)}
    history: dict[Any, list] = {key: [] for key in keys if not isinstance(key, str)}
    for index, text in found:
        key = keys[index]
        if not isinstance(key, str):
            history[key].append(_instance_from_json(_historical(key), text))
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


# A debtor id no row has: the timeline statement is compiled once for it (``_timeline_statement``)
# and each call puts the real id in its place.
_STAND_IN = -7_000_000_000_000_000_001


@lru_cache(maxsize=8)
def _timeline_statement(limit: int):
    """The one statement of ``_timeline_rows`` for ``limit`` (PostgreSQL), built once per
    process: the sources' SQL as the ORM compiles it for the stand-in debtor id. Gives the SQL,
    the key of each part (a source's name or a model), the parameters and, per part, the names
    of the columns that hold instants."""
    parts, keys, params, datetimes = [], [], [], []
    for key, queryset in _timeline_sources(_STAND_IN, limit).items():
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
    for model, where, _lookup in TIMELINE_HISTORY:
        table = _historical(model)._meta.db_table
        parts.append(
            f"(SELECT {len(keys)}, row_to_json(h)::text FROM {table} h WHERE {where}"  # noqa: S608
            " ORDER BY h.history_date DESC, h.history_id DESC LIMIT %s)"
        )
        keys.append(model)
        params += [_STAND_IN, limit + 1]
        datetimes.append(())
    return " UNION ALL ".join(parts), tuple(keys), tuple(params), tuple(datetimes)


def _history_entries(history: dict[Any, list], *, limit: int) -> list[TimelineEntry]:
    out = []
    for model, rows in history.items():
        for change in _changes(model, rows, limit=limit):
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


def debtor_audit(debtor: Debtor, *, limit: int = 200) -> list[Change]:
    """Every change to the debtor, its contact points, loans, installments, plans, promises
    and case, newest first."""
    sources = [
        (Debtor, Debtor.history.filter(id=debtor.pk)),
        (ContactPoint, ContactPoint.history.filter(debtor_id=debtor.pk)),
        (ChannelConsent, ChannelConsent.history.filter(debtor_id=debtor.pk)),
        (Loan, Loan.history.filter(debtor_id=debtor.pk)),
        (RepaymentPlan, RepaymentPlan.history.filter(loan__debtor_id=debtor.pk)),
        (PlanInstallment, PlanInstallment.history.filter(plan__loan__debtor_id=debtor.pk)),
        (PromiseToPay, PromiseToPay.history.filter(loan__debtor_id=debtor.pk)),
        (Payment, Payment.history.filter(loan__debtor_id=debtor.pk)),
        (Case, Case.history.filter(debtor_id=debtor.pk)),
        (Note, Note.history.filter(debtor_id=debtor.pk)),
        (Callback, Callback.history.filter(debtor_id=debtor.pk)),
        (PortalEvent, PortalEvent.history.filter(debtor_id=debtor.pk)),
    ]
    changes: list[Change] = []
    for model, qs in sources:
        changes.extend(history_changes(model, qs, limit=limit))
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:limit]


def loan_audit(loan: Loan, *, limit: int = 200) -> list[Change]:
    sources = [
        (Loan, Loan.history.filter(id=loan.pk)),
        (Installment, Installment.history.filter(loan_id=loan.pk)),
        (RepaymentPlan, RepaymentPlan.history.filter(loan_id=loan.pk)),
        (PlanInstallment, PlanInstallment.history.filter(plan__loan_id=loan.pk)),
        (PromiseToPay, PromiseToPay.history.filter(loan_id=loan.pk)),
        (Payment, Payment.history.filter(loan_id=loan.pk)),
    ]
    changes: list[Change] = []
    for model, qs in sources:
        changes.extend(history_changes(model, qs, limit=limit))
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:limit]


def plan_audit(plan: RepaymentPlan, *, limit: int = 200) -> list[Change]:
    changes = history_changes(RepaymentPlan, RepaymentPlan.history.filter(id=plan.pk), limit=limit)
    changes += history_changes(
        PlanInstallment, PlanInstallment.history.filter(plan_id=plan.pk), limit=limit
    )
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes


def policy_audit(slug: str) -> list[Change]:
    """A policy's versions, each compared with the one before (rules compared per channel)."""
    versions = list(ContactPolicy.objects.filter(slug=slug).order_by("version"))
    changes = []
    prev = None
    fields = ("name", "country", "region", "is_default", "is_active", "source", "notes")
    for v in versions:
        diffs = []
        for name in fields:
            old = getattr(prev, name) if prev else None
            new = getattr(v, name)
            if prev is None or old != new:
                if prev is None and new in ("", None, False):
                    continue
                diffs.append(
                    (
                        _field_label(ContactPolicy, name),
                        "" if prev is None else _display(ContactPolicy, name, old),
                        _display(ContactPolicy, name, new),
                    )
                )
        old_rules = prev.rules if prev else {}
        for channel in sorted(set(old_rules) | set(v.rules)):
            if old_rules.get(channel) != v.rules.get(channel):
                diffs.append(
                    (
                        _("rules: %(channel)s") % {"channel": channel},
                        _compact(old_rules.get(channel)),
                        _compact(v.rules.get(channel)),
                    )
                )
        changes.append(
            Change(
                at=v.created_at,
                actor=v.created_by_label,
                action=_("version %(n)d") % {"n": v.version},
                object_label=str(v),
                diffs=diffs,
            )
        )
        prev = v
    changes.reverse()
    return changes


def _compact(value) -> str:
    import json

    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- Supervisors ----------------------------------------------------------------------------


@dataclass
class CollectorStats:
    user: Any
    queue_size: int = 0
    contacts_today: int = 0
    promises_today: int = 0
    promises_amount: Any = 0
    collected: Any = 0


def team_stats(*, now: dt.datetime | None = None) -> list[CollectorStats]:
    """Per collector: open cases, contacts and promises today, amounts collected today on
    their cases. Four grouped queries whatever the team's size."""
    from django.db.models import Count, Sum

    from .services import collectors

    now = now or timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end = start + dt.timedelta(days=1)
    stats = {u.pk: CollectorStats(user=u) for u in collectors()}
    for row in (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .filter(assigned_to__in=list(stats))
        .values("assigned_to")
        .annotate(n=Count("id"))
    ):
        stats[row["assigned_to"]].queue_size = row["n"]
    for row in (
        ContactAttempt.objects.filter(
            actor_user_id__in=list(stats), occurred_at__gte=start, occurred_at__lt=end
        )
        .values("actor_user_id")
        .annotate(n=Count("id"))
    ):
        stats[row["actor_user_id"]].contacts_today = row["n"]
    for row in (
        PromiseToPay.objects.filter(
            created_by__in=list(stats), created_at__gte=start, created_at__lt=end
        )
        .values("created_by")
        .annotate(n=Count("id"), amount=Sum("amount"))
    ):
        stats[row["created_by"]].promises_today = row["n"]
        stats[row["created_by"]].promises_amount = row["amount"]
    for row in (
        Payment.objects.filter(
            received_at__gte=start,
            received_at__lt=end,
            loan__debtor__case__assigned_to__in=list(stats),
        )
        .values("loan__debtor__case__assigned_to")
        .annotate(total=Sum("amount"))
    ):
        stats[row["loan__debtor__case__assigned_to"]].collected = row["total"]
    return list(stats.values())


def decision_log(
    *,
    reason: str = "",
    channel: str = "",
    verdict: str = "",
    collector_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    debtor_ref: str = "",
) -> QuerySet[ContactDecision]:
    rows = ContactDecision.objects.all()
    if reason:
        rows = rows.filter(reasons__contains=[reason])
    if channel:
        rows = rows.filter(channel=channel)
    if verdict == "blocked":
        rows = rows.filter(allowed=False)
    elif verdict == "allowed":
        rows = rows.filter(allowed=True)
    if collector_id:
        rows = rows.filter(actor_user_id=collector_id)
    if date_from:
        rows = rows.filter(
            decided_at__gte=timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
        )
    if date_to:
        rows = rows.filter(
            decided_at__lt=timezone.make_aware(
                dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
            )
        )
    if debtor_ref:
        rows = rows.filter(
            debtor_id__in=Debtor.objects.filter(external_ref=debtor_ref).values("id")
        )
    return rows.order_by("-decided_at", "-id")


def breaches() -> QuerySet[ContactAttempt]:
    return (
        ContactAttempt.objects.filter(breach=True)
        .select_related("debtor", "breach_policy")
        .order_by("-occurred_at", "-id")
    )


def discounts_waiting() -> QuerySet[RepaymentPlan]:
    return (
        RepaymentPlan.objects.filter(
            status=RepaymentPlan.Status.PROPOSED,
            discount_amount__gt=0,
            discount_approved_at__isnull=True,
        )
        .select_related("loan", "loan__debtor", "loan__debtor__case", "created_by")
        .order_by("created_at")
    )


# --- Dashboards -----------------------------------------------------------------------------


@dataclass
class Chart:
    """One dashboard chart and the table behind it (the CSV download is the same table)."""

    key: str
    title: str
    kind: str  # line or bar
    labels: list[str]
    datasets: list[dict]
    header: list[str]
    rows: list[list]
    summary: str = ""
    stacked: bool = False
    percent: bool = False

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "datasets": self.datasets,
            "stacked": self.stacked,
            "percent": self.percent,
        }


@dataclass(frozen=True)
class Scope:
    start: dt.date
    end: dt.date
    collector_id: int | None = None
    strategy_id: int | None = None

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        start = timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))
        return start, end


def _ratio(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _loan_scope(scope: Scope, prefix: str = "") -> Q:
    """Loans of the collector's cases and of the strategy's risk bands."""
    condition = Q()
    if scope.collector_id:
        condition &= Q(**{f"{prefix}debtor__case__assigned_to_id": scope.collector_id})
    if scope.strategy_id:
        from .models import ReminderStrategy

        strategy = ReminderStrategy.objects.filter(pk=scope.strategy_id).first()
        bands = list(strategy.risk_bands or []) if strategy else []
        if strategy is not None and strategy.is_default:
            claimed = set()
            for other in ReminderStrategy.objects.filter(is_active=True).exclude(pk=strategy.pk):
                claimed.update(other.risk_bands or [])
            bands = sorted(set(bands) | (set(Loan.RiskBand.values) - claimed))
        condition &= Q(**{f"{prefix}risk_band__in": bands})
    return condition


def chart_recovery(scope: Scope) -> Chart:
    """Money collected per day, and the recovery rate: collected in the period over what was
    outstanding at its start (today's outstanding plus what was collected since)."""
    from django.db.models import Sum
    from django.db.models.functions import TruncDate

    start, end = scope.bounds()
    loans = Loan.objects.filter(_loan_scope(scope)).exclude(status__in=Loan.CLOSED_STATUSES)
    payments = Payment.objects.filter(
        Q(received_at__gte=start, received_at__lt=end) & _loan_scope(scope, "loan__")
    )
    by_day: dict[tuple[dt.date, str], Any] = {}
    currencies: set[str] = set()
    for row in (
        payments.annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "loan__currency")
        .annotate(total=Sum("amount"))
    ):
        by_day[(row["day"], row["loan__currency"])] = row["total"]
        currencies.add(row["loan__currency"])
    outstanding = {
        r["currency"]: r["total"]
        for r in loans.values("currency").annotate(
            total=Sum("principal_balance") + Sum("interest_balance") + Sum("fees_balance")
        )
    }
    since = {
        r["loan__currency"]: r["total"]
        for r in Payment.objects.filter(Q(received_at__gte=start) & _loan_scope(scope, "loan__"))
        .values("loan__currency")
        .annotate(total=Sum("amount"))
    }
    collected = {c: sum((v for (d, cur), v in by_day.items() if cur == c), 0) for c in currencies}
    days = scope.days()
    rates = []
    for c in sorted(currencies | set(outstanding)):
        base = (outstanding.get(c) or 0) + (since.get(c) or 0)
        rate = _ratio(collected.get(c, 0), base)
        rates.append(f"{c} {rate * 100:.1f}%" if rate is not None else f"{c} —")
    return Chart(
        key="recovery",
        title=_("Recovery: collected per day"),
        kind="bar",
        labels=[d.isoformat() for d in days],
        datasets=[
            {"label": c, "data": [float(by_day.get((d, c), 0)) for d in days]}
            for c in sorted(currencies)
        ],
        header=[_("day"), _("currency"), _("collected")],
        rows=[[d.isoformat(), c, by_day[(d, c)]] for (d, c) in sorted(by_day)],
        summary=_("Recovery rate: %(rates)s") % {"rates": ", ".join(rates) or "—"},
        stacked=True,
    )


def chart_right_party(scope: Scope) -> Chart:
    """Share of completed outbound calls that reached the debtor (by disposition code, or a
    conversation when no code was given)."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    start, end = scope.bounds()
    calls = ContactAttempt.objects.filter(
        channel="call", direction="outbound", occurred_at__gte=start, occurred_at__lt=end
    ).exclude(outcome="pending")
    if scope.collector_id:
        calls = calls.filter(actor_user_id=scope.collector_id)
    if scope.strategy_id:
        calls = calls.filter(debtor__loans__in=Loan.objects.filter(_loan_scope(scope))).distinct()
    rpc = Q(disposition__code__right_party_contact=True) | Q(
        disposition__isnull=True, outcome="conversation"
    )
    counts = {
        row["day"]: (row["total"], row["rpc"])
        for row in calls.annotate(
            day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone())
        )
        .values("day")
        .annotate(total=Count("id", distinct=True), rpc=Count("id", filter=rpc, distinct=True))
    }
    days = scope.days()
    total = sum(t for t, _r in counts.values())
    reached = sum(r for _t, r in counts.values())
    return Chart(
        key="right-party",
        title=_("Right-party contact rate"),
        kind="line",
        labels=[d.isoformat() for d in days],
        datasets=[
            {
                "label": _("right-party contacts / calls"),
                "data": [_ratio(counts.get(d, (0, 0))[1], counts.get(d, (0, 0))[0]) for d in days],
            }
        ],
        header=[_("day"), _("calls"), _("right-party contacts"), _("rate")],
        rows=[[d.isoformat(), t, r, _ratio(r, t)] for d, (t, r) in sorted(counts.items())],
        summary=_("%(reached)d of %(total)d calls reached the debtor")
        % {"reached": reached, "total": total},
        percent=True,
    )


def chart_promises(scope: Scope) -> Chart:
    """Share of promises falling due in the period that were kept (of those decided)."""
    from django.db.models import Count

    promises = PromiseToPay.objects.filter(
        Q(promised_date__gte=scope.start, promised_date__lte=scope.end)
        & _loan_scope(scope, "loan__")
    )
    if scope.collector_id:
        promises = promises.filter(created_by_id=scope.collector_id)
    counts = {
        row["promised_date"]: row
        for row in promises.values("promised_date").annotate(
            kept=Count("id", filter=Q(status="kept")),
            broken=Count("id", filter=Q(status="broken")),
            pending=Count("id", filter=Q(status="pending")),
        )
    }
    days = scope.days()
    kept = sum(r["kept"] for r in counts.values())
    broken = sum(r["broken"] for r in counts.values())
    return Chart(
        key="promises",
        title=_("Promises kept"),
        kind="bar",
        labels=[d.isoformat() for d in days],
        datasets=[
            {"label": _("kept"), "data": [counts.get(d, {}).get("kept", 0) for d in days]},
            {"label": _("broken"), "data": [counts.get(d, {}).get("broken", 0) for d in days]},
            {"label": _("pending"), "data": [counts.get(d, {}).get("pending", 0) for d in days]},
        ],
        header=[_("promised date"), _("kept"), _("broken"), _("pending")],
        rows=[
            [d.isoformat(), r["kept"], r["broken"], r["pending"]] for d, r in sorted(counts.items())
        ],
        summary=_("Promise kept rate: %(rate)s")
        % {"rate": f"{kept / (kept + broken) * 100:.1f}%" if kept + broken else "—"},
        stacked=True,
    )


DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "91+", "closed")


def _bucket_sql(due: str, on: str, status: str) -> str:
    return f"""CASE WHEN {status} IN ('paid', 'charged_off') THEN 'closed'
        WHEN {due} IS NULL OR {due} >= {on} THEN 'current'
        WHEN {on} - {due} <= 30 THEN '1-30'
        WHEN {on} - {due} <= 60 THEN '31-60'
        WHEN {on} - {due} <= 90 THEN '61-90'
        ELSE '91+' END"""


def chart_roll_rates(scope: Scope) -> Chart:
    """How loans moved between days-past-due buckets from the start of the period to its end,
    reconstructed from the loans' history (set-based, one statement)."""
    from django.db import connection

    start, end = scope.bounds()
    ids_sql = ""
    loan_ids = Loan.objects.filter(_loan_scope(scope)).values("id")
    inner, inner_params = loan_ids.query.sql_with_params()
    if scope.collector_id or scope.strategy_id:
        ids_sql = f"AND h.id IN ({inner})"
    # Dates from the validated scope (date objects), written as SQL date literals.
    d0, d1 = f"DATE '{scope.start.isoformat()}'", f"DATE '{scope.end.isoformat()}'"
    sql = f"""
        WITH before AS (
          SELECT DISTINCT ON (h.id) h.id, h.oldest_unpaid_due_date AS due, h.status
            FROM debtors_historicalloan h WHERE h.history_date < %s {ids_sql}
           ORDER BY h.id, h.history_date DESC, h.history_id DESC),
        after AS (
          SELECT DISTINCT ON (h.id) h.id, h.oldest_unpaid_due_date AS due, h.status
            FROM debtors_historicalloan h WHERE h.history_date < %s {ids_sql}
           ORDER BY h.id, h.history_date DESC, h.history_id DESC)
        SELECT {_bucket_sql("b_due", d0, "b_status")} AS from_bucket,
               {_bucket_sql("a_due", d1, "a_status")} AS to_bucket,
               COUNT(*)
          FROM (
            -- A loan loaded in bulk has no history: its present state stands for both ends.
            SELECT CASE WHEN b.id IS NULL THEN h.oldest_unpaid_due_date ELSE b.due END AS b_due,
                   CASE WHEN b.id IS NULL THEN h.status ELSE b.status END AS b_status,
                   CASE WHEN a.id IS NULL THEN h.oldest_unpaid_due_date ELSE a.due END AS a_due,
                   CASE WHEN a.id IS NULL THEN h.status ELSE a.status END AS a_status
              FROM debtors_loan h
              LEFT JOIN before b ON b.id = h.id
              LEFT JOIN after a ON a.id = h.id
             WHERE h.created_at < %s {ids_sql}
               AND (b.id IS NOT NULL OR a.id IS NULL)
          ) states
         GROUP BY 1, 2
    """  # noqa: S608 - only placeholders and our own SQL are interpolated
    args = [
        start,
        *(inner_params if ids_sql else ()),
        end,
        *(inner_params if ids_sql else ()),
        start,
        *(inner_params if ids_sql else ()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        matrix = {(f, t): n for f, t, n in cursor.fetchall()}
    totals = {f: sum(n for (ff, _t), n in matrix.items() if ff == f) for f in DPD_BUCKETS}
    return Chart(
        key="roll-rates",
        title=_("Roll rates between days-past-due buckets"),
        kind="bar",
        labels=[str(f) for f in DPD_BUCKETS[:-1]],
        datasets=[
            {
                "label": _("to %(bucket)s") % {"bucket": t},
                "data": [_ratio(matrix.get((f, t), 0), totals.get(f)) for f in DPD_BUCKETS[:-1]],
            }
            for t in DPD_BUCKETS
        ],
        header=[_("from bucket"), _("to bucket"), _("loans"), _("share")],
        rows=[
            [f, t, n, _ratio(n, totals.get(f))]
            for (f, t), n in sorted(
                matrix.items(),
                key=lambda i: (DPD_BUCKETS.index(i[0][0]), DPD_BUCKETS.index(i[0][1])),
            )
        ],
        summary=_("Loans in each bucket at %(start)s, by bucket at %(end)s")
        % {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        stacked=True,
        percent=True,
    )


def chart_reminders(scope: Scope) -> Chart:
    """Reminder outcomes by stage and channel for reminders scheduled in the period."""
    from django.db.models import Count

    from .models import ReminderStatus

    reminders = Reminder.objects.filter(
        scheduled_for__gte=scope.start, scheduled_for__lte=scope.end
    )
    if scope.strategy_id:
        reminders = reminders.filter(stage__strategy_id=scope.strategy_id)
    if scope.collector_id:
        reminders = reminders.filter(debtor__case__assigned_to_id=scope.collector_id)
    rows = list(
        reminders.values("stage_id", "stage__name", "stage__strategy__name", "channel", "status")
        .annotate(n=Count("id"))
        .order_by("stage__strategy__name", "stage__offset_days", "channel")
    )
    groups: dict[tuple, dict[str, int]] = {}
    for r in rows:
        key = (r["stage__strategy__name"], r["stage__name"], r["channel"])
        groups.setdefault(key, {})[r["status"]] = r["n"]
    labels = [f"{strategy} · {stage} · {channel}" for strategy, stage, channel in groups]
    statuses = [s for s in ReminderStatus.values if any(s in g for g in groups.values())]
    status_labels = dict(ReminderStatus.choices)
    return Chart(
        key="reminders",
        title=_("Reminder outcomes by stage and channel"),
        kind="bar",
        labels=labels,
        datasets=[
            {"label": str(status_labels[s]), "data": [g.get(s, 0) for g in groups.values()]}
            for s in statuses
        ],
        header=[_("strategy"), _("stage"), _("channel"), _("status"), _("reminders")],
        rows=[
            [r["stage__strategy__name"], r["stage__name"], r["channel"], r["status"], r["n"]]
            for r in rows
        ],
        stacked=True,
    )


CHARTS = {
    "recovery": chart_recovery,
    "right-party": chart_right_party,
    "promises": chart_promises,
    "roll-rates": chart_roll_rates,
    "reminders": chart_reminders,
}
