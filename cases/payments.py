"""Posting a payment from the workflow's side: the ledger's ``payment_post``, then what it
changes for the debtor's case, in the same transaction.

Every surface that takes payments (the API, imports, the case page) posts through
``payment_record``. Reminders are not the cases' to know (they sit above them): ``reminders``
answers the ``payment_recorded`` signal by cancelling the reminders a payment made pointless,
synchronously, inside the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from debtors.audit import Actor
from debtors.models import Loan
from debtors.services import PostedPayment, payment_post

# Sent inside ``payment_record``'s transaction after a new payment is posted, with ``payment``
# and ``now``; a repeat of a payment already posted sends nothing.
payment_recorded = Signal()


@transaction.atomic
def payment_record(
    *,
    actor: Actor,
    loan: Loan,
    amount: Decimal,
    received_at: dt.datetime,
    method: str,
    external_ref: str,
    source: str = "manual",
    now: dt.datetime | None = None,
) -> PostedPayment:
    """Post a payment (idempotent by source and reference) and carry it to the workflow. A
    repeat changes nothing and returns the first payment."""
    now = now or timezone.now()
    posted = payment_post(
        actor=actor,
        loan=loan,
        amount=amount,
        received_at=received_at,
        method=method,
        external_ref=external_ref,
        source=source,
        now=now,
    )
    if posted.created:
        payment_recorded.send(sender=payment_record, payment=posted.payment, now=now)
    return posted
