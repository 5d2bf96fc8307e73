"""Audit history: readable field-by-field differences of any audited model, and the audit
pages of a debtor, a loan, a plan and a policy.

Each change has its kinds (``KINDS``): the kind of what changed (a loan, a plan...) and, where
it touched them, a status, the assignment or a hold; a page can be narrowed to one kind and
one actor. An installment schedule written in one go (a loan's or a plan's installments
created together by one actor) is one change, not one per installment.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cases.models import Callback, Case, Note
from compliance.models import (
    ContactPolicy,
)
from compliance.presets import shipped_text
from debtors.models import (
    Channel,
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
from debtors.products import product_label
from selfservice.models import PortalEvent
from workspace import formats

# --- History: readable field-by-field differences --------------------------------------------

SKIPPED_FIELDS = {
    "id",
    # The search key of the national id (which shows, masked): a hash says nothing to a reader.
    "national_id_index",
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


# Where a payment was reported from, for the sources the product itself writes; a lender's own
# systems are named as they name themselves.
PAYMENT_SOURCES = {"manual": gettext_lazy("entered by hand")}


def _display(model, name: str, value: Any, users: dict | None = None) -> str:
    if value is None or value == "":
        return "—"
    f = next((f for f in model._meta.concrete_fields if f.attname == name), None)
    if f is None:
        return str(value)
    if users is not None and f.is_relation and f.related_model is get_user_model():
        return users.get(value, str(value))
    if isinstance(value, Decimal):
        # Amounts in the page's one format (their currency is the loan's, named by the row).
        return formats.money(value)
    if model is Loan and name == "product":
        return product_label(value)
    if model is ContactPolicy and name in ("name", "source"):
        return shipped_text(value)
    if model is Payment and name == "source":
        return str(PAYMENT_SOURCES.get(value, value))
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        return formats.when(value)
    if isinstance(value, dt.date):
        return formats.day(value)
    if name == "national_id" or (name == "value" and model is ContactPoint):
        # Audit pages never unmask: revealing is its own audited action.
        return mask(str(value))
    return str(value)


# --- Kinds of change ------------------------------------------------------------------------

KINDS = (
    ("debtor", gettext_lazy("Debtor details")),
    ("hold", gettext_lazy("Holds")),
    ("contact_point", gettext_lazy("Contact points and consents")),
    ("case", gettext_lazy("Case, notes and callbacks")),
    ("status", gettext_lazy("Statuses")),
    ("assignment", gettext_lazy("Assignment")),
    ("loan", gettext_lazy("Loans and installments")),
    ("schedule", gettext_lazy("Installment schedules")),
    ("payment", gettext_lazy("Payments")),
    ("plan", gettext_lazy("Repayment plans")),
    ("promise", gettext_lazy("Promises")),
    ("portal", gettext_lazy("Self-service portal")),
    ("policy", gettext_lazy("Policy versions")),
)

# Every change of a model is of the model's kind ...
MODEL_KINDS = {
    Debtor: "debtor",
    ContactPoint: "contact_point",
    ChannelConsent: "contact_point",
    Case: "case",
    Note: "case",
    Callback: "case",
    Loan: "loan",
    Installment: "loan",
    Payment: "payment",
    RepaymentPlan: "plan",
    PlanInstallment: "plan",
    PromiseToPay: "promise",
    PortalEvent: "portal",
    ContactPolicy: "policy",
}
# ... and, when it touched one of these fields, of the field's kind too.
HOLD_FIELDS = (
    *Debtor.HOLD_FLAGS,
    "dispute_reason",
    "bankruptcy_reason",
    "deceased_reason",
    "cease_communication_reason",
    "hardship_pause_until",
    "hardship_reason",
)
FIELD_KINDS = {
    Debtor: dict.fromkeys(HOLD_FIELDS, "hold"),
    Case: {"status": "status", "closed_reason": "status", "assigned_to_id": "assignment"},
    ContactPoint: {"status": "status"},
    Loan: {"status": "status"},
    RepaymentPlan: {"status": "status"},
    PromiseToPay: {"status": "status"},
}


def kinds_of(model, names) -> frozenset[str]:
    """The kinds of a change of ``model`` that touched the fields ``names`` (attnames)."""
    by_field = FIELD_KINDS.get(model, {})
    kinds = {by_field[n] for n in names if n in by_field}
    if model in MODEL_KINDS:
        kinds.add(MODEL_KINDS[model])
    return frozenset(kinds)


@dataclass
class Change:
    at: dt.datetime
    actor: str
    action: str  # created, changed, deleted
    object_label: str
    diffs: list[tuple[str, str, str]]
    created: bool = False
    kinds: frozenset[str] = frozenset()
    # What a change with no field differences to show amounts to (a schedule written).
    summary: str = ""


def present_kinds(changes: list[Change]) -> list[tuple[str, str]]:
    """The kinds (value, label) some of ``changes`` are of, in ``KINDS`` order."""
    found = set().union(*(c.kinds for c in changes)) if changes else set()
    return [(value, label) for value, label in KINDS if value in found]


def present_actors(changes: list[Change]) -> list[str]:
    return sorted({c.actor for c in changes if c.actor})


def narrowed(changes: list[Change], *, kind: str = "", actor: str = "") -> list[Change]:
    """The changes of ``kind`` made by ``actor`` (empty: any)."""
    return [c for c in changes if (not kind or kind in c.kinds) and (not actor or c.actor == actor)]


# --- History: one change per version, and a schedule written in one go as one -----------------

# The installments whose creation together is one schedule write, and what they belong to.
SCHEDULE_PARENTS = {Installment: "loan_id", PlanInstallment: "plan_id"}
# The services write a schedule in one transaction, one insert after the other: its rows are
# milliseconds apart. Rows of one parent and actor created within this of the first are one.
SCHEDULE_WINDOW = dt.timedelta(seconds=2)


def schedule_writes(rows: list, parent: str) -> list[list]:
    """The created rows of ``rows`` in groups written in one go: same parent (loan or plan),
    same actor, within ``SCHEDULE_WINDOW`` of the group's first row."""
    created = sorted(
        (r for r in rows if r.history_type == "+"),
        key=lambda r: (getattr(r, parent), r.actor_label, r.history_date, r.history_id),
    )
    groups: list[list] = []
    for row in created:
        first = groups[-1][0] if groups else None
        if (
            first is not None
            and getattr(first, parent) == getattr(row, parent)
            and first.actor_label == row.actor_label
            and row.history_date - first.history_date <= SCHEDULE_WINDOW
        ):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _schedule_owners(model, ids: set[int]) -> dict[int, tuple[str, str]]:
    """For each parent id: how to name it and its currency (one query)."""
    if model is Installment:
        loans = Loan.objects.filter(pk__in=ids).values_list("pk", "external_ref", "currency")
        return {
            pk: (_("Installment schedule of loan %(ref)s") % {"ref": ref}, currency)
            for pk, ref, currency in loans
        }
    plans = RepaymentPlan.objects.filter(pk__in=ids).values_list("pk", "loan__currency")
    return {
        pk: (_("Installment schedule of plan #%(id)d") % {"id": pk}, currency)
        for pk, currency in plans
    }


