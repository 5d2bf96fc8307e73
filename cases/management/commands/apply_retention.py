"""``manage.py apply_retention``: erase the personal data of debtors past the retention period
(``cases.retention``); with ``--debtor REF``, of one debtor who asked for erasure."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.retention import debtors_past_retention, retention_apply
from debtors.audit import system_actor
from debtors.erasure import ErasureRefused, debtor_erase
from debtors.models import Debtor, Erasure


class Command(BaseCommand):
    help = "Erase the personal data of debtors past RETENTION_YEARS, or of one on request."

    def add_arguments(self, parser):
        parser.add_argument("--debtor", metavar="REF", help="Erase this debtor now (a request).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the debtors past retention only."
        )
        parser.add_argument("--limit", type=int, help="Erase at most this many.")

    def handle(self, *args, debtor=None, dry_run=False, limit=None, **options):
        actor = system_actor("apply_retention")
        if debtor is not None:
            found = Debtor.objects.filter(external_ref=debtor).first()
            if found is None:
                raise CommandError(f"No debtor with the reference {debtor!r}.")
            try:
                erasure = debtor_erase(debtor=found, actor=actor, reason=Erasure.Reason.REQUEST)
            except ErasureRefused as refused:
                raise CommandError(f"{debtor}: not erased. {refused}") from None
            self.stdout.write(f"{debtor}: erased." if erasure else f"{debtor}: already erased.")
            return
        if dry_run:
            self.stdout.write(f"{debtors_past_retention().count()} debtors past retention.")
            return
        erased = retention_apply(actor=actor, limit=limit)
        self.stdout.write(f"{erased} debtors erased.")
