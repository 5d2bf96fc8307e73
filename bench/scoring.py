"""Benchmark: training the propensity score and scoring every open case of the seeded portfolio.

* Training: ``manage.py train_score --activate --sample N`` on the history the seed benchmark
  left (a million loans under ``make bench``): ten snapshots at past dates two weeks apart,
  the newest two for validation. Every ``N``-th debtor is learnt from (``BENCH_SCORING_SAMPLE``,
  default 5: about 100,000 debtors a snapshot), as a lender would train; the figure says how
  many rows it learnt from and the validation AUC.
* Scoring: ``manage.py score_cases``: every open case's features as of today, points,
  probability, band and reasons in one ``INSERT ... SELECT ... ON CONFLICT``, then the levers
  (queue weights, reminder bands, and the priorities moved by a weight's change). The
  activation after training has scored every case once; the two runs measured here are the
  nightly runs that follow.
"""

from __future__ import annotations

import os
import re
import sys

from .context import Context, Result

NAME = "scoring"
TITLE = "Scoring: training and scoring every open case"
DESCRIPTION = (
    "Training: `manage.py train_score --activate --sample N` on the seeded portfolio's history "
    "(ten snapshots at past dates, 14 days apart, the newest two for validation; every N-th "
    "debtor, `BENCH_SCORING_SAMPLE`, default 5). Scoring: `manage.py score_cases` on every "
    "open case, set-based (features, points, band and reasons in one statement, then the "
    "queue weights, reminder bands and priorities), twice. Wall time is the whole command; "
    "memory is the peak resident set of its process (PostgreSQL's own memory is not included)."
)
TARGET_SCORE_SECONDS = 60.0
TARGET_SCORE_BYTES = 2 * 1024**3
SAMPLE = int(os.environ.get("BENCH_SCORING_SAMPLE", "5"))
MIB = 1024**2


def _log(message: str) -> None:
    print(f"[scoring] {message}", file=sys.stderr, flush=True)


def run(ctx: Context) -> list[Result]:
    loans = ctx.query("SELECT COUNT(*) FROM debtors_loan")[0][0]
    trained = ctx.manage("train_score", "--activate", "--sample", str(SAMPLE))
    _log(trained.stdout.strip())
    found = re.search(
        r"AUC ([0-9.]+).*\((\d+) training rows, (\d+) validation rows\)", trained.stdout
    )
    auc, train_rows, validation_rows = found.groups() if found else ("?", "?", "?")
    first = ctx.manage("score_cases")
    _log(f"first scoring: {first.seconds:.1f} s: {first.stdout.strip()}")
    again = ctx.manage("score_cases")
    _log(f"second scoring: {again.seconds:.1f} s: {again.stdout.strip()}")
    scored = ctx.query("SELECT COUNT(*) FROM scoring_casescore")[0][0]
    return [
        Result(
            "Training: wall time (whole command)",
            f"{trained.seconds:.1f} s",
            note=(
                f"{train_rows} training and {validation_rows} validation rows (every "
                f"{SAMPLE}th debtor); validation AUC {auc}; includes the activation, which "
                "scores every open case once"
            ),
        ),
        Result("Training: peak memory", f"{trained.max_rss_bytes / MIB:.0f} MiB"),
        Result(
            "Scoring every open case again: wall time (whole command)",
            f"{first.seconds:.1f} s",
            f"< {TARGET_SCORE_SECONDS:.0f} s",
            first.seconds < TARGET_SCORE_SECONDS,
            f"{loans:,} loans; {scored:,} cases scored",
        ),
        Result(
            "Scoring: peak memory",
            f"{first.max_rss_bytes / MIB:.0f} MiB",
            "< 2 GiB",
            first.max_rss_bytes < TARGET_SCORE_BYTES,
        ),
        Result(
            "Scoring once more",
            f"{again.seconds:.1f} s",
            note="a nightly run when nothing changed: scores rewritten, no lever moves",
        ),
    ]
