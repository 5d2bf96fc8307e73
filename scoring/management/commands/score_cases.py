"""``manage.py score_cases``: score every open case with the active model now."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from scoring.services import score_cases


class Command(BaseCommand):
    help = "Score every open case with the active score model and apply the band rules."

    def handle(self, *args, **options):
        counts = score_cases()
        self.stdout.write(
            f"{counts['scored']} cases scored, {counts['cleared']} old scores removed, "
            f"{counts['weights']} queue weights and {counts['loans']} reminder bands changed."
        )
