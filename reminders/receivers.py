"""How reminders answer what the cases announce (``cases.payments.payment_recorded``).

Connected by ``RemindersConfig.ready``. Each receiver runs synchronously, inside the sender's
transaction, so the change is committed (or rolled back) with what caused it.
"""

from __future__ import annotations

from django.dispatch import receiver

from cases.payments import payment_recorded
from reminders.services import reminders_cancel_paid


@receiver(payment_recorded)
def _cancel_paid_reminders(sender, *, payment, now, **kwargs) -> None:
    reminders_cancel_paid(loan_id=payment.loan_id, now=now)
