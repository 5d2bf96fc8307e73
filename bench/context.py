"""What a benchmark gets: the benchmark database, a way to run commands and measure them."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/collections"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
BENCH_DATABASE = "collections_bench"


def ledger_anchors_path(database_url: str) -> Path:
    """The ledger's anchor file of a benchmark database: its own, never the demo's (the anchors
    of a database recreated for a run would not match the new chain)."""
    name = database_url.rstrip("/").rpartition("/")[2] or "bench"
    return ROOT / "var" / "bench" / f"{name}-ledger-anchors.jsonl"


@dataclass
class Result:
    """One figure of a benchmark, with its target when it has one."""

    measure: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Measured:
    """A finished command: wall time, peak memory of its process tree, its output."""

    seconds: float
    max_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system, of the process and the children it waited for


@dataclass
class Context:
    database_url: str  # the benchmark database, never the test or demo one
    redis_url: str
    options: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)  # shared between benchmarks of one run

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "APP_ENV": "development",
                "DEBUG": "false",  # no query log growing in long runs
                "LEDGER_ANCHOR_PATH": str(ledger_anchors_path(self.database_url)),
            }
        )
        env.update(extra)
        return env

    def manage(self, *args: str, check: bool = True) -> Measured:
        """Run ``manage.py`` on the benchmark database and measure it."""
        measured = run_measured([sys.executable, str(ROOT / "manage.py"), *args], env=self.env())
        if check and measured.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({measured.returncode}):\n{measured.stderr}"
            )
        return measured

    def connect(self):
        """A psycopg2 connection to the benchmark database (autocommit)."""
        connection = psycopg2.connect(dsn_from_url(self.database_url))
        connection.autocommit = True
        return connection

    def query(self, sql: str, params=None) -> list[tuple]:
        with closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def run_measured(argv: list[str], *, env: dict[str, str]) -> Measured:
    """Run ``argv`` and return its wall time and the peak RSS of its process tree.

    ``wait4`` reports the child's own usage merged with that of the children it waited for,
    so a command that forks a helper is measured whole (the largest process's peak).
    """
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Read output on threads so a chatty command cannot block on a full pipe.
    out: list[str] = []
    err: list[str] = []
    readers = [_drain(process.stdout, out), _drain(process.stderr, err)]
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - started
    return Measured(
        seconds,
        usage.ru_maxrss * 1024,
        process.returncode,
        "".join(out),
        "".join(err),
        usage.ru_utime + usage.ru_stime,
    )


def _drain(stream, sink: list[str]) -> threading.Thread:
    def read() -> None:
        for line in stream:
            sink.append(line)
        stream.close()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def dsn_from_url(url: str) -> str:
    parts = urlsplit(url)
    fields = {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "dbname": parts.path.lstrip("/"),
        "user": parts.username or "",
        "password": parts.password or "",
    }
    return " ".join(f"{key}={value}" for key, value in fields.items() if value)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def machine_facts(database_url: str) -> dict[str, str]:
    facts = {
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count() or "?"),
        "Memory": _memory(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    try:
        connection = psycopg2.connect(dsn_from_url(database_url))
        with closing(connection), connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            facts["PostgreSQL"] = cursor.fetchone()[0]
    except psycopg2.Error as exc:
        facts["PostgreSQL"] = f"unreachable ({exc.__class__.__name__})"
    return facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"
