"""Check that PostgreSQL and Redis answer before the tests or the benchmarks start.

Reads ``DATABASE_URL`` and ``REDIS_URL``. When both answer it creates the database named in
``DATABASE_URL`` if it does not exist yet (the tests make their own, but ``makemigrations``
and the benchmarks use this one) and exits 0. Otherwise it prints one line naming what is
down and how to start it, and exits 1.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import redis
from psycopg2 import sql

TIMEOUT_SECONDS = 3


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_postgres(url: str) -> str | None:
    """Return why PostgreSQL cannot be used, or None; create the database if missing."""
    database = urlsplit(url).path.lstrip("/")
    try:
        conn = psycopg2.connect(url, dbname="postgres", connect_timeout=TIMEOUT_SECONDS)
    except psycopg2.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if database and cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        conn.close()
    return None


def check_redis(url: str) -> str | None:
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or "no answer"
    return None


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    problems = []
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append(f"DATABASE_URL must point at PostgreSQL (got {database_url!r})")
    else:
        reason = check_postgres(database_url)
        if reason:
            problems.append(
                f"PostgreSQL is not reachable at {without_password(database_url)} ({reason}); "
                "start it with `pg_ctlcluster <version> main start`"
            )
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append(f"REDIS_URL must point at Redis (got {redis_url!r})")
    else:
        reason = check_redis(redis_url)
        if reason:
            problems.append(
                f"Redis is not reachable at {without_password(redis_url)} ({reason}); "
                "start it with `redis-server --daemonize yes --bind 127.0.0.1 --save ''`"
            )
    if problems:
        print(
            "Cannot run: "
            + "; and ".join(problems)
            + " (or run `bash .ci/run`, which installs and starts both).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
