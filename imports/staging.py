# ruff: noqa: S608 - identifiers come from the formats in code; every value is a parameter
"""Staging: the file goes into a temporary table with ``COPY``, and is checked there in SQL.

Why hand-written SQL: a million rows checked and saved one by one through the ORM (or a
row-by-row library such as django-import-export) takes tens of minutes and holds every row
object in memory; ``COPY`` into an untyped temporary table and a handful of set-based
statements do the same in seconds with memory bounded by the read buffer (the ``imports``
benchmark: a million loans in under 1 GiB, against the rate of a raw ``COPY``). Every check is one
pass over the table that writes ``ImportIssue`` rows (line, column, code); the messages are
rendered from the codes in the reader's language (``messages``). Before the checks, a cell
the product had neutralised for a spreadsheet (a fixed rejected-rows file) is read back as it
was (``restore_neutralised``).

Only the phone numbers and emails of debtor files are checked in Python (libphonenumber has no
SQL twin), a page of rows at a time.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import psycopg2
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from debtors.crypto import blind_index, encrypt
from debtors.csv_cells import restore_sql
from debtors.models import Debtor, Installment, Loan, Payment
from debtors.money import currency_places
from debtors.sql import literals
from debtors.validators import iana_timezones, iso_countries, normalize_email, normalize_phone
from imports.formats import (
    CHOICE,
    CONTACT_COLUMNS,
    COUNTRY,
    CURRENCY,
    DATE,
    DEFAULT_PAYMENT_SOURCE,
    EMAIL,
    INSTANT,
    INTEGER,
    MONEY,
    PHONE,
    TEXT,
    TIMEZONE,
    FileFormatError,
    Format,
    Source,
)
from imports.models import ImportIssue, ImportKind, ImportRejectedRow

# The tables the statements below name, from their models.
DEBTOR = Debtor._meta.db_table
INSTALLMENT = Installment._meta.db_table
LOAN = Loan._meta.db_table
PAYMENT = Payment._meta.db_table

ISSUE_TABLE = ImportIssue._meta.db_table
PAGE = 20_000
COPY_BUFFER = 1 << 20

_SESSION_SQL = r"""
CREATE OR REPLACE FUNCTION pg_temp.import_is_date(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN t !~ '^\d{4}-\d{2}-\d{2}$' THEN false
    WHEN substr(t, 1, 4)::int < 1 OR substr(t, 6, 2)::int NOT BETWEEN 1 AND 12 THEN false
    ELSE substr(t, 9, 2)::int BETWEEN 1 AND extract(day FROM
      make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1) + interval '1 month - 1 day')::int
  END
$$;
CREATE OR REPLACE FUNCTION pg_temp.import_is_instant(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN t !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}(:?\d{2})?)$'
      THEN false
    WHEN NOT pg_temp.import_is_date(substr(t, 1, 10)) THEN false
    WHEN substr(t, 12, 2)::int > 23 OR substr(t, 15, 2)::int > 59 THEN false
    WHEN substr(t, 17, 1) = ':' AND substr(t, 18, 2)::int > 59 THEN false
    ELSE true
  END
