"""``manage.py demo``: what ``make demo`` runs.

Brings the database up to date (the embedded PostgreSQL server when ``DATABASE_URL`` is not
set), seeds the demo portfolio once, trains and activates a first score model on it and starts
a demo experiment (begun 45 days ago, so that its page has results), plans
and sends today's reminders in-process, creates and prints the demo users, then serves the
back office until Ctrl-C, and stops the embedded server on the way out. Running it again keeps
the data.
"""

from __future__ import annotations

import datetime as dt
import os
import signal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from collections_app import embedded_db
from debtors.audit import system_actor
from reminders.models import ReminderStrategy
from scoring.experiments import experiment_create, experiment_start
from scoring.models import Arm, Experiment, ScoreModel


def demo_experiment() -> Experiment:
    """A running experiment begun 45 days ago on the cases past due, so that its page has
    results to show: standard (champion, 50%) against firm (30%) with a 20% hold-out. Its
    cases entered on its first day with what they owe today (demo data, not a record)."""
    actor = system_actor("demo")
    today = timezone.localdate()
    start = today - dt.timedelta(days=45)
    strategies = {s.slug: s for s in ReminderStrategy.objects.filter(slug__in=["standard", "firm"])}
    experiment = experiment_create(
        actor=actor,
        name="Firm reminders for cases past due",
        primary_metric=Experiment.Metric.RECOVERY,
        starts_on=start,
        planned_end_on=today + dt.timedelta(days=45),
        min_days_past_due=1,
        arms=[
            {
                "name": "Standard",
                "kind": Arm.Kind.CHAMPION,
                "strategy": strategies.get("standard"),
                "share": 50,
            },
            {
                "name": "Firm",
                "kind": Arm.Kind.CHALLENGER,
                "strategy": strategies.get("firm"),
                "share": 30,
            },
            {"name": "Hold-out", "kind": Arm.Kind.HOLDOUT, "strategy": None, "share": 20},
        ],
    )
    began = timezone.make_aware(dt.datetime.combine(start, dt.time(9, 0)))
    experiment_start(experiment=experiment, actor=actor, now=began)
    return experiment


def _interrupt(signum, frame):
    # SIGTERM (a `kill`, a supervisor stopping the demo) ends it like Ctrl-C does.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the demo: migrate, seed once, send today's reminders, print the users, serve."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Address to serve on (host:port)."
        )

    def handle(self, *args, **options):
        embedded = "DATABASE_URL" not in os.environ
        # Ctrl-C even when started in the background (which ignores SIGINT), and SIGTERM.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        if "PORTAL_BASE_URL" not in os.environ:
            # The self-service links printed and sent point at this server.
            settings.PORTAL_BASE_URL = f"http://{options['addr']}"
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("seed_demo", if_empty=True)
            if not ScoreModel.objects.exists():
                # The demo's history holds a real signal: a first score model learns it and
                # scores every case (the score models page shows it).
                try:
                    call_command("train_score", activate=True)
                except CommandError as error:
                    self.stdout.write(f"No score model: {error}")
            if not Experiment.objects.exists():
                demo_experiment()
            call_command("plan_reminders")
            call_command("dispatch_reminders")
            call_command("create_demo_users")
            self.stdout.write(
                f"Open http://{options['addr']}/ and sign in with one of the users above "
                "(Ctrl-C stops it)."
            )
            call_command("runserver", options["addr"], use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            if embedded and embedded_db.stop():
                self.stdout.write("The embedded PostgreSQL server is stopped.")
