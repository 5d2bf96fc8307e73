"""``manage.py seal_ledger``: chain the decisions not yet sealed (the periodic task does it too)."""

from django.core.management.base import BaseCommand

from compliance.ledger import seal


class Command(BaseCommand):
    help = "Hash-chain the decision ledger's unsealed rows, in id order."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, **options):
        sealed = seal(batch_size=options["batch_size"])
        self.stdout.write(f"Sealed {sealed} decisions.")
