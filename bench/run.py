"""Run the benchmarks and write BENCHMARKS.md: ``make bench`` (or ``bench/run.py --only seed``).

Works on a dedicated database, ``collections_bench`` on the server of ``DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/collections), dropped and recreated on every run
and migrated before the benchmarks. It refuses to touch any other database.

To add a benchmark: a module in ``bench/`` with ``NAME``, ``TITLE``, ``DESCRIPTION`` and
``run(ctx) -> list[Result]``, appended to ``BENCHMARKS`` below (they run in this order and may
share state through ``ctx.state``; the seed runs first and leaves its portfolio for the rest).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from bench import gate, imports, pages, reminders, report, scoring, seed, webhooks  # noqa: E402
from bench.context import (  # noqa: E402
    BENCH_DATABASE,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    Context,
    dsn_from_url,
    ledger_anchors_path,
    machine_facts,
    with_database,
)

BENCHMARKS = [seed, gate, reminders, scoring, pages, webhooks, imports]


def main(argv: list[str] | None = None) -> int:
    names = [module.NAME for module in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=names, help="Run only this one.")
    parser.add_argument("--loans", type=int, default=1_000_000, help="Portfolio size to seed.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the generated portfolio.")
    parser.add_argument("--database", default=BENCH_DATABASE, help="Benchmark database name.")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--list", action="store_true", help="List the benchmarks and exit.")
    args = parser.parse_args(argv)
    if args.list:
        for module in BENCHMARKS:
            print(f"{module.NAME:12} {module.TITLE}")
        return 0

    base_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    bench_url = with_database(base_url, args.database)
    _refuse_shared_database(base_url, args.database)
    print(f"Recreating {args.database} and migrating it")
    _recreate_database(base_url, args.database)
    # A new database, a new chain: the anchors of the one dropped go with it.
    ledger_anchors_path(bench_url).unlink(missing_ok=True)
    ctx = Context(bench_url, redis_url, options={"loans": args.loans, "seed": args.seed})
    migrated = ctx.manage("migrate", "--noinput")
    print(f"  migrated in {migrated.seconds:.1f}s")

    measured_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    selected = [m for m in BENCHMARKS if not args.only or m.NAME in args.only]
    sections = {}
    failed = False
    for module in selected:
        print(f"Running {module.NAME}: {module.TITLE}")
        started = time.monotonic()
        load_before = os.getloadavg()[0]
        results = module.run(ctx)
        load_after = os.getloadavg()[0]
        print(f"  done in {time.monotonic() - started:.1f}s")
        # Other work on the machine slows every figure: say how busy it was.
        load = (
            f"Load average (1 min) {load_before:.1f} at the start and {load_after:.1f} at the "
            f"end, on {os.cpu_count()} cores."
        )
        for r in results:
            flag = "" if r.met is None else ("  ok" if r.met else "  MISSED")
            print(
                f"  {r.measure}: {r.value} {('(target ' + r.target + ')') if r.target else ''}{flag}"
            )
            failed = failed or r.met is False
        sections[module.NAME] = report.render_section(
            module, results, measured_at=measured_at, options=_options_text(args), load=load
        )
    header = report.render_header(measured_at=measured_at, machine=machine_facts(bench_url))
    report.write(args.output, header, sections, names)
    print(f"Wrote {args.output.name}")
    return 1 if failed else 0


def _options_text(args) -> str:
    return f"`--loans {args.loans:,}`".replace(",", "_") + f", `--seed {args.seed}`"


def _refuse_shared_database(base_url: str, name: str) -> None:
    configured = base_url.rsplit("/", 1)[-1].split("?")[0]
    if name == configured or name.startswith("test_") or "bench" not in name:
        raise SystemExit(
            f"Refusing to recreate {name!r}: the benchmark database must be its own "
            "(a name containing 'bench', not the one in DATABASE_URL, not a test database)."
        )


def _recreate_database(base_url: str, name: str) -> None:
    maintenance = dsn_from_url(with_database(base_url, "postgres"))
    with closing(psycopg2.connect(maintenance)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    raise SystemExit(main())
