"""Real processes for the worker tests: a private Redis per test and Celery workers.

Each test starts its own ``redis-server`` on a free loopback port (so it can stop and restart
it without touching the machine's shared one) and workers that use the test database, which
pytest-django has named in ``settings.DATABASES`` by the time a test runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
CELERY = Path(sys.executable).with_name("celery")
DEADLINE = 180.0  # seconds before a wait gives up (a failure bound for a loaded machine, not a measurement)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float = DEADLINE, every: float = 0.2, what: str = ""):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(every)


class RedisServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, what="redis to answer")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """``celery -A collections_app worker`` in its own process group."""

    def __init__(self, redis: RedisServer, workdir: Path, *, pool="prefork", concurrency=2, **env):
        self.redis, self.workdir = redis, workdir
        self.pool, self.concurrency = pool, concurrency
        self.extra_env = {k: str(v) for k, v in env.items()}
        self.process: subprocess.Popen | None = None
        self.log = workdir / "worker.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            APP_ENV="test",
            DATABASE_URL=database_url(),
            REDIS_URL=self.redis.url,
            DB_CONN_MAX_AGE="0",
            REMINDER_OUTBOX_DIR=str(self.workdir / "outbox"),
            MEDIA_ROOT=str(self.workdir / "media"),
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.workdir / "outbox" / "email"),
            SMS_PROVIDER_URL="",
            LEDGER_ANCHOR_PATH=str(self.workdir / "ledger-anchors.jsonl"),
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Worker:
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "collections_app",
                "worker",
                "-P",
                self.pool,
                "-c",
                str(self.concurrency),
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: b"ready." in self.log.read_bytes(), what="the worker to start")
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (its pool processes too): no chance to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


def client_for(redis: RedisServer) -> Celery:
    """A Celery client that sends to this test's Redis only (the project's app is untouched)."""
    app = Celery("reminder-tests", broker=redis.url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    return app


def send(app: Celery, task: str, **kwargs) -> None:
    app.send_task(f"reminders.tasks.{task}", kwargs=kwargs)
