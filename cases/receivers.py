"""How cases answer what the ledger and the users announce. Connected by ``CasesConfig.ready``;
each receiver runs synchronously, inside the sender's transaction."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.assignment import collector_cases_redeal
from cases.workflow import cases_follow_ledger
from debtors.signals import ledger_changed


@receiver(ledger_changed)
def _follow_the_ledger(sender, *, debtor_ids, new_loan_ids, actor, now, **kwargs) -> None:
    cases_follow_ledger(debtor_ids=debtor_ids, new_loan_ids=new_loan_ids, actor=actor, now=now)


@receiver(post_save, sender=get_user_model())
def _redeal_inactive_collectors(sender, instance, **kwargs) -> None:
    if not instance.is_active:
        collector_cases_redeal(user=instance)
