"""``manage.py dispatch_reminders``: one dispatcher pass, in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from reminders import dispatcher
from reminders.management.commands.plan_reminders import parse_instant


class Command(BaseCommand):
    help = (
        "Send the reminders that are due now (or at --now) through the compliance gate, and "
        "print what happened to them. Safe to run while workers run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", type=parse_instant, help="Replay this instant (ISO 8601).")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--max-batches", type=int, help="Stop after this many batches.")

    def handle(self, *args, **options):
        counts = dispatcher.dispatch(
            now=options["now"],
            batch_size=options["batch_size"],
            max_batches=options["max_batches"],
            budget_seconds=3600,
        )
        total = sum(n for outcome, n in counts.items() if not outcome.startswith("recovery_"))
        detail = ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
        self.stdout.write(f"Dispatched {total} reminders" + (f": {detail}." if detail else "."))
