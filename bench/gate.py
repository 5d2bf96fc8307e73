"""Benchmark: the compliance gate's ``request`` on a large history.

Seeds 100,000 debtors, each with a mobile number and a loan, and 2,000,000 recorded contact
attempts over the 30 days before a fixed instant, with set-based ``INSERT ... SELECT``
statements (a run reuses a portfolio of the same size). Half the debtors are in the US
(us-reg-f, New York), half in China (cn-gbt-45251, Shanghai). Then four processes call
``gate.request`` on random debtors for a fixed time and report throughput and the p50/p99
latency of a whole request (lock and read, evaluation, ledger row, attempt and permit,
commit: two round trips).

Why four: in a deployment the gate is called at once by several web threads and worker
processes (gunicorn's processes and threads, the Celery pool). Each decision ends with a
synchronous commit that waits for the disk; while one client waits, another's decision uses
the core, and clients waiting together share one log flush. Two sequential clients on two
cores would mostly measure the disk's flush time, not what the machine can decide.
Finally it seals the new ledger rows and verifies the chain, and reports how fast.

The gate's clock is pinned (``now=``) to Wednesday 2026-03-04 13:30 UTC, inside both presets'
windows, so the figures do not depend on the hour the benchmark runs; the path is otherwise
the production one.

From the harness (``bench/run.py``): ``run(ctx)`` measures in a child process on the
benchmark database. Alone: ``python bench/gate.py`` works on its own database
(``BENCH_DATABASE_URL``, default ``collections_gate_bench`` on the server of
``DATABASE_URL``). Sizes: ``BENCH_GATE_DEBTORS``, ``BENCH_GATE_ATTEMPTS``,
``BENCH_GATE_SECONDS``, ``BENCH_GATE_PROCESSES``.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

NAME = "gate"
TITLE = "Compliance gate: request"
DESCRIPTION = (
    "`gate.request` on 100,000 debtors and 2,000,000 recorded contact attempts (seeded with "
    "set-based SQL): four client processes (as a deployment's web threads and workers call it "
    "at once) for a fixed time, each request a whole transaction in two round trips (lock the "
    "debtor and read its snapshot; judge; write the decision, the pending attempt and the "
    "permit, and commit synchronously), clock pinned inside the contact windows. Then the ledger sealer chains "
    "the new decisions and `verify_ledger` recomputes the chain."
)
TARGET_P99_MS = 10.0
TARGET_PER_SECOND = 1000.0
PINNED_NOW = dt.datetime(2026, 3, 4, 13, 30, tzinfo=dt.UTC)
HISTORY_DAYS = 30
PREFIX = "BENCH-GATE-"
DEFAULTS = {
    "debtors": 100_000,
    "attempts": 2_000_000,
    "seconds": 20.0,
    "processes": 4,
    "warmup": 300,
}


def _option(ctx, name: str):
    env = os.environ.get(f"BENCH_GATE_{name.upper()}")
    if ctx is not None:
        value = ctx.get(name) if isinstance(ctx, Mapping) else getattr(ctx, name, None)
        if value is not None:
            return type(DEFAULTS[name])(value)
    if env:
        return type(DEFAULTS[name])(env)
    return DEFAULTS[name]


def _log(message: str) -> None:
    print(f"[gate] {message}", file=sys.stderr, flush=True)


# --- seeding ---------------------------------------------------------------------------------


def _insert_select(cursor, model, *, source: str, overrides: dict, params=()) -> int:
    """``INSERT INTO <model> (...) SELECT ... FROM <source>``.

    ``overrides`` maps a field name to an SQL expression, or to ``(expression, [params])``.
    Other fields get NULL when nullable, else the field's Python default as a parameter.
    """
    import json

    columns, expressions, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        if field.name in overrides:
            expression = overrides[field.name]
            if isinstance(expression, tuple):
                expression, extra = expression
                values.extend(extra)
            expressions.append(expression)
        elif field.null:
            expressions.append("NULL")
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        else:
            default = field.get_default()
            if isinstance(default, (list, dict)):
                default = json.dumps(default)
            expressions.append("%s")
            values.append(default)
    # Names come from the models and this module; values are parameters.
    sql = f"""INSERT INTO {model._meta.db_table} ({", ".join(columns)})
