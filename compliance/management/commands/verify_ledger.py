"""``manage.py verify_ledger``: recompute the decision ledger's hash chain."""

from django.core.management.base import BaseCommand, CommandError

from compliance.ledger import verify


class Command(BaseCommand):
    help = "Recompute the decision ledger's hash chain and name the first broken row."

    def handle(self, *args, **options):
        result = verify()
        if not result.ok:
            raise CommandError(
                f"Ledger broken at decision {result.broken_id}: {result.problem} "
                f"({result.checked} rows verified before it)."
            )
        self.stdout.write(
            f"Ledger intact: {result.checked} sealed decisions verified, "
            f"{result.unsealed} waiting for the sealer."
        )