def _schedule_change(model, group: list, owner: tuple[str, str]) -> Change:
    label, currency = owner
    total = sum((row.amount_due for row in group), Decimal("0"))
    return Change(
        at=group[0].history_date,
        actor=group[0].actor_label or "",
        action=_("written"),
        object_label=label,
        diffs=[],
        created=True,
        kinds=kinds_of(model, ()) | {"schedule"},
        summary=ngettext(
            "%(n)d installment, total %(total)s",
            "%(n)d installments, total %(total)s",
            len(group),
        )
        % {"n": len(group), "total": formats.money(total, currency)},
    )


def history_changes(model, queryset, *, limit: int = 100) -> list[Change]:
    """The history rows of ``queryset`` (a historical model's queryset), newest first, each with
    its differences from the previous version of the same object; a schedule's installments
    created together are one change. One query (two with a schedule)."""
    rows = list(queryset.order_by("-history_date", "-history_id")[: limit + 1])
    parent = SCHEDULE_PARENTS.get(model)
    if parent is None:
        return changes_from_rows(model, rows, limit=limit)
    groups = schedule_writes(rows[:limit], parent)
    owners = _schedule_owners(model, {getattr(g[0], parent) for g in groups}) if groups else {}
    changes = changes_from_rows(
        model, rows, limit=limit, skip={row.history_id for g in groups for row in g}
    )
    changes += [
        _schedule_change(model, g, owners.get(getattr(g[0], parent), ("", ""))) for g in groups
    ]
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes


def changes_from_rows(
    model, rows: list, *, limit: int, skip: set[int] = frozenset()
) -> list[Change]:
    """``history_changes`` over rows already read: newest first, at most ``limit + 1``. The
    rows whose ``history_id`` is in ``skip`` are still compared with, but not shown."""
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
        if (index == 0 and len(rows) > limit) or row.history_id in skip:
            continue  # only there to diff the next one against
        touched: list[str] = []
        if row.history_type == "+":
            action = _("created")
            touched = [n for n in names if getattr(row, n) not in (None, "", False)]
            diffs = [(labels[n], "", _display(model, n, getattr(row, n), users)) for n in touched]
        elif row.history_type == "-":
            action, diffs = _("deleted"), []
        else:
            action = _("changed")
            if prev is not None:
                touched = [n for n in names if getattr(prev, n) != getattr(row, n)]
            diffs = [
                (
                    labels[n],
                    _display(model, n, getattr(prev, n), users),
                    _display(model, n, getattr(row, n), users),
                )
                for n in touched
            ]
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
                kinds=kinds_of(model, touched),
            )
        )
    changes.reverse()
    return changes


def historical_model(model):
    """The historical model of ``model``, read without going through ``model.history`` (that
    descriptor builds a new manager class on every access)."""
    return vars(model)["history"].model


# What the case timeline shows of the history: (model, the condition on its historical table
# in SQL, the same as an ORM lookup).


def debtor_audit(debtor: Debtor, *, limit: int = 200) -> list[Change]:
    """The changes to the debtor, its contact points, loans, installments, plans, promises
    and case, newest first (the newest ``limit`` history rows of each; the page narrows them
    with ``narrowed`` and shows the newest)."""
    sources = [
        (Debtor, Debtor.history.filter(id=debtor.pk)),
        (ContactPoint, ContactPoint.history.filter(debtor_id=debtor.pk)),
        (ChannelConsent, ChannelConsent.history.filter(debtor_id=debtor.pk)),
        (Loan, Loan.history.filter(debtor_id=debtor.pk)),
        (Installment, Installment.history.filter(loan__debtor_id=debtor.pk)),
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
    return changes


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
    return changes


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
                        _("rules: %(channel)s")
                        % {
                            "channel": Channel(channel).label
                            if channel in Channel.values
                            else channel
                        },
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
                kinds=frozenset({"policy"}),
            )
        )
        prev = v
    changes.reverse()
    return changes


def _compact(value) -> str:
    """A channel's rules as the policy editor writes them (JSON: the same in any language)."""
    if value is None:
        return "—"
    return format_html("<code>{}</code>", json.dumps(value, ensure_ascii=False, sort_keys=True))
