"""Seed a benchmark portfolio: a million loans into PostgreSQL, in minutes and bounded memory.

Runs ``manage.py seed_demo --method copy`` as a child process on the (freshly migrated)
benchmark database, and measures its wall time and the peak resident memory of its processes
(the writer and the generator it forks). Later benchmarks work on the portfolio it leaves.
"""

from __future__ import annotations

import re

from .context import Context, Result

NAME = "seed"
TITLE = "Seeding a portfolio"
DESCRIPTION = (
    "`manage.py seed_demo --loans N --method copy`: generate a deterministic portfolio "
    "(debtors, contact points, consents, loans with installment schedules, payments and their "
    "allocations, plans, promises; loans with their derived balances, status and oldest "
    "unpaid due dates) in two forked processes and stream it into PostgreSQL with "
    "`COPY FROM STDIN` into tables stripped of their secondary indexes and foreign keys, "
    "then create the cases in set-based SQL and rebuild the indexes and constraints, in one "
    "transaction. Wall time is the whole command (Django start-up included); memory is the "
    "peak resident set of its processes, measured with `wait4`."
)
TARGET_SECONDS = 300
TARGET_BYTES = 1024**3
MIB = 1024**2
TABLES = {
    "debtors_debtor": "debtors",
    "debtors_contactpoint": "contact points",
    "debtors_channelconsent": "consents",
    "debtors_loan": "loans",
    "debtors_installment": "installments",
    "debtors_repaymentplan": "plans",
    "debtors_planinstallment": "plan installments",
    "debtors_payment": "payments",
    "debtors_paymentallocation": "allocations",
    "debtors_promisetopay": "promises",
    "collections_app_case": "cases",
}
# seed_demo -v2 progress lines that start each phase, after the copy.
PHASES = (
    ("deriving", "derive loans (SQL, with verify_derived only)"),
    ("creating cases", "create cases (SQL)"),
    ("rebuilding indexes", "rebuild indexes and constraints"),
    ("analyzing", "analyze"),
)


def run(ctx: Context) -> list[Result]:
    loans = ctx.options["loans"]
    measured = ctx.manage(
        "seed_demo",
        "--seed",
        str(ctx.options.get("seed", 1)),
        "--loans",
        str(loans),
        "--method",
        "copy",
        # The pages benchmark computes the queue priorities and reports how long that takes.
        "--skip-priorities",
        "--verbosity",
        "2",
    )
    ctx.state["seeded_loans"] = loans
    for line in measured.stdout.splitlines():
        print(f"    {line}")
    writer_kib, generators, generator_kib = _peaks(measured.stdout)
    # Table names are constants of this module.
    union = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in TABLES)  # noqa: S608
    counts = dict(ctx.query(union))
    rows = sum(counts.values())
    size = ctx.query("SELECT pg_size_pretty(pg_database_size(current_database()))")[0][0]
    minutes, seconds = divmod(measured.seconds, 60)
    results = [
        Result(
            "Wall time",
            f"{int(minutes)} min {seconds:.0f} s ({measured.seconds:.1f} s)",
            f"< {TARGET_SECONDS // 60} min",
            measured.seconds < TARGET_SECONDS,
        ),
        Result(
            "CPU time of the seeding processes",
            f"{measured.cpu_seconds:.0f} s",
            note="user + system of the command and its generators; PostgreSQL's own work "
            "is not included. Far less sensitive than wall time to other load on the machine.",
        ),
        *_database_cpu(measured.stdout),
        Result(
            "Peak memory (largest process)",
            f"{measured.max_rss_bytes / MIB:.0f} MiB",
            "< 1 GiB",
            measured.max_rss_bytes < TARGET_BYTES,
        ),
    ]
    if writer_kib:
        total = (writer_kib + generators * generator_kib) * 1024
        results.append(
            Result(
                "Peak memory (all processes, sum of peaks)",
                f"{total / MIB:.0f} MiB",
                "< 1 GiB",
                total < TARGET_BYTES,
                f"writer {writer_kib / 1024:.0f} MiB + {generators} generators of at most "
                f"{generator_kib / 1024:.0f} MiB",
            )
        )
    results += [
        Result(
            "Loans", f"{counts['debtors_loan']:,}", f"{loans:,}", counts["debtors_loan"] == loans
        ),
        *_phases(measured.stdout),
        Result("Loans per second", f"{counts['debtors_loan'] / measured.seconds:,.0f}"),
        Result(
            "Rows written",
            f"{rows:,}",
            note=", ".join(f"{name} {counts[table]:,}" for table, name in TABLES.items()),
        ),
        Result("Database size after seeding", size),
    ]
    return results


def _peaks(output: str) -> tuple[int, int, int]:
    """(writer KiB, number of generators, largest generator KiB) from seed_demo's output."""
    pattern = r"peak memory: writer (\d+) KiB, generators (\d+) of at most (\d+) KiB"
    match = re.search(pattern, output)
    if not match:
        return 0, 0, 0
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _database_cpu(output: str) -> list[Result]:
    match = re.search(r"database backend cpu: ([\d.]+) s", output)
    if not match:
        return []
    return [
        Result(
            "CPU time of the PostgreSQL backend",
            f"{float(match.group(1)):.0f} s",
            note="the connection that copied, derived and rebuilt the indexes (parallel index "
            "build workers not included)",
        )
    ]


def _phases(output: str) -> list[Result]:
    """Wall time of each phase, from the elapsed seconds seed_demo -v2 prints per step."""
    marks = []
    for line in output.splitlines():
        match = re.match(r"\s*([\d.]+)s (.*)", line)
        if match:
            marks.append((float(match.group(1)), match.group(2)))
    total = re.search(r"Seeded with copy in ([\d.]+)s", output)
    if not marks or not total:
        return []
    starts = []
    for prefix, name in PHASES:
        at = next((t for t, text in marks if text.startswith(prefix)), None)
        if at is not None:
            starts.append((at, name))
    parts = []
    previous, label = 0.0, "generate and copy"
    for at, name in starts:
        parts.append(f"{label} {at - previous:.0f} s")
        previous, label = at, name
    parts.append(f"{label} {float(total.group(1)) - previous:.0f} s")
    return [Result("Phases", ", ".join(parts))]
