"""Benchmark: importing a million loans from a CSV file, beside a raw ``COPY`` of that file.

Writes a deterministic loans file (new references, each loan on one of the debtors already in
the benchmark database; when there are none, 100,000 debtors are imported first), then:

1. the raw ``COPY`` of the file into a table of text columns shaped like the file (the floor:
   what PostgreSQL needs just to take the bytes in), timed on its own connection;
2. ``manage.py import_portfolio FILE --kind loans`` as a child process: staging with
   ``COPY``, the checks, the set-based upsert into ``debtors_loan`` (its indexes, foreign key
   and check constraints) and one history row per new loan; wall time and peak memory.

The import's rate over the raw COPY's rate is the figure with a target (at least 0.3).
"""

from __future__ import annotations

import random
import tempfile
import time
from contextlib import closing
from pathlib import Path

from .context import Context, Result

NAME = "imports"
TITLE = "Importing loans from CSV"
DESCRIPTION = (
    "`manage.py import_portfolio loans.csv --kind loans` on a generated file of new loans "
    "(on the debtors already in the database): COPY into a temporary staging table, the "
    "per-row checks in SQL, a set-based insert into `debtors_loan` and one history row per "
    "loan, in one transaction. Beside it, the same run's raw `COPY` of the same file into a "
    "table of text columns. Wall time is the whole command (Django start-up included); memory "
    "is the peak resident set of the process, measured with `wait4`."
)
TARGET_RATIO = 0.3
TARGET_BYTES = 1024**3
MIB = 1024**2
HEADER = (
    "external_ref,debtor_ref,currency,principal,principal_balance,interest_balance,"
    "fees_balance,opened_on,product,risk_band"
)
DEBTORS_WHEN_EMPTY = 100_000


def write_loans_file(path: Path, loans: int, debtor_refs: list[str], *, seed: int = 1) -> int:
    rng = random.Random(seed)
    bands = ("low", "medium", "high")
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        lines = []
        for n in range(loans):
            cents = rng.randint(50_000, 5_000_000)
            balance = rng.randint(0, cents)
            lines.append(
                f"IMP-L-{n:08d},{debtor_refs[n % len(debtor_refs)]},CNY,"
                f"{cents // 100}.{cents % 100:02d},{balance // 100}.{balance % 100:02d},"
                f"{rng.randint(0, 9999) // 100}.{rng.randint(0, 99):02d},0.00,"
                f"2025-{1 + n % 12:02d}-{1 + n % 28:02d},personal,{bands[n % 3]}\n"
            )
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)
    return path.stat().st_size


def _debtor_refs(ctx: Context, workdir: Path) -> list[str]:
    refs = [row[0] for row in ctx.query("SELECT external_ref FROM debtors_debtor LIMIT 100000")]
    if refs:
        return refs
    path = workdir / "debtors.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("external_ref,full_name,country,timezone\n")
        for n in range(DEBTORS_WHEN_EMPTY):
            out.write(f"IMP-D-{n:07d},Debtor {n},CN,Asia/Shanghai\n")
    ctx.manage("import_portfolio", str(path), "--kind", "debtors", "--no-progress")
    return [f"IMP-D-{n:07d}" for n in range(DEBTORS_WHEN_EMPTY)]


def raw_copy_seconds(ctx: Context, path: Path) -> float:
    columns = ", ".join(f"{name} text" for name in HEADER.split(","))
    with closing(ctx.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_loans")
        cursor.execute(f"CREATE TABLE bench_raw_loans ({columns})")
        started = time.monotonic()
        with path.open("rb") as handle:
            cursor.copy_expert(
                "COPY bench_raw_loans FROM STDIN WITH (FORMAT csv, HEADER true)", handle
            )
        seconds = time.monotonic() - started
        cursor.execute("DROP TABLE bench_raw_loans")
    return seconds


def indexed_copy_seconds(ctx: Context, workdir: Path) -> float:
    """The same loans, as rows of ``debtors_loan`` (ids resolved), copied into a table with
    that table's columns, indexes and checks: what index maintenance alone costs."""
    rows = workdir / "loan-rows.csv"
    with closing(ctx.connect()) as connection, connection.cursor() as cursor:
        with rows.open("wb") as out:
            cursor.copy_expert(
                "COPY (SELECT * FROM debtors_loan WHERE external_ref LIKE 'IMP-L-%') "
                "TO STDOUT WITH (FORMAT csv)",
                out,
            )
        cursor.execute("DROP TABLE IF EXISTS bench_indexed_loans")
        cursor.execute("CREATE TABLE bench_indexed_loans (LIKE debtors_loan INCLUDING ALL)")
        _checkpoint(ctx)
        started = time.monotonic()
        with rows.open("rb") as handle:
            cursor.copy_expert("COPY bench_indexed_loans FROM STDIN WITH (FORMAT csv)", handle)
        seconds = time.monotonic() - started
        cursor.execute("DROP TABLE bench_indexed_loans")
    return seconds


def _checkpoint(ctx: Context) -> None:
    with closing(ctx.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def run(ctx: Context) -> list[Result]:
    loans = ctx.options["loans"]
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        workdir = Path(tmp)
        refs = _debtor_refs(ctx, workdir)
        path = workdir / "loans.csv"
        size = write_loans_file(path, loans, refs, seed=ctx.options.get("seed", 1))
        _checkpoint(ctx)  # neither run pays for the other's dirty pages
        copy_seconds = raw_copy_seconds(ctx, path)
        _checkpoint(ctx)
        measured = ctx.manage("import_portfolio", str(path), "--kind", "loans", "--no-progress")
        _checkpoint(ctx)
        again = ctx.manage("import_portfolio", str(path), "--kind", "loans", "--no-progress")
        indexed_seconds = indexed_copy_seconds(ctx, workdir)
    for line in (measured.stdout + again.stdout).splitlines():
        print(f"    {line}")
    imported = ctx.query("SELECT count(*) FROM debtors_loan WHERE external_ref LIKE 'IMP-L-%'")
    imported = imported[0][0]
    import_rate = loans / measured.seconds
    copy_rate = loans / copy_seconds
    ratio = import_rate / copy_rate
    return [
        Result("File", f"{loans:,} loans, {size / MIB:.0f} MiB"),
        Result("Raw COPY of the file", f"{copy_seconds:.1f} s ({copy_rate:,.0f} rows/s)"),
        Result(
            "Import wall time",
            f"{measured.seconds:.1f} s ({import_rate:,.0f} rows/s)",
        ),
        Result(
            "Import rate / raw COPY rate",
            f"{ratio:.2f}",
            f">= {TARGET_RATIO}",
            ratio >= TARGET_RATIO,
        ),
        Result(
            "Raw COPY of the same loans into a table with `debtors_loan`'s indexes",
            f"{indexed_seconds:.1f} s ({loans / indexed_seconds:,.0f} rows/s)",
            note=(
                f"import rate / this rate: {import_rate / (loans / indexed_seconds):.2f}; "
                "no history rows, no checks, ids already resolved"
            ),
        ),
        Result(
            "Peak memory (import process)",
            f"{measured.max_rss_bytes / MIB:.0f} MiB",
            "< 1 GiB",
            measured.max_rss_bytes < TARGET_BYTES,
        ),
        Result("Loans imported", f"{imported:,}", f"{loans:,}", imported == loans),
        Result(
            "Same file again (nothing changes, no history)",
            f"{again.seconds:.1f} s",
            note=_last_report_line(again.stdout),
        ),
    ]


def _last_report_line(output: str) -> str:
    lines = [line for line in output.splitlines() if " rows: " in line]
    return lines[-1] if lines else ""