SELECT {", ".join(expressions)} FROM {source}"""  # noqa: S608
    cursor.execute(sql, [*values, *params])
    return cursor.rowcount


def _drop_secondary(cursor, table: str) -> list[str]:
    """Drop a table's foreign keys and secondary indexes; return the statements that restore them."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    foreign_keys = cursor.fetchall()
    # Check the rows inserted so far in this transaction now: a table with pending checks
    # cannot be altered.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT indisunique",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in foreign_keys
    ]


def seed(debtors: int, attempts: int) -> dict:
    from django.db import connection, transaction

    from compliance.models import ContactAttempt
    from debtors.models import ContactPoint, Debtor, Loan

    existing = Debtor.objects.filter(external_ref__startswith=PREFIX).count()
    have_attempts = ContactAttempt.objects.filter(actor_label="system: bench-seed").count()
    if existing == debtors and have_attempts == attempts:
        # Permits of an earlier run would count against this one: they go (the ledger's
        # decisions stay, as they must).
        from compliance.models import ContactPermit

        # Attempts are append-only (a trigger refuses DELETE). On this private benchmark
        # database the harness connects as a superuser and switches triggers off for the
        # clean-up transaction only; the application's role cannot do this.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            ContactPermit.objects.filter(attempt__actor_label="system: bench").delete()
            removed, _ = ContactAttempt.objects.filter(actor_label="system: bench").delete()
        _log(f"reusing {existing} debtors and {have_attempts} attempts ({removed} removed)")
        return {"seeded": False, "seconds": 0.0}
    if existing:
        raise RuntimeError(
            f"The benchmark database holds a different gate portfolio ({existing} debtors, "
            f"{have_attempts} attempts); drop the database or set BENCH_GATE_* to match."
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        _log(f"seeding {debtors} debtors")
        _insert_select(
            cursor,
            Debtor,
            source="generate_series(1, %s) AS g",
            params=[debtors],
            overrides={
                "external_ref": f"'{PREFIX}' || g",
                "full_name": "'Bench debtor ' || g",
                "country": "CASE WHEN mod(g, 2) = 0 THEN 'US' ELSE 'CN' END",
                "timezone": "CASE WHEN mod(g, 2) = 0 THEN 'America/New_York' ELSE 'Asia/Shanghai' END",
            },
        )
        cursor.execute(
            f"""CREATE TEMP TABLE bench_gate_debtors ON COMMIT DROP AS
SELECT id, country, row_number() OVER (ORDER BY id) AS n
FROM {Debtor._meta.db_table} WHERE external_ref LIKE %s""",  # noqa: S608
            [PREFIX + "%"],
        )
        _insert_select(
            cursor,
            ContactPoint,
            source="bench_gate_debtors AS d",
            overrides={
                "debtor": "d.id",
                "kind": "'mobile'",
                "value": (
                    "CASE WHEN d.country = 'US' THEN '+1212555' || lpad(mod(d.n, 10000)::text, 4, '0') "
                    "ELSE '+86138' || lpad(mod(d.n, 100000000)::text, 8, '0') END"
                ),
                "status": "'valid'",
                "owner": "'self'",
                "is_primary": "true",
            },
        )
        _insert_select(
            cursor,
            Loan,
            source="bench_gate_debtors AS d",
            overrides={
                "external_ref": f"'{PREFIX}L-' || d.n",
                "debtor": "d.id",
                "currency": "CASE WHEN d.country = 'US' THEN 'USD' ELSE 'CNY' END",
                "principal": "1000",
                "principal_balance": "1000",
                "status": "'delinquent'",
            },
        )
        cursor.execute(
            f"""CREATE TEMP TABLE bench_gate_map ON COMMIT DROP AS
SELECT d.n, d.id AS debtor_id, l.id AS loan_id, cp.id AS cp_id
FROM bench_gate_debtors d JOIN {Loan._meta.db_table} l ON l.debtor_id = d.id
JOIN {ContactPoint._meta.db_table} cp ON cp.debtor_id = d.id"""  # noqa: S608
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_gate_map (n)")
        _log(f"seeding {attempts} contact attempts")
        # Building each index once after the load is several times faster than maintaining
        # it row by row; the foreign keys are checked once, when they come back.
        recreate = _drop_secondary(cursor, ContactAttempt._meta.db_table)
        _insert_select(
            cursor,
            ContactAttempt,
            source=(
                "generate_series(0, %s - 1) AS g JOIN bench_gate_map m ON m.n = mod(g, %s) + 1"
            ),
            params=[attempts, debtors],
            overrides={
                "debtor": "m.debtor_id",
                "loan": "m.loan_id",
                "contact_point": "m.cp_id",
                "channel": "CASE WHEN random() < 0.85 THEN 'call' ELSE 'sms' END",
                "direction": "CASE WHEN random() < 0.9 THEN 'outbound' ELSE 'inbound' END",
                "outcome": (
                    "(ARRAY['no_answer','no_answer','busy','left_message','conversation',"
                    "'delivered','failed'])[1 + floor(random() * 7)::int]"
                ),
                "occurred_at": (
                    f"%s::timestamptz - random() * interval '{HISTORY_DAYS} days'",
                    [PINNED_NOW],
                ),
                "actor_label": "'system: bench-seed'",
                "breach": "false",
                "breach_reasons": "'[]'::jsonb",
                "created_at": ("%s::timestamptz", [PINNED_NOW]),
            },
        )
        _log("building the attempts' indexes and foreign keys")
        for statement in recreate:
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    elapsed = time.perf_counter() - started
    _log(f"seeded in {elapsed:.0f}s; vacuum analyze")
    with connection.cursor() as cursor:
        for model in (Debtor, ContactPoint, Loan, ContactAttempt):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return {"seeded": True, "seconds": round(time.perf_counter() - started, 1)}


# --- measuring -------------------------------------------------------------------------------


def _targets() -> list[tuple[int, int, int]]:
    from debtors.models import ContactPoint, Loan

    points = dict(
        ContactPoint.objects.filter(debtor__external_ref__startswith=PREFIX).values_list(
            "debtor_id", "id"
        )
    )
    return [
        (debtor_id, loan_id, points[debtor_id])
        for debtor_id, loan_id in Loan.objects.filter(
            external_ref__startswith=f"{PREFIX}L-"
        ).values_list("debtor_id", "id")
        if debtor_id in points
    ]


def _worker(index: int, targets, seconds: float, warmup: int, queue) -> None:
    from django.db import connections

    from compliance import gate

    connections.close_all()  # never share the parent's connection
    rng = random.Random(1000 + index)
    latencies: list[float] = []
    allowed = 0

    def one(offset: dt.timedelta) -> bool:
        debtor_id, loan_id, cp_id = rng.choice(targets)
        try:
            # The gate needs only the ids of what it is given (callers hold loaded rows).
            gate.request(
                debtor=SimpleNamespace(pk=debtor_id),
                loan=SimpleNamespace(pk=loan_id, debtor_id=debtor_id),
                contact_point=SimpleNamespace(pk=cp_id, debtor_id=debtor_id),
                channel="call",
                actor="bench",
                now=PINNED_NOW + offset,
            )
            return True
        except gate.ContactBlocked:
            return False

    for _ in range(warmup):
        one(dt.timedelta(0))
    backend_pid = connections["default"].connection.get_backend_pid()
    server_cpu, client_cpu = _process_cpu(backend_pid), time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        before = time.perf_counter()
        if before >= deadline:
            break
        allowed += one(dt.timedelta(seconds=before - start))
        latencies.append(time.perf_counter() - before)
    queue.put(
        {
            "latencies": latencies,
            "allowed": allowed,
            "elapsed": time.perf_counter() - start,
            "client_cpu": time.process_time() - client_cpu,
            "server_cpu": _process_cpu(backend_pid) - server_cpu,
        }
    )
    connections.close_all()


def _process_cpu(pid: int) -> float:
    """CPU seconds used so far by a local process (the worker's PostgreSQL backend); NaN when
    it is elsewhere."""
    from demo.procstat import process_cpu_seconds

    seconds = process_cpu_seconds(pid)
    return float("nan") if seconds is None else seconds


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _history_plan() -> str:
    """How PostgreSQL reads a debtor's recent attempts inside the gate's read statement."""
    from django.db import connection

    from compliance import snapshot
    from debtors.models import Debtor

    debtor_id = (
        Debtor.objects.filter(external_ref__startswith=PREFIX).values_list("id", flat=True).first()
    )
    params = {
        "debtors": [debtor_id],
        "channels": ["call"],
        "since": PINNED_NOW - snapshot.DEFAULT_LOOKBACK,
        "ids": 1,
    }
    with connection.cursor() as cursor:
        statement = snapshot._read_many_statement(cursor)
        cursor.execute("EXPLAIN " + statement.sql, params)
        lines = [row[0].strip() for row in cursor.fetchall()]
    found = [line for line in lines if "compliance_contactattempt" in line]
    return found[0].lstrip("-> ") if found else lines[0]


def _baseline() -> dict:
    """What the server gives any client right now: a bare round trip and a one-row commit."""
    from django.db import connection, transaction

    def p50(samples):
        return round(statistics.median(samples) * 1000, 3)

    trips, commits = [], []
    with connection.cursor() as cursor:
        # A logged table: its commit waits for the WAL flush, as the gate's does.
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_gate_baseline (x int)")
        for _ in range(300):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            trips.append(time.perf_counter() - started)
    for _ in range(200):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_gate_baseline VALUES (1)")
        commits.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_gate_baseline")
    return {"round_trip_ms": p50(trips), "insert_commit_ms": p50(commits)}


def measure(ctx=None) -> dict:
    """Seed if needed, measure ``gate.request``, seal and verify; return the figures.

    Needs Django set up on the benchmark database."""
    from django.db import connections

    from compliance import ledger

    debtors, attempts = _option(ctx, "debtors"), _option(ctx, "attempts")
    seconds, processes, warmup = (
        _option(ctx, "seconds"),
        _option(ctx, "processes"),
        _option(ctx, "warmup"),
    )
    seeding = seed(debtors, attempts)
    targets = _targets()
    plan = _history_plan()
    baseline = _baseline()
    _log(f"baseline: {baseline}")
    _log(f"history query: {plan}")
    connections.close_all()

    _log(f"measuring {processes} processes for {seconds:.0f}s")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_worker, args=(i, targets, seconds, warmup, queue))
        for i in range(processes)
    ]
    for w in workers:
        w.start()
    results = [queue.get(timeout=seconds + 600) for _ in workers]
    for w in workers:
        w.join(timeout=60)

    latencies = sorted(x for r in results for x in r["latencies"])
    total = len(latencies)
    client_cpu = sum(r["client_cpu"] for r in results)
    server_cpu = sum(r["server_cpu"] for r in results)
    cpu_per_decision = (client_cpu + server_cpu) / total if total else float("nan")
    elapsed = max(r["elapsed"] for r in results)
    sealing_started = time.perf_counter()
    sealed = ledger.seal(batch_size=5000)
    seal_seconds = time.perf_counter() - sealing_started
    verify_started = time.perf_counter()
    verified = ledger.verify()
    verify_seconds = time.perf_counter() - verify_started

    figures = {
        "debtors": debtors,
        "attempts_seeded": attempts,
        "seeding_seconds": seeding["seconds"],
        "processes": processes,
        "decisions": total,
        "allowed": sum(r["allowed"] for r in results),
        "decisions_per_second": round(total / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        "sealed_rows": sealed,
        "seal_rows_per_second": round(sealed / seal_seconds, 0) if seal_seconds else 0.0,
        "verify_ok": verified.ok,
        "verified_rows": verified.checked,
        "verify_rows_per_second": round(verified.checked / verify_seconds, 0)
        if verify_seconds
        else 0.0,
        "history_plan": plan,
        "client_cpu_ms": round(client_cpu / total * 1000, 3) if total else 0.0,
        "server_cpu_ms": round(server_cpu / total * 1000, 3) if total else 0.0,
        # Decisions two cores could make if CPU were the only limit (the WAL flush aside).
        "cpu_bound_per_second_two_cores": round(2 / cpu_per_decision) if total else 0,
        "baseline_round_trip_ms": baseline["round_trip_ms"],
        "baseline_insert_commit_ms": baseline["insert_commit_ms"],
        "load_average": round(os.getloadavg()[0], 1),
    }
    figures["meets_targets"] = (
        figures["p99_ms"] < TARGET_P99_MS and figures["decisions_per_second"] > TARGET_PER_SECOND
    )
    return figures


def run(ctx) -> list:
    """The harness's entry point: measure in a child process on ``ctx.database_url``."""
    import json

    from bench.context import Result, run_measured

    extra = {
        f"BENCH_GATE_{name.upper()}": str(ctx.options[f"gate_{name}"])
        for name in DEFAULTS
        if f"gate_{name}" in ctx.options
    }
    measured = run_measured(
        [sys.executable, str(Path(__file__).resolve()), "--child"], env=ctx.env(**extra)
    )
    if measured.returncode != 0:
        raise RuntimeError(f"bench/gate.py failed ({measured.returncode}):\n{measured.stderr}")
    figures = json.loads(measured.stdout.strip().splitlines()[-1])
    ctx.state["gate"] = figures
    return results(figures, Result)


def results(figures: dict, result_class) -> list:
    """The figures as the harness's ``Result`` rows."""
    p99, rate = figures["p99_ms"], figures["decisions_per_second"]
    return [
        result_class(
            "request throughput",
            f"{rate:,.0f} decisions/s",
            f"> {TARGET_PER_SECOND:,.0f}/s",
            rate > TARGET_PER_SECOND,
            f"{figures['processes']} processes, {figures['decisions']:,} decisions "
            f"({figures['allowed']:,} allowed)",
        ),
        result_class(
            "request latency p50",
            f"{figures['p50_ms']} ms",
            note=(
                f"server baseline at the time: SELECT 1 {figures['baseline_round_trip_ms']} ms, "
                f"one-row INSERT+COMMIT {figures['baseline_insert_commit_ms']} ms (p50); "
                f"load average {figures['load_average']}"
            ),
        ),
        result_class(
            "request latency p99",
            f"{p99} ms",
            f"< {TARGET_P99_MS:g} ms",
            p99 < TARGET_P99_MS,
            f"max {figures['max_ms']} ms",
        ),
        result_class(
            "seeding",
            f"{figures['seeding_seconds']} s",
            note=f"{figures['debtors']:,} debtors, {figures['attempts_seeded']:,} attempts",
        ),
        result_class(
            "CPU per decision",
            f"{figures['client_cpu_ms']} ms client + {figures['server_cpu_ms']} ms server",
            note=(
                f"two cores would make about {figures['cpu_bound_per_second_two_cores']:,} "
                "decisions/s if CPU were the only limit"
            ),
        ),
        result_class("ledger sealing", f"{figures['seal_rows_per_second']:,.0f} rows/s"),
        result_class(
            "verify_ledger",
            f"{figures['verify_rows_per_second']:,.0f} rows/s",
            "intact",
            figures["verify_ok"],
        ),
        result_class("history read plan", f"`{figures['history_plan']}`"),
    ]


def report(figures: dict) -> str:
    """The figures as a Markdown section (for BENCHMARKS.md)."""
    return "\n".join(
        [
            "## Compliance gate: `request`",
            "",
            f"{figures['debtors']:,} debtors, {figures['attempts_seeded']:,} recorded attempts, "
            f"{figures['processes']} processes, clock pinned inside the contact windows.",
            "",
            "| measure | value |",
            "| --- | --- |",
            f"| decisions | {figures['decisions']:,} ({figures['allowed']:,} allowed) |",
            f"| throughput | {figures['decisions_per_second']:,} decisions/s (target > 1,000) |",
            f"| latency p50 | {figures['p50_ms']} ms |",
            f"| server baseline (p50) | SELECT 1 {figures['baseline_round_trip_ms']} ms, "
            f"INSERT+COMMIT {figures['baseline_insert_commit_ms']} ms, "
            f"load average {figures['load_average']} |",
            f"| latency p99 | {figures['p99_ms']} ms (target < 10) |",
            f"| latency max | {figures['max_ms']} ms |",
            f"| CPU per decision | client {figures['client_cpu_ms']} ms, server "
            f"{figures['server_cpu_ms']} ms (two cores: about "
            f"{figures['cpu_bound_per_second_two_cores']:,}/s) |",
            f"| sealing | {figures['seal_rows_per_second']:,.0f} rows/s |",
            f"| verify_ledger | {figures['verify_rows_per_second']:,.0f} rows/s, intact: {figures['verify_ok']} |",
            f"| history query plan | `{figures['history_plan']}` |",
            "",
        ]
    )


def _bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/collections")
    head, _, _name = base.rpartition("/")
    return f"{head}/collections_gate_bench"


def _ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    head, _, name = url.rpartition("/")
    admin = psycopg2.connect(f"{head}/postgres")
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    import json

    argv = sys.argv[1:] if argv is None else argv
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    child = "--child" in argv
    if not child:
        url = _bench_database_url()
        if "127.0.0.1" not in url and "localhost" not in url:
            raise SystemExit("The benchmark runs against a local database only.")
        _ensure_database(url)
        os.environ["DATABASE_URL"] = url
        # Its own anchor file, never the demo's (bench.context).
        from bench.context import ledger_anchors_path

        os.environ.setdefault("LEDGER_ANCHOR_PATH", str(ledger_anchors_path(url)))
        os.environ.setdefault("APP_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collections_app.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if not child:
        call_command("migrate", verbosity=0)
    figures = measure()
    if child:
        print(json.dumps(figures))
    else:
        print(report(figures))
    return 0 if figures["verify_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
