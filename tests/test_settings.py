"""Settings come from the environment; production refuses to start without its secrets.

Each case runs ``manage.py`` in a fresh process with a controlled environment, because the
settings module is evaluated once per process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from collections_app.settings import DEVELOPMENT_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k7Qp-2vXz9Lr_w4Nb8Tc1Hs6Jm3Fd5Gy0Ua-Ek9Wq2Zx7Cv4Bn1Mh8Lt6Rp3Sd5Fg0Jy"
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "collections.example.com",
    "DATABASE_URL": "postgres://collections:secret@db.example.com:5432/collections",
    "LEDGER_ANCHOR_KEY": "a9Vd-3kPq7Lx2Wm5Rt8Zc1Nb4Hy6Gf0Js-Ue3Oi9Ka7",
    "FIELD_ENCRYPTION_KEY": "AhttS5PuJwi91-rAqTya1AGVpqqLrhtJbx21Lw3ESHc=",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", ""), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_production_passes_the_deployment_checks_without_a_warning():
    result = manage("check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is missing or is the development default"),
        (
            {"SECRET_KEY": DEVELOPMENT_SECRET_KEY},
            "SECRET_KEY is missing or is the development default",
        ),
        ({"SECRET_KEY": "short-but-not-default"}, "SECRET_KEY is too short or too simple"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must name the hosts"),
        ({"DATABASE_URL": None}, "DATABASE_URL is required in production"),
        ({"DEBUG": "true"}, "DEBUG must be off in production"),
        ({"FIELD_ENCRYPTION_KEY": None}, "FIELD_ENCRYPTION_KEY is missing"),
        ({"LEDGER_ANCHOR_KEY": None}, "LEDGER_ANCHOR_KEY is missing"),
    ],
    ids=[
        "no-secret-key",
        "development-key",
        "weak-key",
        "no-allowed-hosts",
        "no-database",
        "debug",
        "no-field-key",
        "no-anchor-key",
    ],
)
def test_production_refuses_to_start_without_its_settings(change, message):
    environment = {**PRODUCTION, **change}
    environment = {key: value for key, value in environment.items() if value is not None}
    result = manage("check", **environment)
    assert result.returncode != 0
    assert message in result.stderr


def test_a_field_key_that_is_not_a_fernet_key_fails_the_check():
    result = manage("check", "--deploy", **{**PRODUCTION, "FIELD_ENCRYPTION_KEY": "not-a-key"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be Fernet keys" in result.stderr


def test_an_unknown_app_env_is_refused():
    result = manage("check", APP_ENV="staging")
    assert result.returncode != 0
    assert "APP_ENV must be one of development, test, production" in result.stderr


@pytest.fixture
def server_folder():
    """A folder the embedded server's own user can reach. Not pytest's ``tmp_path``: as root
    the wheel runs the server as an unprivileged user, and every pytest process that starts
    (the isolated tests run two at a time) makes ``/tmp/pytest-of-root`` private again."""
    folder = Path(tempfile.mkdtemp(prefix="embedded-postgres-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_no_environment_at_all_runs_on_the_embedded_postgresql(server_folder):
    """No DATABASE_URL: the embedded server is started, used, and found running by the next
    command (which reuses it); ``embedded_db stop`` stops it."""
    data = server_folder / "postgres"
    show = (
        "from django.conf import settings as s; from django.db import connection as c; "
        "c.ensure_connection(); "
        "print(s.DATABASES['default']['ENGINE'], c.vendor, c.pg_version >= 180000, "
        "s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    )
    try:
        first = manage("shell", "--no-imports", "-c", show, EMBEDDED_DATABASE_DIR=str(data))
        assert first.returncode == 0, first.stderr
        assert first.stdout.split() == [
            "django.db.backends.postgresql",
            "postgresql",
            "True",
            "True",
            "True",
        ]
        assert (data / "PG_VERSION").exists()
        status = manage("embedded_db", "status", EMBEDDED_DATABASE_DIR=str(data))
        assert status.stdout.startswith("running"), status.stderr
    finally:
        stopped = manage("embedded_db", "stop", EMBEDDED_DATABASE_DIR=str(data))
    assert stopped.stdout.strip() == "stopped", stopped.stderr


def test_a_database_other_than_postgresql_is_refused():
    result = manage("check", DATABASE_URL="mysql://user@127.0.0.1:3306/collections")
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr
