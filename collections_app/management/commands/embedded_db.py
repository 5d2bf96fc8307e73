"""``manage.py embedded_db status|stop|url``: the embedded PostgreSQL server by hand."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from collections_app import embedded_db


class Command(BaseCommand):
    help = "Show, or stop, the embedded PostgreSQL server under var/postgres/."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "stop", "url"])

    def handle(self, *args, action, **options):
        if action == "stop":
            stopped = embedded_db.stop()
            self.stdout.write("stopped" if stopped else "not running")
        elif action == "status":
            running = embedded_db.is_running()
            self.stdout.write(f"{'running' if running else 'stopped'}: {embedded_db.data_dir()}")
        else:
            db = settings.DATABASES["default"]
            self.stdout.write(f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}")
