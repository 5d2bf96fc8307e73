"""What a case does when its debtor's ledger changes: one entry point, in the caller's
transaction, for every path (the API, an import, the case page, the portal, a task).

In order: a closed case reopens for a new loan with a balance; every status follows its facts
(``cases.lifecycle``); the queue facts and priority are recomputed (``cases.priorities``); a
case without an active collector is dealt out by the rules (``cases.assignment``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cases.assignment import cases_assign
from cases.lifecycle import cases_reconcile, cases_reopen
from cases.priorities import case_priorities_refresh
from debtors.audit import Actor


@transaction.atomic
def cases_follow_ledger(
    *,
    debtor_ids: Iterable[int],
    new_loan_ids: Iterable[int] = (),
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> None:
    now = now or timezone.now()
    ids = sorted(set(debtor_ids))
    if not ids:
        return
    cases_reopen(loan_ids=new_loan_ids, actor=actor, now=now)
    cases_reconcile(debtor_ids=ids, actor=actor, now=now)
    case_priorities_refresh(debtor_ids=ids, now=now)
    cases_assign(debtor_ids=ids, actor=actor, now=now)


# Debtors per round of ``cases_follow_import``: bounds the statements' parameters and memory.
IMPORT_BATCH = 50_000


def cases_follow_import(
    *,
    debtor_ids: list[int],
    new_loan_ids: list[int],
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> None:
    """``cases_follow_ledger`` for an import's debtors and new loans, in batches (inside the
    import's transaction)."""
    now = now or timezone.now()
    for start in range(0, len(new_loan_ids), IMPORT_BATCH):
        cases_reopen(loan_ids=new_loan_ids[start : start + IMPORT_BATCH], actor=actor, now=now)
    for start in range(0, len(debtor_ids), IMPORT_BATCH):
        cases_follow_ledger(
            debtor_ids=debtor_ids[start : start + IMPORT_BATCH], actor=actor, now=now
        )
