"""Benchmark: planning reminders over the seeded portfolio, and dispatching them through the gate.

* Planning: ``manage.py plan_reminders`` over the whole portfolio left by the seed benchmark
  (a million loans under ``make bench``), measured as a child process (wall time, peak memory);
  then a second run, which must plan nothing. Beside it, the raw ceiling: the same rows copied
  into an empty look-alike table (same indexes) with one ``INSERT ... SELECT``, no logic.
* Dispatching: 100,000 due SMS and email reminders (one per debtor, debtors in China and
  Britain, whose contact hours are open at the pinned instant) sent by a real Celery worker
  with two processes, through the gate, to the file backends. Each pass claims batches of 200
  and processes a batch set-based: a few reads for the whole batch, one gate transaction
  (``gate.request_many``), one transaction that spends a backend's permits, then bulk writes
  of the outcomes. Beside it, the raw ceiling: the
  decisions, attempts and permits that run wrote, copied into empty look-alike tables.

The dispatcher's clock is pinned (``now=``) to a future Wednesday, 13:30 UTC (21:30 in
Shanghai, 13:30 in London), so the figures do not depend on the hour the benchmark runs; a
pinned instant in the past would leave every permit expired before it is spent.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from .context import Context, Result

NAME = "reminders"
TITLE = "Reminders: planning and dispatching"
DESCRIPTION = (
    "Planning: `manage.py plan_reminders --no-reconcile` over the seeded portfolio (one "
    "`INSERT ... WITH due(...) AS (VALUES ...) SELECT ... ON CONFLICT DO NOTHING` per path, "
    "loan installments and plan installments; promises and plans are settled by the services "
    "beforehand in production and are not part of this figure), then a second run that must "
    "plan nothing. Dispatching: due reminders (SMS and email, one per debtor; 100,000 by "
    "default, `BENCH_REMINDERS_DISPATCH` sets how many and the figure says how many were "
    "processed) through the gate to the file backends by a real Celery worker with two "
    "processes (`-P prefork -c 2`), clock pinned inside the contact hours; each claimed batch "
    "of 200 is read in a few queries, judged in one gate transaction "
    "(`compliance.gate.request_many`: every debtor locked, every decision recorded), its "
    "permits spent in one transaction per backend, its outcomes written in bulk. Each is "
    "shown beside its raw ceiling: the same rows inserted with one `INSERT ... SELECT` and no "
    "logic."
)
PINNED_NOW = dt.datetime(2030, 3, 6, 13, 30, tzinfo=dt.UTC)
TARGET_PLAN_SECONDS = 60.0
TARGET_PLAN_BYTES = 500 * 1024**2
TARGET_PER_SECOND = 1000.0
DISPATCH_COUNT = int(os.environ.get("BENCH_REMINDERS_DISPATCH", "100000"))
QUEUE = "bench-reminders"
MIB = 1024**2


def _log(message: str) -> None:
    print(f"[reminders] {message}", file=sys.stderr, flush=True)


def _raw_copy(ctx: Context, tables: list[tuple[str, str]]) -> tuple[float, int]:
    """Copy rows into empty look-alike tables (same indexes): (seconds, rows)."""
    with closing(ctx.connect()) as connection, connection.cursor() as cursor:
        for table, _where in tables:
            cursor.execute(f"DROP TABLE IF EXISTS raw_{table}")
            cursor.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING ALL)")
        started = time.monotonic()
        rows = 0
        connection.autocommit = False
        for table, where in tables:
            cursor.execute(f"INSERT INTO raw_{table} SELECT * FROM {table} WHERE {where}")  # noqa: S608
            rows += cursor.rowcount
        connection.commit()
        seconds = time.monotonic() - started
        connection.autocommit = True
        for table, _where in tables:
            cursor.execute(f"DROP TABLE raw_{table}")
    return seconds, rows


# --- planning --------------------------------------------------------------------------------


def _plan(ctx: Context) -> list[Result]:
    loans = ctx.query("SELECT COUNT(*) FROM debtors_loan")[0][0]
    ctx.query("SELECT 1")
    with closing(ctx.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE collections_app_reminder")
    first = ctx.manage("plan_reminders", "--no-reconcile")
    planned = ctx.query("SELECT COUNT(*) FROM collections_app_reminder")[0][0]
    _log(f"planned {planned:,} reminders over {loans:,} loans in {first.seconds:.1f} s")
    again = ctx.manage("plan_reminders", "--no-reconcile")
    replanned = ctx.query("SELECT COUNT(*) FROM collections_app_reminder")[0][0] - planned
    raw_seconds, raw_rows = _raw_copy(ctx, [("collections_app_reminder", "TRUE")])
    return [
        Result(
            "Planning: wall time (whole command)",
            f"{first.seconds:.1f} s",
            f"< {TARGET_PLAN_SECONDS:.0f} s",
            first.seconds < TARGET_PLAN_SECONDS,
            f"{loans:,} loans; {planned:,} reminders planned",
        ),
        Result(
            "Planning: peak memory",
            f"{first.max_rss_bytes / MIB:.0f} MiB",
            "< 500 MiB",
            first.max_rss_bytes < TARGET_PLAN_BYTES,
        ),
        Result(
            "Planning again (nothing new)",
            f"{again.seconds:.1f} s",
            "0 new rows",
            replanned == 0,
            f"{replanned} new rows",
        ),
        Result(
            "Planning: raw ceiling (same rows, no logic)",
            f"{raw_seconds:.1f} s",
            note=f"{raw_rows:,} rows copied with one INSERT ... SELECT",
        ),
    ]


# --- dispatching -----------------------------------------------------------------------------


def _prepare_dispatch(ctx: Context, count: int) -> int:
    day = PINNED_NOW.date()
    with closing(ctx.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE collections_app_reminder")
        cursor.execute(
            "SELECT st.slug, s.id FROM collections_app_reminderstage s "
            "JOIN collections_app_reminderstrategy st ON st.id = s.strategy_id "
            "WHERE s.offset_days = 0 AND ((st.slug = 'gentle' AND s.channel = 'sms') "
            "OR (st.slug = 'firm' AND s.channel = 'email'))"
        )
        stages = dict(cursor.fetchall())
        # One reminder per debtor (the SMS daily limit allows one), a quarter of them email.
        cursor.execute(
            """
            INSERT INTO collections_app_reminder (loan_id, installment_id, plan_installment_id,
                stage_id, debtor_id, channel, due_date, scheduled_for, not_before, status,
                reason, tries, last_error, provider_ref, created_at)
            SELECT loan_id, installment_id, NULL,
                   CASE WHEN debtor_id %% 4 = 0 THEN %(email)s ELSE %(sms)s END, debtor_id,
                   CASE WHEN debtor_id %% 4 = 0 THEN 'email' ELSE 'sms' END,
                   due_date, %(day)s, %(at)s, 'planned', '', 0, '', '', now()
            FROM (
                SELECT DISTINCT ON (l.debtor_id) l.id AS loan_id, i.id AS installment_id,
                       l.debtor_id, i.due_date
                FROM debtors_loan l
                JOIN debtors_debtor d ON d.id = l.debtor_id AND d.country IN ('CN', 'GB')
                JOIN debtors_installment i ON i.loan_id = l.id AND i.amount_paid < i.amount_due
                WHERE l.status NOT IN ('paid', 'charged_off')
                ORDER BY l.debtor_id, i.due_date
            ) due
            ORDER BY debtor_id
            LIMIT %(n)s
            """,
            {
                "email": stages["firm"],
                "sms": stages["gentle"],
                "day": day,
                "at": PINNED_NOW,
                "n": count,
            },
        )
        cursor.execute("ANALYZE collections_app_reminder")
        return cursor.rowcount if cursor.rowcount >= 0 else count


def _start_worker(ctx: Context, outbox: Path, log: Path) -> subprocess.Popen:
    env = ctx.env(
        REMINDER_OUTBOX_DIR=str(outbox),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox / "email"),
        SMS_PROVIDER_URL="",
        LOG_LEVEL="WARNING",
    )
    celery = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter's celery
        [str(celery), "-A", "collections_app", "worker", "-P", "prefork", "-c", "2", "-Q", QUEUE]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    return process


def _dispatch(ctx: Context) -> list[Result]:
    from celery import Celery

    rows = _prepare_dispatch(ctx, DISPATCH_COUNT)
    _log(f"{rows:,} reminders due; starting a worker with two processes")
    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    worker = _start_worker(ctx, workdir / "outbox", workdir / "worker.log")
    app = Celery("bench-reminders", broker=ctx.redis_url, set_as_current=False)

    def enqueue(n: int) -> None:
        for _ in range(n):
            app.send_task(
                "reminders.tasks.dispatch_reminders",
                kwargs={"now": PINNED_NOW.isoformat(), "batch_size": 200},
                queue=QUEUE,
            )

    def due() -> int:
        return ctx.query(
            "SELECT COUNT(*) FROM collections_app_reminder WHERE status = 'sending' "
            "OR (status = 'planned' AND not_before <= %s)",
            [PINNED_NOW],
        )[0][0]

    def finished_runs() -> int:
        return ctx.query(
            "SELECT COUNT(*) FROM collections_app_reminderrun "
            "WHERE kind = 'dispatch' AND finished_at IS NOT NULL"
        )[0][0]

    try:
        base = finished_runs()
        started = time.monotonic()
        enqueue(2)
        sent_tasks = 2
        while due():
            # A pass ends when nothing is due or its time budget is spent: keep two going.
            if finished_runs() - base >= sent_tasks:
                enqueue(2)
                sent_tasks += 2
            if time.monotonic() - started > 1800:
                raise RuntimeError("dispatching did not finish in 30 minutes")
            time.sleep(0.25)
        seconds = time.monotonic() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    outcomes = dict(
        ctx.query("SELECT status, COUNT(*) FROM collections_app_reminder GROUP BY status")
    )
    processed = sum(outcomes.values()) - outcomes.get("planned", 0)
    files = len(list((workdir / "outbox" / "sms").glob("reminder-*.json")))
    shutil.rmtree(workdir, ignore_errors=True)
    rate = processed / seconds if seconds else 0.0
    raw_seconds, raw_rows = _raw_copy(
        ctx,
        [
            ("compliance_contactdecision", "actor_label LIKE 'system: reminder #%%'"),
            ("compliance_contactattempt", "actor_label LIKE 'system: reminder #%%'"),
            ("compliance_contactpermit", "TRUE"),
        ],
    )
    raw_rate = processed / raw_seconds if raw_seconds else 0.0
    return [
        Result(
            "Dispatching: reminders per second (2 worker processes)",
            f"{rate:,.0f}",
            f"> {TARGET_PER_SECOND:,.0f}",
            rate > TARGET_PER_SECOND,
            f"{processed:,} in {seconds:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
            + f"; {files:,} SMS files",
        ),
        Result(
            "Dispatching: raw ceiling (same rows, no logic)",
            f"{raw_rate:,.0f} reminders/s",
            note=f"{raw_rows:,} decision, attempt and permit rows copied in {raw_seconds:.2f} s",
        ),
    ]


def run(ctx: Context) -> list[Result]:
    return _plan(ctx) + _dispatch(ctx)
