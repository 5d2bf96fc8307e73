"""``manage.py train_score``: train a new version of the propensity score on the history."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from debtors.audit import system_actor
from scoring.services import score_model_activate
from scoring.training import (
    DEFAULT_SNAPSHOTS,
    DEFAULT_STEP_DAYS,
    DEFAULT_VALIDATION_SNAPSHOTS,
    TrainingError,
    train,
)


class Command(BaseCommand):
    help = (
        "Train a propensity-to-pay score (a payment within 30 days) on snapshots of the "
        "database's own history at past dates, validate it on the newest, and store it as a "
        "new version. It is not used until an admin activates it (or --activate)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--snapshots", type=int, default=DEFAULT_SNAPSHOTS)
        parser.add_argument("--step-days", type=int, default=DEFAULT_STEP_DAYS)
        parser.add_argument(
            "--validation-snapshots", type=int, default=DEFAULT_VALIDATION_SNAPSHOTS
        )
        parser.add_argument(
            "--sample", type=int, help="Learn from every Nth debtor only (large portfolios)."
        )
        parser.add_argument(
            "--activate", action="store_true", help="Activate the new version at once."
        )

    def handle(self, *args, **options):
        if options["snapshots"] < 2:
            raise CommandError("--snapshots must be at least 2.")
        if options["step_days"] < 1:
            raise CommandError("--step-days must be at least 1.")
        if options["sample"] is not None and options["sample"] < 1:
            raise CommandError("--sample must be at least 1.")
        actor = system_actor("train_score")
        try:
            model = train(
                actor=actor,
                snapshots=options["snapshots"],
                step_days=options["step_days"],
                validation_snapshots=options["validation_snapshots"],
                sample=options["sample"],
            )
        except TrainingError as error:
            raise CommandError(str(error)) from error
        m = model.metrics
        self.stdout.write(
            f"Score model v{model.version}: AUC {m['auc']}, KS {m['ks']}, Brier {m['brier']}, "
            f"PSI {m['psi']} ({m['train_rows']} training rows, {m['validation_rows']} "
            "validation rows)"
        )
        if options["activate"]:
            score_model_activate(model=model, actor=actor)
            self.stdout.write(f"Activated v{model.version}.")
