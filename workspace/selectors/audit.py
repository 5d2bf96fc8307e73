"""Audit history: readable field-by-field differences of any audited model, and the audit
pages of a debtor, a loan, a plan and a policy."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from cases.models import Callback, Case, Note
from compliance.models import (
    ContactPolicy,
)
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
from selfservice.models import PortalEvent

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
    return changes_from_rows(model, rows, limit=limit)


def changes_from_rows(model, rows: list, *, limit: int) -> list[Change]:
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


def historical_model(model):
    """The historical model of ``model``, read without going through ``model.history`` (that
    descriptor builds a new manager class on every access)."""
    return vars(model)["history"].model


# What the case timeline shows of the history: (model, the condition on its historical table
# in SQL, the same as an ORM lookup).


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
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
