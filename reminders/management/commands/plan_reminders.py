"""``manage.py plan_reminders``: one planner pass (for operators and set-ups without beat)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reminders import planner


def parse_instant(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--now must be ISO 8601, e.g. 2026-03-02T09:00:00+08:00 ({exc})."
        ) from exc
    if timezone.is_naive(parsed):
        raise CommandError("--now must carry a time zone (e.g. +00:00 or Z).")
    return parsed


class Command(BaseCommand):
    help = (
        "Plan the reminders due around now (or --now): one row per loan, installment and "
        "stage. Running it twice plans nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", type=parse_instant, help="Replay this instant (ISO 8601).")
        parser.add_argument(
            "--no-reconcile",
            action="store_true",
            help="Skip settling promises and plans from payments first.",
        )

    def handle(self, *args, **options):
        counts = planner.plan(
            now=options["now"], actor="plan_reminders", reconcile=not options["no_reconcile"]
        )
        planned = counts.pop("planned", 0)
        detail = ", ".join(f"{channel} {n}" for channel, n in sorted(counts.items()))
        self.stdout.write(f"Planned {planned} reminders" + (f" ({detail})." if detail else "."))
