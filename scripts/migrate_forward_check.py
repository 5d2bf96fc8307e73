"""Prove that a database built by an older revision migrates forward and keeps every row.

    python scripts/migrate_forward_check.py OLD_REVISION [--database NAME] [--debtors N]

1. Checks out ``OLD_REVISION`` into a temporary folder (``git worktree``), creates the
   database ``NAME`` (default ``migrate_forward_check``) on the server of ``DATABASE_URL``,
   migrates it with the old code and fills it as a user would: the demo portfolio, today's
   reminders planned and sent, the sample import files, the demo users.
2. Reads every table: its columns, its row count and a checksum of all its rows; and the
   whole schema (``pg_dump --schema-only``, when pg_dump is installed).
3. Migrates the same database with this checkout's code.
4. Reads everything again and compares. Every table must still be there with the same rows
   (same count, same checksum), the schema must be unchanged, and each content type must
   keep its id under its new app label. Only Django's own bookkeeping may differ:
   ``django_migrations`` gains rows, ``django_content_type`` gains app labels, and the
   permission tables may gain rows for models that are new since the old revision.
5. Reads each model of this checkout through the ORM, to show the code finds its rows.

Exits 0 when all of this holds, 1 (printing what differs) otherwise. The database is dropped
at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
BOOKKEEPING = {"django_migrations", "django_content_type"}
# May gain rows: permissions (and grants) of models added since the old revision.
GROWS = {"auth_permission", "auth_group_permissions"}


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run(cwd: Path, env: dict, *args: str) -> None:
    print(f"  $ manage.py {' '.join(args)}  ({cwd.name})", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def tables(url: str) -> dict[str, tuple[tuple[str, ...], int, str]]:
    """Each table's columns, row count and a checksum of its rows (in a stable order)."""
    found = {}
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                [table],
            )
            columns = tuple(row[0] for row in cursor.fetchall())
            cursor.execute(
                sql.SQL(
                    "SELECT COUNT(*), COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                    " FROM {} t"
                ).format(sql.Identifier(table))
            )
            count, checksum = cursor.fetchone()
            found[table] = (columns, count, checksum)
    return found


def content_types(url: str) -> dict[int, tuple[str, str]]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id, app_label, model FROM django_content_type")
        return {pk: (app, model) for pk, app, model in cursor.fetchall()}


def schema(url: str) -> str | None:
    dump = shutil.which("pg_dump")
    if dump is None:
        return None
    text = subprocess.run(
        [dump, "--schema-only", "--no-owner", "--no-privileges", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # The dump names the server's version and a random restriction key; neither is schema.
    return "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(("-- Dumped", "\\restrict", "\\unrestrict"))
    )


def orm_counts(env: dict) -> str:
    script = (
        "from django.apps import apps\n"
        "for model in apps.get_models():\n"
        "    print(model._meta.label, model._meta.db_table, model.objects.count())\n"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("revision")
    parser.add_argument("--database", default="migrate_forward_check")
    parser.add_argument("--debtors", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/collections")
    url = with_database(server, options.database)
    admin = with_database(server, "postgres")
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development", "DEBUG": "false"}
    env.pop("REDIS_URL", None)  # tasks in-process, as in the demo

    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(options.database))
        )
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options.database)))
    old = Path(tempfile.mkdtemp()) / "old"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(old), options.revision], cwd=ROOT, check=True
    )
    try:
        print(f"1. the old revision ({options.revision}) migrates and fills the database")
        run(old, env, "migrate", "--noinput")
        run(old, env, "seed_demo", "--debtors", str(options.debtors))
        run(old, env, "plan_reminders")
        run(old, env, "dispatch_reminders")
        run(old, env, "create_demo_users")
        for kind in ("debtors", "loans", "installments", "payments"):
            run(old, env, "import_portfolio", f"docs/import-samples/{kind}.csv", "--kind", kind)
        before, types_before, schema_before = tables(url), content_types(url), schema(url)

        print("2. this checkout migrates the same database")
        run(ROOT, env, "migrate", "--noinput")
        after, types_after, schema_after = tables(url), content_types(url), schema(url)

        problems = []
        for table, (columns, count, checksum) in before.items():
            if table not in after:
                problems.append(f"{table}: gone")
                continue
            columns_now, count_now, checksum_now = after[table]
            if columns_now != columns:
                problems.append(f"{table}: columns changed")
            if table in BOOKKEEPING:
                continue
            if table in GROWS:
                if count_now < count:
                    problems.append(f"{table}: {count} rows, now {count_now}")
                continue
            if (count_now, checksum_now) != (count, checksum):
                problems.append(
                    f"{table}: {count} rows, now {count_now} (checksum {checksum_now == checksum})"
                )
        problems += [f"{table}: new table" for table in sorted(set(after) - set(before))]
        for pk, (app, model) in types_before.items():
            now = types_after.get(pk)
            if now is None or now[1] != model:
                problems.append(f"content type {pk} ({app}.{model}) lost")
        if schema_before is not None and schema_before != schema_after:
            problems.append("the schema changed (pg_dump --schema-only differs)")
        moved = sorted(
            f"{app}.{model} -> {types_after[pk][0]}"
            for pk, (app, model) in types_before.items()
            if pk in types_after and types_after[pk][0] != app
        )
        rows = sum(count for table, (_c, count, _s) in before.items() if table not in BOOKKEEPING)
        print(f"   {len(before)} tables, {rows} rows compared; {len(moved)} content types renamed")
        print(
            "   schema compared"
            if schema_before is not None
            else "   (no pg_dump: schema not compared)"
        )

        print("3. this checkout's models read their rows")
        counts = orm_counts(env)
        for line in counts.splitlines():
            label, table, count = line.split()
            if table in before and int(count) != before[table][1]:
                problems.append(
                    f"{label}: the ORM reads {count} rows of {table}, the table had {before[table][1]}"
                )
        print(f"   {len(counts.splitlines())} models read")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
        if not options.keep:
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(options.database)
                    )
                )
        connection.close()
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        return 1
    print("OK: every table, row and content type is kept; the schema is unchanged.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
