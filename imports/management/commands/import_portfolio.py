"""``manage.py import_portfolio FILE --kind loans [--dry-run] [--valid-rows-only]``.

It lives in the workflow app, not in ``debtors``, because an import creates cases and
cancels reminders (see ``tests/test_architecture.py``). It runs the same job a browser upload
runs, in this process, with a progress bar on standard error, and prints the report.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from imports.models import ImportJob
from imports.services import import_create, import_run, rejected_rows_csv, report_text


class Command(BaseCommand):
    help = "Import debtors, loans, installments or payments from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--kind", required=True, choices=["debtors", "loans", "installments", "payments"]
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="Import the rows without problems even if other rows have some.",
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of the report.",
        )
        parser.add_argument(
            "--rejected", type=Path, help="Write the rejected rows (CSV) to this file."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        translation.activate(options["language"])
        with path.open("rb") as handle:
            try:
                job = import_create(
                    actor="import_portfolio",
                    kind=options["kind"],
                    file=handle,
                    name=path.name,
                    dry_run=options["dry_run"],
                    valid_rows_only=options["valid_rows_only"],
                    language=options["language"],
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        bar = None if options["no_progress"] else ProgressBar(sys.stderr)
        job = import_run(job_id=job.pk, progress=bar)
        if bar is not None:
            bar.close()
        self.stdout.write(f"{job.get_status_display()} (import #{job.pk})")
        self.stdout.write(report_text(job))
        if options["rejected"] and job.invalid_rows:
            with options["rejected"].open("w", encoding="utf-8", newline="") as out:
                for chunk in rejected_rows_csv(job):
                    out.write(chunk)
            self.stdout.write(f"Rejected rows written to {options['rejected']}")
        if job.status in (ImportJob.Status.REJECTED, ImportJob.Status.FAILED):
            raise CommandError(job.get_status_display())


class ProgressBar:
    """``[########------------]  40% reading`` on one line of a terminal."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.last = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if (phase, percent) == self.last:
            return
        if not self.stream.isatty() and self.last and percent // 10 == self.last[1] // 10:
            return  # in a log, one line per tenth is enough
        self.last = (phase, percent)
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(f"[{bar}] {percent:3d}% {phase:<10}{end}")
        self.stream.flush()

    def close(self) -> None:
        if self.stream.isatty():
            self.stream.write("\n")
