"""Posting a payment from the workflow's side: the ledger's ``payment_post``, then the
reminders it made pointless are cancelled, in the same transaction.

``debtors`` knows nothing of reminders (they belong to the workflow), so every surface that
takes payments — the API, imports — posts through ``payment_record`` here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from collections_app.models import Reminder, ReminderStatus
from debtors.audit import Actor
from debtors.models import Loan
from debtors.services import PostedPayment, payment_post

# The reason a reminder closed by a payment shows (the dispatcher uses the same code).
PAID_REASON = "paid"


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
    """Post a payment (idempotent by source and reference) and cancel pending reminders of
    what it paid. A repeat changes nothing and returns the first payment."""
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
        reminders_cancel_paid(loan_id=posted.payment.loan_id, now=now)
    return posted


def reminders_cancel_paid(*, loan_id: int, now: dt.datetime | None = None) -> int:
    """Close the planned reminders of a loan whose installment (or the whole loan) is paid.

    A conditional UPDATE on ``planned``: a reminder a dispatcher is already sending is left to
    the dispatcher, which checks the same facts before it sends.
    """
    loan = Loan.objects.only("status").get(pk=loan_id)
    pending = Reminder.objects.filter(loan_id=loan_id, status=ReminderStatus.PLANNED)
    if not loan.is_closed:
        pending = pending.filter(
            Q(installment__amount_paid__gte=F("installment__amount_due"))
            | Q(plan_installment__amount_paid__gte=F("plan_installment__amount_due"))
        )
    return pending.update(
        status=ReminderStatus.CLOSED, reason=PAID_REASON, finished_at=now or timezone.now()
    )
