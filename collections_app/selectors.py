"""Reads of the collectors' workspace: the queue, the case page, the timeline, audit history.

Every list is scoped through ``collections_app.access`` and runs a fixed number of queries
whatever the size of the portfolio (the tests assert it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance import engine
from compliance.gate import HOLD_FLAGS, Decision
from compliance.models import (
    ContactAttempt,
    ContactDecision,
    ContactPolicy,
    DebtorContactPreference,
)
from compliance.reasons import reason_label
from compliance.selectors import policy_rules
from compliance.zones import candidate_zones
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
from .models import Callback, CallDisposition, Case, Note

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
        cases = cases.filter(Q(priority__lt=priority) | Q(priority=priority, id__lt=pk))
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


def _policy_for(debtor: Debtor, policies: list[ContactPolicy]) -> ContactPolicy | None:
    """The same choice as ``compliance.selectors.policy_for_debtor``, over preloaded policies."""
    best, best_rank = None, 9
    for policy in policies:
        if policy.is_default:
            rank = 2
        elif policy.country == debtor.country and policy.region in ("", debtor.region):
            rank = 0 if policy.region and policy.region == debtor.region else 1
        else:
            continue
        if rank < best_rank:
            best, best_rank = policy, rank
    return best


def contactability(
    debtors: Iterable[Debtor], *, channel: str, at: dt.datetime
) -> dict[int, Decision | None]:
    """May each debtor be contacted on ``channel`` at ``at``? A dry run, writing nothing.

    The rules engine is the gate's own (``compliance.engine.evaluate``); only the reading is
    batched, in five queries for the whole page instead of five per debtor. ``None`` means the
    answer is unknown (no policy, or no time zone). The gate decides again when the contact
    is actually requested.
    """
    debtors = list(debtors)
    if not debtors:
        return {}
    ids = [d.pk for d in debtors]
    policies = list(ContactPolicy.objects.filter(is_current=True, is_active=True))
    chosen = {d.pk: _policy_for(d, policies) for d in debtors}
    rules_by_debtor = {
        pk: (policy_rules(p).get(channel) if p is not None else None) for pk, p in chosen.items()
    }
    points: dict[int, list[ContactPoint]] = defaultdict(list)
    for cp in ContactPoint.objects.filter(debtor_id__in=ids).only(
        "id", "debtor_id", "kind", "owner", "status", "value", "country", "timezone"
    ):
        points[cp.debtor_id].append(cp)
    consents: dict[int, list[ChannelConsent]] = defaultdict(list)
    for consent in ChannelConsent.objects.filter(
        debtor_id__in=ids, channel=channel, contact_point__isnull=True
    ):
        consents[consent.debtor_id].append(consent)
    inconvenient: dict[int, list[engine.InconvenientTime]] = defaultdict(list)
    for p in DebtorContactPreference.objects.filter(
        debtor_id__in=ids, kind=DebtorContactPreference.Kind.INCONVENIENT
    ).filter(Q(channel="") | Q(channel=channel)):
        inconvenient[p.debtor_id].append(
            engine.InconvenientTime(
                start=p.start_time, end=p.end_time, weekdays=frozenset(p.weekdays)
            )
        )
    lookbacks = [r.lookback() for r in rules_by_debtor.values() if r is not None]
    counted = set().union(*(r.counted_channels for r in rules_by_debtor.values() if r)) or {channel}
    history: dict[int, list[engine.Fact]] = defaultdict(list)
    if lookbacks:
        for row in ContactAttempt.objects.filter(
            debtor_id__in=ids, channel__in=sorted(counted), occurred_at__gte=at - max(lookbacks)
        ).values_list(
            "debtor_id",
            "channel",
            "direction",
            "outcome",
            "occurred_at",
            "loan_id",
            "contact_point_id",
        ):
            debtor_id, c, d, o, when, lo, p = row
            history[debtor_id].append(
                engine.Fact(
                    channel=c,
                    direction=d,
                    outcome=o,
                    occurred_at=when,
                    loan_id=lo,
                    contact_point_id=p,
                )
            )
    answers: dict[int, Decision | None] = {}
    for debtor in debtors:
        policy = chosen[debtor.pk]
        if policy is None:
            answers[debtor.pk] = None
            continue
        try:
            zones = candidate_zones(debtor, points[debtor.pk])
        except Exception:  # noqa: BLE001 - no usable zone: the gate will say so when asked
            answers[debtor.pk] = None
            continue
        debtor_consents = consents[debtor.pk]
        situation = engine.Situation(
            channel=channel,
            zones=tuple(zones),
            country=debtor.country,
            region=debtor.region,
            holds=frozenset(code for flag, code in HOLD_FLAGS if getattr(debtor, flag)),
            hardship_pause_until=debtor.hardship_pause_until,
            own_phones=tuple(
                engine.Point(id=cp.pk, kind=cp.kind, owner=cp.owner, status=cp.status)
                for cp in points[debtor.pk]
                if cp.owner == ContactPoint.Owner.SELF and cp.kind in ContactPoint.PHONE_KINDS
            ),
            opted_out=any(c.is_opted_out for c in debtor_consents),
            has_consent=any(c.has_consent for c in debtor_consents),
            inconvenient=tuple(inconvenient[debtor.pk]),
            history=tuple(history[debtor.pk]),
        )
        verdict = engine.evaluate(rules_by_debtor[debtor.pk], situation, at)
        answers[debtor.pk] = Decision(
            allowed=verdict.allowed,
            reasons=verdict.reasons,
            next_allowed_at=verdict.next_allowed_at,
            timezones=list(zones),
            policy_slug=policy.slug,
            policy_version=policy.version,
        )
    return answers


def reasons_text(codes: Iterable[str]) -> list[str]:
    return [str(reason_label(code)) for code in codes]


# --- The case page --------------------------------------------------------------------------


def case_loans(debtor: Debtor) -> list[Loan]:
    """The debtor's loans with installments, payments, plans (with installments) and promises:
    five queries whatever their number."""
    return list(
        Loan.objects.filter(debtor=debtor)
        .order_by("opened_on", "id")
        .prefetch_related(
            Prefetch("installments", queryset=Installment.objects.order_by("due_date", "sequence")),
            Prefetch("payments", queryset=Payment.objects.order_by("-received_at")),
            Prefetch(
                "plans",
                queryset=RepaymentPlan.objects.order_by("-created_at").prefetch_related(
                    Prefetch(
                        "installments",
                        queryset=PlanInstallment.objects.order_by("due_date", "sequence"),
                    )
                ),
            ),
            Prefetch("promises", queryset=PromiseToPay.objects.order_by("-promised_date")),
        )
    )


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


def timeline(debtor: Debtor, *, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """Everything that happened to the debtor, newest first, from a fixed set of queries
    (each source is cut to ``limit`` rows before they are merged)."""
    entries: list[TimelineEntry] = []
    dispositions = {
        d.attempt_id: d
        for d in CallDisposition.objects.filter(debtor=debtor)
        .select_related("code")
        .order_by("-recorded_at")[:limit]
    }
    for a in ContactAttempt.objects.filter(debtor=debtor).order_by("-occurred_at", "-id")[:limit]:
        disposition = dispositions.get(a.pk)
        detail = disposition.code.display_label if disposition else a.get_outcome_display()
        if disposition and disposition.note:
            detail = f"{detail} — {disposition.note}"
        if a.breach:
            detail = f"{detail} · " + _("breach: %(r)s") % {
                "r": ", ".join(reasons_text(a.breach_reasons))
            }
        entries.append(
            TimelineEntry(
                at=a.occurred_at,
                kind="attempt",
                title=_("%(channel)s %(direction)s")
                % {
                    "channel": a.get_channel_display(),
                    "direction": a.get_direction_display().lower(),
                },
                detail=detail,
                actor=a.actor_label,
                tone="bad" if a.breach else ("good" if a.outcome == "conversation" else ""),
            )
        )
    for d in ContactDecision.objects.filter(debtor_id=debtor.pk).order_by("-decided_at", "-id")[
        :limit
    ]:
        if d.allowed:
            title = _("Gate allowed %(channel)s") % {"channel": d.get_channel_display()}
        else:
            title = _("Gate blocked %(channel)s") % {"channel": d.get_channel_display()}
        entries.append(
            TimelineEntry(
                at=d.decided_at,
                kind="decision",
                title=title,
                detail=", ".join(reasons_text(d.reasons)),
                actor=d.actor_label,
                tone="" if d.allowed else "warn",
            )
        )
    for n in (
        Note.objects.filter(debtor=debtor).select_related("author").order_by("-created_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                at=n.created_at,
                kind="note",
                title=_("Note"),
                detail=n.body,
                actor=n.author.get_username(),
            )
        )
    for c in (
        Callback.objects.filter(debtor=debtor)
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                at=c.created_at,
                kind="callback",
                title=_("Callback scheduled (%(status)s)") % {"status": c.get_status_display()},
                detail=c.note,
                actor=c.created_by.get_username(),
                changes=[
                    (_("due at"), "", timezone.localtime(c.due_at).strftime("%Y-%m-%d %H:%M"))
                ],
            )
        )
    for p in (
        Payment.objects.filter(loan__debtor=debtor)
        .select_related("loan")
        .order_by("-received_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                at=p.received_at,
                kind="payment",
                title=_("Payment %(amount)s %(currency)s on %(loan)s")
                % {"amount": p.amount.normalize(), "currency": p.loan.currency, "loan": p.loan},
                detail=p.get_method_display(),
                tone="good",
            )
        )
    entries.extend(_history_entries(debtor, limit=limit))
    entries.extend(_reminder_entries(debtor, limit=limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[: limit * 2]


def _reminder_entries(debtor: Debtor, *, limit: int) -> list[TimelineEntry]:
    """Reminders sent or held for the debtor, once the reminders models exist."""
    try:
        from . import models as workflow_models

        Reminder = workflow_models.Reminder  # noqa: N806
    except AttributeError:
        return []
    rows = Reminder.objects.filter(loan__debtor_id=debtor.pk).order_by("-id")[:limit]
    out = []
    for r in rows:
        when = (
            getattr(r, "sent_at", None)
            or getattr(r, "updated_at", None)
            or getattr(r, "created_at", None)
        )
        if when is None:
            continue
        status = r.get_status_display() if hasattr(r, "get_status_display") else ""
        channel = r.get_channel_display() if hasattr(r, "get_channel_display") else ""
        out.append(
            TimelineEntry(
                at=when,
                kind="reminder",
                title=_("Reminder %(channel)s") % {"channel": channel},
                detail=status,
                actor=_("system"),
            )
        )
    return out


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


def _display(model, name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        f = model._meta.get_field(name)
    except Exception:  # noqa: BLE001
        return str(value)
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


def history_changes(model, queryset, *, limit: int = 100) -> list[Change]:
    """The history rows of ``queryset`` (a historical model's queryset), newest first, each with
    its differences from the previous version of the same object. One query."""
    rows = list(queryset.order_by("-history_date", "-history_id")[: limit + 1])
    rows.reverse()
    names = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in SKIPPED_FIELDS and f.name not in SKIPPED_FIELDS
    ]
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
                    _field_label(model, n.removesuffix("_id")),
                    "",
                    _display(model, n, getattr(row, n)),
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
                        label = _field_label(model, n.removesuffix("_id"))
                        diffs.append((label, _display(model, n, old), _display(model, n, new)))
            if not diffs and prev is not None:
                continue
        changes.append(
            Change(
                at=row.history_date,
                actor=row.actor_label or "",
                action=action,
                object_label=f"{model._meta.verbose_name} #{row.id}",
                diffs=diffs,
            )
        )
    changes.reverse()
    return changes


def _history_entries(debtor: Debtor, *, limit: int) -> list[TimelineEntry]:
    sources = [
        (Debtor, Debtor.history.filter(id=debtor.pk)),
        (ContactPoint, ContactPoint.history.filter(debtor_id=debtor.pk)),
        (RepaymentPlan, RepaymentPlan.history.filter(loan__debtor_id=debtor.pk)),
        (PromiseToPay, PromiseToPay.history.filter(loan__debtor_id=debtor.pk)),
        (Case, Case.history.filter(debtor_id=debtor.pk)),
    ]
    out = []
    for model, qs in sources:
        for change in history_changes(model, qs, limit=limit):
            out.append(
                TimelineEntry(
                    at=change.at,
                    kind="change",
                    title=f"{change.object_label} {change.action}",
                    actor=change.actor,
                    changes=change.diffs,
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
