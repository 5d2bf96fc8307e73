"""``manage.py demo``: what ``make demo`` runs.

Brings the database up to date (the embedded PostgreSQL server when ``DATABASE_URL`` is not
set), seeds the demo portfolio once and trains and activates a first score model on it, plans
and sends today's reminders in-process, creates and prints the demo users, then serves the
back office until Ctrl-C, and stops the embedded server on the way out. Running it again keeps
the data.
"""

from __future__ import annotations

import os
import signal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from collections_app import embedded_db
from scoring.models import ScoreModel


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
