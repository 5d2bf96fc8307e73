"""Demo and benchmark portfolios: realistic debtors, loans at every stage, and their stories.

``seed_portfolio`` is what ``manage.py seed_demo`` runs. One deterministic generator
(``generator``) feeds one of two writers:

* ``orm``: ``bulk_create`` in chunks, with a history row per row attributed to
  "system: seed_demo"; any database; the default for demos (a few hundred debtors);
* ``copy``: PostgreSQL ``COPY FROM STDIN`` in chunks and set-based SQL for the derived fields;
  for benchmark portfolios (a million loans in minutes, in bounded memory). It writes no
  history: see ``demo.seeding.copy`` for why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from demo.seeding.copy import seed_with_copy
from demo.seeding.generator import PortfolioGenerator
from demo.seeding.orm import seed_with_orm

ORM = "orm"
COPY = "copy"
AUTO = "auto"
METHODS = (AUTO, ORM, COPY)
# Above this many loans, ``auto`` takes the COPY path on PostgreSQL.
COPY_THRESHOLD_LOANS = 20_000


@dataclass
class SeedResult:
    method: str
    counts: dict[str, int]
    # The COPY path generates in forked processes: how many, and their largest peak (KiB).
    generators: int = 0
    generator_max_rss_kib: int = 0
    database_cpu_seconds: float | None = None
    # The instant the portfolio was measured at (the end of ``today``, or now if earlier).
    now: dt.datetime | None = None


def seed_portfolio(
    *,
    seed: int = 1,
    debtors: int | None = None,
    loans: int | None = None,
    loans_per_debtor_max: int = 4,
    today: dt.date | None = None,
    method: str = AUTO,
    chunk_debtors: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Create a portfolio of ``debtors`` debtors (or of exactly ``loans`` loans).

    Same ``seed`` and ``today``: same rows. ``today`` (default: today in UTC) is the day the
    stages are measured on.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    today = today or timezone.now().date()
    now = min(timezone.now(), dt.datetime.combine(today, dt.time(23, 59), dt.UTC))
    generator = PortfolioGenerator(
        seed=seed,
        today=today,
        debtors=debtors,
        loans=loans,
        loans_per_debtor_max=loans_per_debtor_max,
    )
    if method == AUTO:
        expected_loans = loans if loans is not None else debtors * 2
        big = expected_loans >= COPY_THRESHOLD_LOANS
        method = COPY if big else ORM
    if method == COPY:
        result = seed_with_copy(
            generator, today=today, now=now, chunk_debtors=chunk_debtors or 5_000, progress=progress
        )
        return SeedResult(
            COPY,
            result.counts,
            result.generators,
            result.generator_max_rss_kib,
            result.database_cpu_seconds,
            now=now,
        )

    counts = seed_with_orm(
        generator, today=today, chunk_debtors=chunk_debtors or 500, progress=progress
    )
    return SeedResult(ORM, counts, now=now)
