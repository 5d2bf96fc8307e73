"""``manage.py seed_demo``: a realistic demo portfolio, or a large one for benchmarks."""

from __future__ import annotations

import datetime as dt
import resource
import time

from django.core.management.base import BaseCommand, CommandError

from cases.priorities import case_priorities_refresh
from debtors.models import Debtor
from demo.seeding import METHODS, seed_portfolio
from demo.seeding.generator import PortfolioGenerator


class Command(BaseCommand):
    help = (
        "Create a demo portfolio: debtors in several countries and time zones, loans at every "
        "stage from pre-due to 180+ days past due, plans, promises, opt-outs, holds and a case "
        "per debtor. Deterministic for a given --seed (and --today)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (default 1).")
        size = parser.add_mutually_exclusive_group()
        size.add_argument("--debtors", type=int, help="How many debtors (default 200).")
        size.add_argument("--loans", type=int, help="Exactly this many loans (debtors follow).")
        parser.add_argument(
            "--loans-per-debtor-max",
            type=int,
            default=4,
            help="At most this many loans per debtor.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when debtors already exist."
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            help="The day stages are measured on, YYYY-MM-DD (default: today, UTC).",
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default="auto",
            help="orm: bulk_create with history (any database); copy: PostgreSQL COPY, no "
            "history (benchmark data); auto: copy for large portfolios on PostgreSQL.",
        )
        parser.add_argument("--chunk", type=int, help="Debtors generated and written per chunk.")
        parser.add_argument(
            "--skip-priorities",
            action="store_true",
            help="Leave the cases' queue priorities at 0 (the pages benchmark computes and times "
            "them itself); by default they are computed, so the queue is in order at once.",
        )

    def handle(self, *args, **options):
        if options["if_empty"] and Debtor.objects.exists():
            self.stdout.write("Debtors already exist; nothing to do (--if-empty).")
            return
        debtors, loans = options["debtors"], options["loans"]
        if debtors is None and loans is None:
            debtors = 200
        if (debtors is not None and debtors < 1) or (loans is not None and loans < 1):
            raise CommandError("--debtors and --loans must be at least 1.")
        if options["loans_per_debtor_max"] < 1:
            raise CommandError("--loans-per-debtor-max must be at least 1.")
        first_ref = PortfolioGenerator(seed=options["seed"], today=dt.date.today(), debtors=1)
        if Debtor.objects.filter(external_ref=f"{first_ref.ref_prefix}D0000000").exists():
            raise CommandError(
                f"Seed {options['seed']} is already in this database; use another --seed, "
                "--if-empty, or a fresh database."
            )
        verbose = options["verbosity"] > 1
        started = time.monotonic()
        result = seed_portfolio(
            seed=options["seed"],
            debtors=debtors,
            loans=loans,
            loans_per_debtor_max=options["loans_per_debtor_max"],
            today=options["today"],
            method=options["method"],
            chunk_debtors=options["chunk"],
            progress=(lambda message: self.stdout.write(f"  {message}")) if verbose else None,
        )
        if not options["skip_priorities"]:
            case_priorities_refresh(now=result.now)
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n} {label.split('.')[-1]}" for label, n in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Seeded with {result.method} in {elapsed:.1f}s: {summary}.")
        )
        if verbose:
            writer = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.stdout.write(
                f"peak memory: writer {writer} KiB, generators {result.generators} "
                f"of at most {result.generator_max_rss_kib} KiB each"
            )
            if result.database_cpu_seconds is not None:
                self.stdout.write(f"database backend cpu: {result.database_cpu_seconds:.1f} s")
