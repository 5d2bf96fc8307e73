"""Benchmark: the collectors' pages under load, on the seeded portfolio.

Takes the portfolio the seed benchmark left (a million loans under ``make bench``; when run
alone on an empty database it seeds ``--loans`` first), creates 50 collectors, deals every
open case out to them with one UPDATE and computes the queue priorities with the production
service (one set-based statement). Then it starts gunicorn on 127.0.0.1 and runs locust
headless on loopback for a fixed time: 50 simulated collectors working the queue and the case
pages with 1 to 4 seconds between clicks. Each starts signed in, with a session made
beforehand (50 password hashes at once would measure PBKDF2, not the pages). It reports the
p95 and p99 latency per page and the error count, and stops the server. Nothing leaves this
machine.

Gunicorn runs with the project's ``gunicorn.conf.py``, as the image does. Sizes:
``BENCH_PAGES_USERS`` (50), ``BENCH_PAGES_SECONDS`` (60), ``BENCH_PAGES_WORKERS`` and
``BENCH_PAGES_THREADS`` (gunicorn processes and threads; default: those of ``gunicorn.conf.py``).
"""

from __future__ import annotations

import csv
import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .context import ROOT, Context, Result

NAME = "pages"
TITLE = "Workspace pages: queue and case under load"
DESCRIPTION = (
    "50 simulated collectors (locust, headless, on 127.0.0.1), signed in, work their queue: "
    "the queue page (keyset pagination, each row's 'may I call now' from a batched dry run of "
    "the gate), 'next case', a case page (debtor, contact points, loans with installments, "
    "plans, promises, payments, one timeline of attempts, decisions, notes, reminders and "
    "changes) and now and then the queue's second page, each collector clicking every 1 to 4 s, "
    "for a fixed time, against gunicorn (gthread, the project's gunicorn.conf.py) on the seeded "
    "portfolio, every open case dealt out to the 50 collectors."
)
TARGET_P95_MS = 200.0
PREFIX = "bench-collector-"
PAGES = ("queue", "next case", "case", "queue page 2")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _log(message: str) -> None:
    print(f"  [pages] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SETUP = """
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection
from cases.models import Case
from cases.priorities import case_priorities_refresh

group = Group.objects.get(name="collector")
digest = make_password(password)
users = []
for n in range(1, count + 1):
    user, _ = User.objects.update_or_create(
        username=f"{prefix}{n:02d}", defaults={"password": digest, "is_active": True}
    )
    user.groups.add(group)
    users.append(user.pk)
with connection.cursor() as cursor:
    cursor.execute(
        "UPDATE collections_app_case SET assigned_to_id = (%s::bigint[])[1 + (id %% %s)]",
        [users, len(users)],
    )
    cursor.execute("ANALYZE collections_app_case")
refreshed = case_priorities_refresh()
with connection.cursor() as cursor:
    cursor.execute("ANALYZE collections_app_case")
# The collectors are already signed in: a session each, as the login view would make it.
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
keys = []
for user in User.objects.filter(pk__in=users).order_by("username"):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    keys.append(session.session_key)
print(f"cases={Case.objects.count()} open={Case.objects.exclude(status='closed').count()} "
      f"refreshed={refreshed}")
print("SESSIONS=" + ",".join(keys))
"""


def ensure_portfolio(ctx: Context, log=_log) -> None:
    """The seed benchmark's portfolio, or, run alone on an empty database, ``--loans`` seeded."""
    cases = ctx.query("SELECT COUNT(*) FROM collections_app_case")[0][0]
    if not cases:
        log(f"no portfolio: seeding {ctx.options.get('loans', 1_000_000):,} loans")
        ctx.manage(
            "seed_demo",
            "--loans",
            str(ctx.options.get("loans", 1_000_000)),
            "--method",
            "copy",
            "--seed",
            str(ctx.options.get("seed", 1)),
            "--skip-priorities",
        )


def _prepare(ctx: Context, users: int, password: str) -> tuple[str, list[str]]:
    ensure_portfolio(ctx)
    script = f"prefix, count, password = {PREFIX!r}, {users}, {password!r}\n" + SETUP
    measured = ctx.manage("shell", "-c", script)
    lines = measured.stdout.strip().splitlines()
    sessions = next(line for line in lines if line.startswith("SESSIONS=")).split("=", 1)[1]
    summary = next(line for line in lines if line.startswith("cases="))
    _log(f"collectors and priorities ready in {measured.seconds:.1f}s: {summary}")
    return summary, sessions.split(",")


def server_size() -> tuple[int, int]:
    """Gunicorn's processes and threads: the benchmark's variables, else gunicorn.conf.py's."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return (
        _int("BENCH_PAGES_WORKERS", config["workers"]),
        _int("BENCH_PAGES_THREADS", config["threads"]),
    )


def start_server(
    ctx: Context, port: int, workers: int, threads: int, **env: str
) -> subprocess.Popen:
    """Gunicorn on 127.0.0.1:``port`` on the benchmark database, once it answers."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = ctx.env(ALLOWED_HOSTS="127.0.0.1,localhost", DB_CONN_MAX_AGE="600", **env)
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn on loopback
        [
            str(gunicorn),
            "collections_app.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited before answering") from None
            time.sleep(0.5)
    stop(server)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _run_locust(ctx: Context, port: int, users: int, seconds: int, sessions, out: Path):
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        raise RuntimeError("locust is not installed (pip install -e '.[dev]')")
    env = {
        **os.environ,
        "BENCH_PAGES_SESSIONS": ",".join(sessions),
    }
    subprocess.run(  # noqa: S603 - our own locust on loopback, stopped by --run-time
        [
            str(locust),
            "-f",
            str(ROOT / "bench" / "pages_locust.py"),
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "--users",
            str(users),
            "--spawn-rate",
            str(max(1, users // 5)),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--csv",
            str(out / "pages"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        timeout=seconds + 120,
    )
    with (out / "pages_stats.csv").open() as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def run(ctx: Context) -> list[Result]:
    users = _int("BENCH_PAGES_USERS", 50)
    seconds = _int("BENCH_PAGES_SECONDS", 60)
    workers, threads = server_size()
    password = "bench-pages-password-" + str(os.getpid())
    prepared, sessions = _prepare(ctx, users, password)
    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    server = start_server(ctx, port, workers, threads)
    try:
        # Warm the workers' connections and caches before measuring.
        for _ in range(workers * 2):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()  # noqa: S310
        _log(f"locust: {users} collectors for {seconds}s on 127.0.0.1:{port}")
        stats = _run_locust(ctx, port, users, seconds, sessions, out)
    finally:
        stop(server)
        shutil.rmtree(out, ignore_errors=True)

    results: list[Result] = []
    setting = f"{workers} gunicorn processes x {threads} threads; {prepared}"
    total_errors = 0
    for page in PAGES:
        row = stats.get(page)
        if row is None or not int(row["Request Count"]):
            # No measurement cannot meet the target.
            results.append(
                Result(f"{page}: p95", "no requests", f"< {TARGET_P95_MS:.0f} ms", False)
            )
            continue
        p95, p99 = float(row["95%"]), float(row["99%"])
        count, failures = int(row["Request Count"]), int(row["Failure Count"])
        total_errors += failures
        results.append(
            Result(
                f"{page}: p95 latency",
                f"{p95:.0f} ms",
                f"< {TARGET_P95_MS:.0f} ms",
                p95 < TARGET_P95_MS,
                f"{count:,} requests, p50 {float(row['50%']):.0f} ms, p99 {p99:.0f} ms, "
                f"{failures} errors",
            )
        )
    aggregated = stats.get("Aggregated", {})
    total = int(aggregated.get("Request Count") or 0)
    results.append(
        Result(
            "errors",
            f"{total_errors} of {total:,} requests",
            "0",
            total_errors == 0 and total > 0,
            setting,
        )
    )
    rps = float(aggregated.get("Requests/s") or 0)
    results.append(Result("throughput", f"{rps:.1f} requests/s", "", None, f"{seconds} s run"))
    return results