$$;
CREATE TEMP TABLE IF NOT EXISTS import_ref_currency (code text PRIMARY KEY, places int);
CREATE TEMP TABLE IF NOT EXISTS import_ref_country (code text PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS import_ref_timezone (name text PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS import_ref_date (day text PRIMARY KEY);
"""


def v(column: str, alias: str = "s") -> str:
    """A staged cell as the value it stands for: trimmed, and NULL when empty."""
    return f"NULLIF(btrim({alias}.{column}), '')"


def prepare_session(cursor) -> None:
    """Functions and reference tables of this database session (temporary, made once)."""
    # Room for the staging table in memory and for the hash joins over it. PostgreSQL
    # refuses a new temp_buffers once the session has used a temporary table: keep the old.
    cursor.execute("SET work_mem = '64MB'")
    try:
        with transaction.atomic():
            cursor.execute("SET temp_buffers = '256MB'")
    except DatabaseError:
        pass
    cursor.execute(_SESSION_SQL)
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_temp.import_ref_currency)")
    if cursor.fetchone()[0]:
        return
    cursor.execute(
        "INSERT INTO pg_temp.import_ref_date SELECT to_char(day, 'YYYY-MM-DD') FROM "
        "generate_series(date '1900-01-01', date '2199-12-31', interval '1 day') AS day"
    )
    currencies = "".join(f"{code}\t{currency_places(code)}\n" for code in sorted(list_currencies()))
    cursor.copy_expert("COPY pg_temp.import_ref_currency FROM STDIN", io.StringIO(currencies))
    countries = "".join(f"{code}\n" for code in sorted(iso_countries()))
    cursor.copy_expert("COPY pg_temp.import_ref_country FROM STDIN", io.StringIO(countries))
    zones = "".join(f"{name}\n" for name in sorted(iana_timezones()))
    cursor.copy_expert("COPY pg_temp.import_ref_timezone FROM STDIN", io.StringIO(zones))


def stage_table(job_id: int) -> str:
    return f"pg_temp.import_stage_{int(job_id)}"


def contacts_table(job_id: int) -> str:
    return f"pg_temp.import_contacts_{int(job_id)}"


def stage_columns(fmt: Format, header: list[str]) -> list[str]:
    """The staged column of each header column: the format's name, or ``extra_<n>``."""
    columns = []
    for index, name in enumerate(header):
        if name in fmt.names:
            if name in columns:
                raise FileFormatError(
                    _("The column %(name)s appears twice in the header.") % {"name": name}
                )
            columns.append(name)
        else:
            columns.append(f"extra_{index + 1}")
    missing = [name for name in fmt.required if name not in columns]
    if missing:
        raise FileFormatError(
            _("The header has no column %(names)s (it needs: %(required)s).")
            % {"names": ", ".join(missing), "required": ", ".join(fmt.required)}
        )
    return columns


def create_stage(cursor, job_id: int, fmt: Format, columns: list[str]) -> str:
    table = stage_table(job_id)
    names = list(dict.fromkeys([*columns, *fmt.names]))
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    # Lines are numbered as COPY reads them; the header is line 1.
    cursor.execute(
        f"CREATE TEMP TABLE {table.removeprefix('pg_temp.')} ("
        "line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2) PRIMARY KEY, "
        + ", ".join(f"{name} text" for name in names)
        + ")"
    )
    return table


def copy_rows(
    cursor,
    table: str,
    columns: list[str],
    source: Source,
    tick: Callable[[int, int], None] | None = None,
) -> None:
    """Stream the file into the staging table (one ``COPY``, memory: one read buffer), then
    read back the cells neutralised for a spreadsheet (``restore_neutralised``)."""
    reader = _ProgressReader(source, tick)
    delimiter = source.delimiter.replace("'", "''")
    sql = (
        f"COPY {table} ({', '.join(columns)}) FROM STDIN "
        f"WITH (FORMAT csv, DELIMITER '{delimiter}', ENCODING 'UTF8')"
    )
    try:
        # A savepoint: a file that cannot be read must not spoil a caller's transaction.
        with transaction.atomic():
            cursor.copy_expert(
                sql, reader, COPY_BUFFER
            )  # size: positional, as DEBUG's wrapper passes it on
    except (DatabaseError, psycopg2.Error) as exc:
        raise _copy_error(exc) from exc
    restore_neutralised(cursor, table, columns)


def restore_neutralised(cursor, table: str, columns: list[str]) -> None:
    """The staged cells as they were before the product neutralised them for a spreadsheet
    (``debtors.csv_cells.restore_sql``), so that a rejected-rows file, fixed and imported
    again, gives back ``-5.00``, not ``'-5.00``. Before any check reads them, and one pass:
    only a cell that begins with ``'`` can change, so only the rows that have one are
    written."""
    cells = ", ".join(f"{name} = {restore_sql(name)}" for name in columns)
    quoted = " OR ".join(f"starts_with({name}, '''')" for name in columns)
    cursor.execute(f"UPDATE {table} SET {cells} WHERE {quoted}")


class _ProgressReader(io.RawIOBase):
    def __init__(self, source: Source, tick):
        self._source = source
        self._tick = tick
        self._last = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.stream.read(size)
        if self._tick is not None:
            position = self._source.position()
            if position - self._last >= self._source.size // 50 or not chunk:
                self._last = position
                self._tick(position, self._source.size)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self._source.stream.readline(size)


_COPY_LINE = re.compile(r"COPY \S+, line (\d+)")


def _copy_error(exc: Exception) -> FileFormatError:
    """PostgreSQL's reason a row could not be read at all (e.g. too many columns)."""
    text = str(exc)
    match = _COPY_LINE.search(text)
    line = int(match.group(1)) + 1 if match else 1  # COPY counts from the line after the header
    reason = text.splitlines()[0] if text else exc.__class__.__name__
    return FileFormatError(
        _("Line %(line)d cannot be read: %(reason)s") % {"line": line, "reason": reason},
        line=line,
    )


# --- Checks ---------------------------------------------------------------------------------


def _is_amount(value: str) -> str:
    """Digits with at most one decimal point and an optional leading minus, at most 15
    before the point (the columns hold 19 digits, 4 after the point). String functions, not a
    regular expression: this runs on every amount of a million-row file."""
    digits = f"(CASE WHEN left({value}, 1) = '-' THEN substr({value}, 2) ELSE {value} END)"
    return (
        f"(translate({digits}, '0123456789', '') IN ('', '.') "
        f"AND left({digits}, 1) <> '.' AND right({digits}, 1) <> '.' "
        f"AND length(split_part({digits}, '.', 1)) <= 15)"
    )


def number(column: str) -> str:
    """The cell as a number, NULL when it is not one (never a cast error mid-statement: the
    planner may evaluate a cast before the filter that would have excluded the row)."""
    return f"(CASE WHEN {_is_amount(v(column))} THEN {v(column)}::numeric END)"


def _column_check(column, name: str) -> str | None:
    """A CASE expression naming the first problem of the cell, NULL when it has none."""
    value = v(name)
    cases = []
    if column.required:
        cases.append(f"WHEN {value} IS NULL THEN 'required'")
    else:
        cases.append(f"WHEN {value} IS NULL THEN NULL")
    if column.type == TEXT and column.max_length:
        cases.append(f"WHEN length({value}) > {int(column.max_length)} THEN 'too_long'")
    elif column.type == DATE:
        # Valid dates are looked up (a hash probe) rather than computed per row.
        cases.append(
            f"WHEN {value} NOT IN (SELECT day FROM pg_temp.import_ref_date) THEN 'bad_date'"
        )
    elif column.type == INSTANT:
        cases.append(f"WHEN NOT pg_temp.import_is_instant({value}) THEN 'bad_instant'")
    elif column.type == MONEY:
        cases.append(f"WHEN NOT {_is_amount(value)} THEN 'bad_amount'")
        cases.append(
            f"WHEN left({value}, 1) = '-' AND {value}::numeric <> 0 THEN 'negative_amount'"
        )
        if column.positive:
            cases.append(f"WHEN {value}::numeric = 0 THEN 'zero_amount'")
    elif column.type == INTEGER:
        cases.append(
            f"WHEN translate({value}, '0123456789', '') <> '' OR length({value}) > 9 "
            f"OR {value}::int < 1 THEN 'bad_integer'"
        )
    elif column.type == CHOICE:
        allowed = ", ".join(f"'{choice}'" for choice in column.choices)
        cases.append(f"WHEN {value} NOT IN ({allowed}) THEN 'unknown_choice'")
    elif column.type == COUNTRY:
        cases.append(
            f"WHEN {value} NOT IN (SELECT code FROM pg_temp.import_ref_country) "
            "THEN 'unknown_country'"
        )
    elif column.type == CURRENCY:
        cases.append(
            f"WHEN {value} NOT IN (SELECT code FROM pg_temp.import_ref_currency) "
            "THEN 'unknown_currency'"
        )
    elif column.type == TIMEZONE:
        cases.append(
            f"WHEN {value} NOT IN (SELECT name FROM pg_temp.import_ref_timezone) "
            "THEN 'unknown_timezone'"
        )
    elif column.type in (PHONE, EMAIL):
        return None  # checked in Python (``check_contacts``)
    if len(cases) == 1 and not column.required:
        return None
    return "CASE " + " ".join(cases) + " END"


# Cells never kept with a problem or a rejected row: the file has them, the database must not.
PERSONAL_COLUMNS = ("national_id", "date_of_birth")


def _insert_issues(cursor, job_id: int, select_sql: str, params: dict | None = None) -> None:
    cursor.execute(
        f'INSERT INTO {ISSUE_TABLE} (job_id, line, "column", code, value, params) '
        "SELECT %(job)s, line, col, code, "
        "CASE WHEN col = ANY(%(personal)s) THEN '' ELSE COALESCE(val, '') END, prm "
        f"FROM ({select_sql}) AS found",
        {"job": job_id, "personal": list(PERSONAL_COLUMNS), **(params or {})},
    )


def check_rows(cursor, job_id: int, fmt: Format, table: str) -> None:
    """Every per-cell, per-file and per-reference check of the format, in a few passes.

    Each pass first finds the rows with a problem in one scan (cheap, as most rows have
    none), then spells out the problems of those rows only. ``OFFSET 0`` keeps the planner
    from merging the two steps.
    """
    checks = [
        (name, expression)
        for name in fmt.names
        if (expression := _column_check(fmt.column(name), name)) is not None
    ]
    if checks:
        suspect = " OR ".join(f"({expr}) IS NOT NULL" for _name, expr in checks)
        values = ", ".join(f"('{name}', {expr}, s.{name})" for name, expr in checks)
        _insert_issues(
            cursor,
            job_id,
            f"SELECT s.line, c.col, c.code, c.val, '{{}}'::jsonb AS prm "
            f"FROM (SELECT * FROM {table} s WHERE {suspect} OFFSET 0) AS s "
            f"CROSS JOIN LATERAL (VALUES {values}) AS c(col, code, val) "
            "WHERE c.code IS NOT NULL",
        )
    _check_duplicates(cursor, job_id, fmt, table)
    _check_references(cursor, job_id, fmt, table)
    _check_places(cursor, job_id, fmt, table)


def _clean(column: str, expression: str | None = None) -> str:
    """Rows whose ``column`` already has a problem are not checked further on it."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {ISSUE_TABLE} i WHERE i.job_id = %(job)s "
        f'AND i.line = s.line AND i."column" = {expression or repr(column)})'
    )


def _key_expressions(fmt: Format) -> list[str]:
    expressions = []
    for name in fmt.key:
        if fmt.kind == ImportKind.PAYMENTS and name == "source":
            expressions.append(f"COALESCE({v(name)}, '{DEFAULT_PAYMENT_SOURCE}')")
        else:
            expressions.append(v(name))
    return expressions


def _check_duplicates(cursor, job_id: int, fmt: Format, table: str) -> None:
    keys = _key_expressions(fmt)
    column = fmt.key[-1]
    shown = " || ' / ' || ".join(keys) if len(keys) > 1 else keys[0]
    not_null = " AND ".join(f"{v(name)} IS NOT NULL" for name in fmt.key if name != "source")
    key_list = ", ".join(keys)
    # The repeated keys first (one hashed pass), then their lines in order.
    _insert_issues(
        cursor,
        job_id,
        f"""
        SELECT line, '{column}' AS col, 'duplicate_ref' AS code, shown AS val,
               jsonb_build_object('first', first_line) AS prm
          FROM (SELECT s.line, {shown} AS shown,
                       first_value(s.line) OVER w AS first_line, row_number() OVER w AS n
                  FROM {table} s
                 WHERE {not_null} AND ({key_list}) IN (
                       SELECT {key_list} FROM {table} s WHERE {not_null}
                        GROUP BY {", ".join(keys)} HAVING count(*) > 1)
                WINDOW w AS (PARTITION BY {", ".join(keys)} ORDER BY s.line)) AS d
         WHERE n > 1
        """,
    )


def _check_references(cursor, job_id: int, fmt: Format, table: str) -> None:
    if fmt.kind == ImportKind.LOANS:
        _insert_issues(
            cursor,
            job_id,
            f"""SELECT s.line, 'debtor_ref' AS col, 'unknown_debtor' AS code,
                       s.ref AS val, '{{}}'::jsonb AS prm
                  FROM (SELECT s.line, {v("debtor_ref")} AS ref FROM {table} s
                         WHERE {v("debtor_ref")} IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM {DEBTOR} d
                                            WHERE d.external_ref = {v("debtor_ref")})
                        OFFSET 0) AS s
                 WHERE {_clean("debtor_ref")}""",
        )
    if fmt.kind in (ImportKind.INSTALLMENTS, ImportKind.PAYMENTS):
        _insert_issues(
            cursor,
            job_id,
            f"""SELECT s.line, 'loan_ref' AS col, 'unknown_loan' AS code,
                       s.ref AS val, '{{}}'::jsonb AS prm
                  FROM (SELECT s.line, {v("loan_ref")} AS ref FROM {table} s
                         WHERE {v("loan_ref")} IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM {LOAN} l
                                            WHERE l.external_ref = {v("loan_ref")})
                        OFFSET 0) AS s
                 WHERE {_clean("loan_ref")}""",
        )
    if fmt.kind == ImportKind.PAYMENTS:
        # A payment on a closed loan is refused before anything is posted.
        _insert_issues(
            cursor,
            job_id,
            f"""SELECT s.line, 'loan_ref' AS col, 'loan_closed' AS code,
                       {v("loan_ref")} AS val, jsonb_build_object('status', l.status) AS prm
                  FROM {table} s JOIN {LOAN} l ON l.external_ref = {v("loan_ref")}
                 WHERE l.status IN {literals(Loan.CLOSED_STATUSES)}
                   AND NOT EXISTS (SELECT 1 FROM {PAYMENT} p
                                    WHERE p.source = COALESCE({v("source")}, %(source)s)
                                      AND p.external_ref = {v("external_ref")})""",
            {"source": DEFAULT_PAYMENT_SOURCE},
        )
    if fmt.kind == ImportKind.INSTALLMENTS:
        # Paid more than due: in the row itself, or against what is already paid.
        _insert_issues(
            cursor,
            job_id,
            f"""SELECT s.line, 'amount_paid' AS col, 'paid_exceeds_due' AS code,
                       s.paid AS val, jsonb_build_object('due', s.due) AS prm
                  FROM (SELECT s.line, COALESCE({v("amount_paid")}, i.amount_paid::text) AS paid,
                               {v("amount_due")} AS due
                          FROM {table} s
                          JOIN {LOAN} l ON l.external_ref = {v("loan_ref")}
                          LEFT JOIN {INSTALLMENT} i ON i.loan_id = l.id AND i.sequence =
                               CASE WHEN translate({v("sequence")}, '0123456789', '') = ''
                                     AND length({v("sequence")}) <= 9
                                    THEN {v("sequence")}::int END
                         WHERE COALESCE({number("amount_paid")}, i.amount_paid, 0)
                               > {number("amount_due")}
                        OFFSET 0) AS s
                 WHERE {_clean("amount_due")} AND {_clean("amount_paid")}""",
        )


def _money_columns(fmt: Format) -> list[str]:
    return [column.name for column in fmt.columns if column.type == MONEY]


def _check_places(cursor, job_id: int, fmt: Format, table: str) -> None:
    """Amounts in no more decimal places than their currency has (JPY 0, CNY 2, ...)."""
    names = _money_columns(fmt)
    if not names:
        return
    if fmt.kind == ImportKind.LOANS:
        joins = f"JOIN pg_temp.import_ref_currency r ON r.code = {v('currency')}"
    else:
        joins = (
            f"JOIN {LOAN} l ON l.external_ref = {v('loan_ref')} "
            "JOIN pg_temp.import_ref_currency r ON r.code = l.currency"
        )

    def decimals(name: str) -> str:
        return f"length({v(name)}) - position('.' in {v(name)})"

    # Cheap first: more digits after the point than the currency has (zeros aside later).
    suspect = " OR ".join(
        f"(position('.' in {v(name)}) > 0 AND {decimals(name)} > r.places)" for name in names
    )
    values = ", ".join(f"('{name}', {v(name)}, {number(name)})" for name in names)
    _insert_issues(
        cursor,
        job_id,
        f"""SELECT s.line, c.col, 'too_many_places' AS code, c.val,
                   jsonb_build_object('currency', s.code, 'places', s.places) AS prm
              FROM (SELECT s.*, r.code, r.places FROM {table} s {joins}
                     WHERE {suspect} OFFSET 0) AS s
             CROSS JOIN LATERAL (VALUES {values}) AS c(col, val, amount)
             WHERE c.amount IS NOT NULL AND scale(c.amount) > s.places
               AND c.amount <> round(c.amount, s.places) AND {_clean("", "c.col")}""",
    )


def check_contacts(cursor, job_id: int, table: str, present: list[str]) -> None:
    """Phones (valid for the debtor's country, stored in E.164) and emails, page by page.

    The normalised values go to a second temporary table for the upsert.
    """
    columns = [name for name in CONTACT_COLUMNS if name in present]
    target = contacts_table(job_id)
    cursor.execute(f"DROP TABLE IF EXISTS {target}")
    cursor.execute(
        f"CREATE TEMP TABLE {target.removeprefix('pg_temp.')} (line bigint, kind text, value text)"
    )
    if not columns:
        return
    last = 0
    countries = iso_countries()
    while True:
        cursor.execute(
            f"SELECT line, {v('country')}, {', '.join(v(name) for name in columns)} "
            f"FROM {table} s WHERE line > %s ORDER BY line LIMIT {PAGE}",
            [last],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        issues: list[ImportIssue] = []
        good = io.StringIO()
        for line, country, *values in rows:
            region = country if country in countries else None
            for name, value in zip(columns, values, strict=True):
                if value is None:
                    continue
                kind = CONTACT_COLUMNS[name]
                try:
                    if name in ("mobile", "landline"):
                        value = normalize_phone(value, region)
                    elif name == "email":
                        value = normalize_email(value)
                    elif len(value) > 500:
                        raise ValidationError("", code="too_long")
                except ValidationError as exc:
                    code = exc.error_list[0].code or "invalid"
                    issues.append(
                        ImportIssue(job_id=job_id, line=line, column=name, code=code, value=value)
                    )
                    continue
                good.write(f"{line}\t{kind}\t{_copy_text(value)}\n")
        ImportIssue.objects.bulk_create(issues, batch_size=5000)
        good.seek(0)
        cursor.copy_expert(f"COPY {target} (line, kind, value) FROM STDIN", good)
        last = rows[-1][0]


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


# --- After the checks -------------------------------------------------------------------------


def invalid_line_count(cursor, job_id: int) -> int:
    cursor.execute(
        f"SELECT count(DISTINCT line) FROM {ISSUE_TABLE} WHERE job_id = %s AND line > 1", [job_id]
    )
    return cursor.fetchone()[0]


def set_aside_rejected(cursor, job_id: int, table: str, columns: list[str]) -> None:
    """Keep the rows with problems (as they were in the file, less their personal cells:
    ``PERSONAL_COLUMNS``) and take them out of staging."""

    rejected = ImportRejectedRow._meta.db_table
    cells = ", ".join("NULL" if name in PERSONAL_COLUMNS else f"s.{name}" for name in columns)
    cursor.execute(
        f"""INSERT INTO {rejected} (job_id, line, data)
            SELECT %(job)s, s.line, jsonb_build_array({cells}) FROM {table} s
             WHERE s.line IN (SELECT line FROM {ISSUE_TABLE} WHERE job_id = %(job)s)""",
        {"job": job_id},
    )
    cursor.execute(
        f"DELETE FROM {table} s WHERE s.line IN "
        f"(SELECT line FROM {ISSUE_TABLE} WHERE job_id = %(job)s)",
        {"job": job_id},
    )


def encrypt_national_ids(cursor, table: str, *, batch: int = 5000) -> int:
    """Replace the staged national ids by their encrypted form and add their search key
    (``national_id_index``), as the model stores them; after the checks, which read the plain
    cells. Returns how many were encrypted."""
    cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS national_id_index text")
    done, last = 0, 0
    while True:
        cursor.execute(
            f"SELECT line, {v('national_id')} FROM {table} s WHERE s.line > %s "
            f"AND {v('national_id')} IS NOT NULL AND s.national_id_index IS NULL "
            f"ORDER BY line LIMIT {int(batch)}",
            [last],
        )
        rows = cursor.fetchall()
        if not rows:
            return done
        cursor.execute(
            f"UPDATE {table} s SET national_id = x.token, national_id_index = x.idx "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS x(line, token, idx) "
            "WHERE s.line = x.line",
            [
                [line for line, _plain in rows],
                [encrypt(plain) for _line, plain in rows],
                [blind_index(plain) for _line, plain in rows],
            ],
        )
        done += len(rows)
        last = rows[-1][0]


def drop(cursor, job_id: int) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {stage_table(job_id)}")
    cursor.execute(f"DROP TABLE IF EXISTS {contacts_table(job_id)}")


def row_count(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")
    return cursor.fetchone()[0]
