"""How reminders answer what the cases announce (``cases.payments.payment_recorded``,
``cases.lifecycle.case_closed``).

Connected by ``RemindersConfig.ready``. Each receiver runs synchronously, inside the sender's
transaction, so the change is committed (or rolled back) with what caused it.
"""

from __future__ import annotations

from django.dispatch import receiver

from cases.lifecycle import case_closed
from cases.payments import payment_recorded
from reminders.services import reminders_cancel_closed, reminders_cancel_paid


@receiver(payment_recorded)
def _cancel_paid_reminders(sender, *, payment, now, **kwargs) -> None:
    reminders_cancel_paid(loan_id=payment.loan_id, now=now)


@receiver(case_closed)
def _cancel_closed_case_reminders(sender, *, case, now, **kwargs) -> None:
    reminders_cancel_closed(debtor_id=case.debtor_id, paid=case.closed_reason == "paid", now=now)
