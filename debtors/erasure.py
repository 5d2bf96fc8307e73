"""Erasing a debtor's personal data: past the retention period, or on the debtor's request.

Each app names the columns of its models that can hold personal data, with ``personal_data``
(at the bottom of its ``models.py``); ``debtor_erase`` and ``erase_personal_data`` blank them,
set-based, in the model's table and in its history table. What stays: the debtor's reference,
loans, installments, payments, plans, promises, cases, the decision ledger (which hashes ids,
never personal data, so ``verify_ledger`` still passes) and an ``Erasure`` record.

History, contact attempts and portal events are append-only in PostgreSQL; their trigger
allows exactly one change to a personal column: to empty (``collections_app`` 0012). So an
insider who can erase cannot rewrite.

Contract of ``debtor_erase``: refused (``ErasureRefused``, with a message naming why) while the
debtor is under legal hold or any loan is still being collected; a debtor already erased is
left as it is; runs in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import Actor, actor_label
from .models import ConsentEvent, ContactPoint, Debtor, Erasure, Loan

# The live debtor row's name once erased; history rows are left empty.
ERASED_NAME = "[erased]"


class ErasureRefused(Exception):
    """The debtor's data must be kept: the message says why."""


@dataclass(frozen=True)
class PersonalData:
    model: type[models.Model]
    fields: tuple[str, ...]
    # The lookup from this model to the debtor's id, e.g. ``debtor_id`` or ``consent__debtor_id``.
    debtor: str = "debtor_id"
    # Or the rows of these debtors, when one lookup cannot say it.
    select: Callable[[list[int]], models.QuerySet] | None = None
    # File fields whose stored file is deleted before the name is blanked.
    files: tuple[str, ...] = ()
    # False for models without history (or whose history holds none of these fields).
    history: bool = True

    def rows(self, debtor_ids: list[int]) -> models.QuerySet:
        if self.select is not None:
            return self.select(debtor_ids)
        return self.model.objects.filter(**{f"{self.debtor}__in": debtor_ids})

    def history_rows(self, debtor_ids: list[int]) -> models.QuerySet | None:
        if not self.history or not hasattr(self.model, "history"):
            return None
        return self.model.history.model.objects.filter(**{f"{self.debtor}__in": debtor_ids})


_REGISTRY: list[PersonalData] = []


def personal_data(
    model: type[models.Model],
    *fields: str,
    debtor: str = "debtor_id",
    select: Callable[[list[int]], models.QuerySet] | None = None,
    files: Sequence[str] = (),
    history: bool = True,
) -> None:
    """Name ``fields`` of ``model`` as personal data, erased with the debtor they belong to."""
    _REGISTRY.append(PersonalData(model, tuple(fields), debtor, select, tuple(files), history))


def _empty(model: type[models.Model], name: str):
    return None if model._meta.get_field(name).null else ""


def erase_personal_data(debtor_ids: Sequence[int]) -> dict[str, int]:
    """Blank every registered personal column of these debtors, and of their history; return
    the rows changed per table. Callers hold the transaction.

    Every set of rows is found first, then changed: some are found by a value another entry
    erases (an inbound SMS by the debtor's number)."""
    ids = list(debtor_ids)
    found = []
    for entry in _REGISTRY:
        history = entry.history_rows(ids)
        found.append(
            (
                entry,
                list(entry.rows(ids).values_list("pk", flat=True)),
                None if history is None else list(history.values_list("pk", flat=True)),
            )
        )
    counts: dict[str, int] = {}
    for entry, live, historical in found:
        rows = entry.model.objects.filter(pk__in=live)
        for field in entry.files:
            for name in rows.exclude(**{field: ""}).values_list(field, flat=True):
                default_storage.delete(name)
        values = {field: _empty(entry.model, field) for field in entry.fields}
        values.update(_live_overrides(entry.model))
        counts[entry.model._meta.db_table] = rows.update(**values)
        if historical is not None:
            model = entry.model.history.model
            counts[model._meta.db_table] = model.objects.filter(pk__in=historical).update(
                **{field: _empty(model, field) for field in entry.fields}
            )
    return counts


def _live_overrides(model: type[models.Model]) -> dict:
    """Live rows that must stay valid: the debtor keeps a name, contact points stay unique per
    debtor and are never used again."""
    if model is Debtor:
        return {"full_name": ERASED_NAME, "national_id_index": "", "erased_at": timezone.now()}
    if model is ContactPoint:
        return {
            "value": Concat(Value("erased-"), models.F("id"), output_field=models.CharField()),
            "status": ContactPoint.Status.INVALID,
        }
    return {}


def erasure_blockers(debtor) -> list[str]:
    """Why ``debtor``'s personal data must be kept, in words for the person asking."""
    reasons = []
    if debtor.legal_hold:
        reasons.append(
            _("The debtor is under legal hold: %(reason)s")
            % {"reason": debtor.legal_hold_reason or _("no reason given")}
        )
    if debtor.loans.exclude(status__in=Loan.CLOSED_STATUSES).exists():
        reasons.append(_("A loan is still being collected; close it first."))
    return reasons


@transaction.atomic
def debtor_erase(
    *, debtor, actor: Actor, reason: str, now: dt.datetime | None = None
) -> Erasure | None:
    """Erase ``debtor``'s personal data and record it; None when it was already erased."""
    debtor = Debtor.objects.select_for_update().get(pk=debtor.pk)
    if debtor.erased_at is not None:
        return None
    blockers = erasure_blockers(debtor)
    if blockers:
        raise ErasureRefused(" ".join(blockers))
    counts = erase_personal_data([debtor.pk])
    return Erasure.objects.create(
        debtor=debtor,
        reason=reason,
        actor_label=actor_label(actor),
        erased_at=now or timezone.now(),
        counts=counts,
    )


def debtors_erase(
    debtor_ids: Iterable[int], *, actor: Actor, reason: str, now: dt.datetime | None = None
) -> int:
    """Erase each of these debtors that may be erased; return how many were."""
    erased = 0
    for debtor_id in debtor_ids:
        try:
            if debtor_erase(debtor=Debtor(pk=debtor_id), actor=actor, reason=reason, now=now):
                erased += 1
        except ErasureRefused:
            continue
    return erased


personal_data(
    Debtor,
    "full_name",
    "national_id",
    "date_of_birth",
    "region",
    "dispute_reason",
    "bankruptcy_reason",
    "deceased_reason",
    "cease_communication_reason",
    "hardship_reason",
    "legal_hold_reason",
    debtor="id",
)
personal_data(ContactPoint, "value", "label", "owner_name")
personal_data(ConsentEvent, "source", "evidence", debtor="consent__debtor_id", history=False)
