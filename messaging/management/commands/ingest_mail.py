"""``manage.py ingest_mail FILE...``: read raw RFC 5322 messages (bounces, complaints, mailto
unsubscribes) from files, or ``-`` for standard input (an MTA's pipe), and act on each as the
email webhook does."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from messaging import inbound


class Command(BaseCommand):
    help = "Act on bounces, complaints and unsubscribes read from files (or - for stdin)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="Raw messages; - reads standard input.")

    def handle(self, *args, files, **options):
        for name in files:
            if name == "-":
                raw = sys.stdin.buffer.read()
            else:
                path = Path(name)
                if not path.is_file():
                    raise CommandError(f"{name}: no such file.")
                raw = path.read_bytes()
            message = inbound.mail_received(raw)
            self.stdout.write(f"{name}: {message.kind}: {message.effect}")
