"""What the ledger announces to the areas above it (``cases`` keeps each case's status,
collector and priority in line with it).

``ledger_changed`` is sent inside the transaction of the service that changed the facts, with
``debtor_ids`` (whose loans, payments, promises, plans or holds changed), ``new_loan_ids``
(loans created, possibly empty), ``actor`` and ``now``. Receivers run synchronously, so what
they write commits or rolls back with the change itself.
"""

from __future__ import annotations

from django.dispatch import Signal

ledger_changed = Signal()


def announce(*, debtor_ids, actor=None, now=None, new_loan_ids=()) -> None:
    """Send ``ledger_changed`` for ``debtor_ids`` (nothing when there are none)."""
    ids = sorted(set(debtor_ids))
    if ids:
        ledger_changed.send(
            sender=announce,
            debtor_ids=ids,
            new_loan_ids=list(new_loan_ids),
            actor=actor,
            now=now,
        )
