# ruff: noqa: S608 - identifiers come from the formats in code; every value is a parameter
"""Importing a portfolio file: create the job, run it (from a Celery task or the command).

A run, in order:

1. the file is streamed into a temporary staging table with ``COPY`` (``staging``);
2. every row is checked there, set-based; problems are stored with line, column and code;
3. rows with problems are set aside (for the rejected-rows download) and removed from staging;
4. if some rows had problems and the user did not ask for "import the valid rows", nothing is
   written (status ``rejected``); a dry run writes nothing either (status ``checked``) but
   reports what it would have done;
5. otherwise the rows are upserted in one transaction (``upsert``), history included;
   payments are posted one by one through ``payment_record`` (allocation, promises, plans and
   reminders), each in its own transaction and idempotent by source and reference.

Progress (phase and percent) is written on a separate database connection, so a page polling
it sees it move while the import's own connection is inside a statement or a transaction.

A running job holds a PostgreSQL advisory lock (``RUNNER_LOCK``, the job's id) on the import's
own connection for as long as it runs: the lease. A worker that dies, even SIGKILLed, loses its
connection and with it the lock, so ``imports_fail_abandoned`` (run by the import pages and by
a periodic task) finds a "running" job nobody holds and marks it failed, for the user to run
again. Nothing is half-written: debtors, loans and installments are written in one
transaction, which PostgreSQL rolls back with the lost connection; payments are posted one
transaction each and recognised by their reference, so running the file again posts the rest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.payments import payment_record
from cases.workflow import cases_follow_import
from debtors.audit import Actor, acting_as, actor_label, system_actor
from debtors.csv_cells import CsvWriter
from debtors.models import Loan
from imports import staging, upsert
from imports.formats import (
    DEFAULT_PAYMENT_SOURCE,
    FORMATS,
    FileFormatError,
    header_name,
    open_source,
)
from imports.models import ImportIssue, ImportJob, ImportKind

# The tables the statements below name, from their models.
LOAN = Loan._meta.db_table

Progress = Callable[[str, int, int], None]

# Namespace of the advisory locks held by running imports (the second key is the job's id).
RUNNER_LOCK = 0x494D5054

PHASES = {
    "reading": (0, 60),
    "checking": (60, 75),
    "writing": (75, 100),
}


def import_create(
    *,
    actor: Actor,
    kind: str,
    file,
    name: str | None = None,
    dry_run: bool = False,
    valid_rows_only: bool = False,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> ImportJob:
    """Store the uploaded file and a queued job for it.

    Raises ``ValidationError`` (nothing stored) for an unknown kind, or a file larger than
    ``IMPORT_MAX_UPLOAD_MB`` (``import_size_check``). The file is stored under a random name;
    ``name`` (default: the file's own) is kept as ``original_name`` for display only.
    """
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Unknown import kind %(kind)s.") % {"kind": kind}})
    name = name or Path(getattr(file, "name", "") or "import.csv").name
    file = file if isinstance(file, File) else File(file, name=name)
    import_size_check(file)
    job = ImportJob(
        kind=kind,
        original_name=name[:255],
        dry_run=dry_run,
        valid_rows_only=valid_rows_only,
        language=language or translation.get_language() or "en",
        created_by=None if isinstance(actor, str) else actor,
        actor_label=actor_label(system_actor(actor) if isinstance(actor, str) else actor),
        created_at=now or timezone.now(),
    )
    job.file.save(name, file, save=False)
    job.save()
    return job


def import_size_check(file: File) -> None:
    """Refuse (``ValidationError`` on ``file``) a file larger than ``IMPORT_MAX_UPLOAD_MB``:
    the one limit of every import, whether from the page, the API or the command."""
    limit = settings.IMPORT_MAX_UPLOAD_MB
    if file.size is None or file.size > limit * 1024 * 1024:
        raise ValidationError(
            {"file": _("The file is larger than %(limit)d MB.") % {"limit": limit}}
        )


class _ProgressWriter:
    """Writes the job's phase and percent on its own connection (never blocks the import)."""

    def __init__(self, job_id: int, callback: Progress | None):
        self.job_id = job_id
        self.callback = callback
        self._connection = None
        self._last = (None, -1)

    def __call__(self, phase: str, done: int, total: int) -> None:
        start, end = PHASES.get(phase, (0, 100))
        percent = start + (end - start) * (min(done, total) / total if total else 1)
        if self.callback is not None:
            self.callback(phase, int(percent), 100)
        if self._last == (phase, int(percent)):
            return
        self._last = (phase, int(percent))
        try:
            if self._connection is None:
                self._connection = connections.create_connection("default")
            with self._connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET phase = %s, progress = %s "
                    "WHERE id = %s",
                    [phase, int(percent), self.job_id],
                )
        except DatabaseError:
            pass  # progress is a courtesy; the import goes on without it

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def _try_lock(cursor, job_id: int) -> bool:
    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUNNER_LOCK, job_id])
    return cursor.fetchone()[0]


def _unlock(cursor, job_id: int) -> None:
    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUNNER_LOCK, job_id])


def import_run(
    *, job_id: int, progress: Progress | None = None, now: dt.datetime | None = None
) -> ImportJob:
    """Run a queued job once. A second call (a redelivered task) finds it taken and returns.

    The runner's lock is taken before the job is claimed, so a job seen "running" always has
    its lock held while its runner lives (see ``imports_fail_abandoned``).
    """
    started = now or timezone.now()
    with connection.cursor() as cursor:
        if not _try_lock(cursor, job_id):
            return ImportJob.objects.get(pk=job_id)
    try:
        taken = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
            status=ImportJob.Status.RUNNING, started_at=started, phase="reading", progress=0
        )
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        if taken:
            _run_claimed(job, progress, started)
            job.refresh_from_db()
        return job
    finally:
        # A lost connection has released the lock already.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            _unlock(cursor, job_id)


def _run_claimed(job: ImportJob, progress: Progress | None, started: dt.datetime) -> None:
    writer = _ProgressWriter(job.pk, progress)
    try:
        with translation.override(job.language):
            _run(job, writer, started)
    except FileFormatError as exc:
        ImportIssue.objects.create(
            job=job, line=exc.line, column="", code="file", value=str(exc.message)
        )
        _finish(job, ImportJob.Status.REJECTED)
    except Exception as exc:
        _finish(job, ImportJob.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}")
        raise
    finally:
        writer.close()
        with connection.cursor() as cursor:
            staging.drop(cursor, job.pk)


def _finish(job: ImportJob, status: str, **fields) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, finished_at=timezone.now(), phase="", progress=100, **fields
    )


def imports_fail_abandoned(*, job_ids=None, now: dt.datetime | None = None) -> list[int]:
    """Mark failed the running jobs whose runner is gone (its lock is free); return their ids.

    A job is only failed while this holds its lock, and only if it is still running, so a
    second call, or a call racing the runner's own end, changes nothing.
    """
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING)
    if job_ids is not None:
        running = running.filter(pk__in=job_ids)
    failed = []
    with connection.cursor() as cursor:
        for job_id, language in running.values_list("pk", "language"):
            if not _try_lock(cursor, job_id):
                continue  # its runner is alive
            try:
                with translation.override(language):
                    message = _(
                        "The import stopped before it finished: the process running it ended. "
                        "Upload the file again; rows already imported are recognised and not "
                        "written twice."
                    )
                changed = ImportJob.objects.filter(
                    pk=job_id, status=ImportJob.Status.RUNNING
                ).update(
                    status=ImportJob.Status.FAILED,
                    finished_at=now or timezone.now(),
                    phase="",
                    error=message,
                )
                if changed:
                    failed.append(job_id)
            finally:
                _unlock(cursor, job_id)
    return failed


def _run(job: ImportJob, tick: _ProgressWriter, now: dt.datetime) -> None:
    fmt = FORMATS[job.kind]
    actor = job.created_by or job.actor_label or system_actor("import")
    with job.file.open("rb") as fileobj:
        source = open_source(fileobj, job.original_name)
        header = [header_name(name) for name in source.header]
        columns = staging.stage_columns(fmt, header)
        ImportJob.objects.filter(pk=job.pk).update(columns=source.header)
        with connection.cursor() as cursor:
            staging.prepare_session(cursor)
            table = staging.create_stage(cursor, job.pk, fmt, columns)
            staging.copy_rows(
                cursor, table, columns, source, lambda done, total: tick("reading", done, total)
            )
    with connection.cursor() as cursor:
        total = staging.row_count(cursor, table)
        tick("checking", 0, 3)
        staging.check_rows(cursor, job.pk, fmt, table)
        tick("checking", 1, 3)
        if job.kind == ImportKind.DEBTORS:
            staging.check_contacts(cursor, job.pk, table, columns)
        else:
            staging.check_contacts(cursor, job.pk, table, [])
        invalid = staging.invalid_line_count(cursor, job.pk)
        staging.set_aside_rejected(cursor, job.pk, table, columns)
        if job.kind == ImportKind.DEBTORS:
            staging.encrypt_national_ids(cursor, table)
        tick("checking", 3, 3)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total, invalid_rows=invalid)

        write = not job.dry_run and (invalid == 0 or job.valid_rows_only)
        if not write:
            counts = upsert.count(cursor, fmt, table)
            status = ImportJob.Status.CHECKED if job.dry_run else ImportJob.Status.REJECTED
        elif job.kind == ImportKind.PAYMENTS:
            counts = _post_payments(job, cursor, table, actor, tick)
            status = ImportJob.Status.DONE
        else:
            tick("writing", 0, 1)
            with transaction.atomic(), acting_as(actor):
                counts = upsert.apply(
                    cursor,
                    fmt,
                    table,
                    actor=actor,
                    now=now,
                    reason=f"import #{job.pk}",
                )
                debtor_ids, new_loan_ids = upsert.touched(cursor, fmt)
                cases_follow_import(
                    debtor_ids=debtor_ids, new_loan_ids=new_loan_ids, actor=actor, now=now
                )
            status = ImportJob.Status.DONE
    tick("writing", 1, 1)
    _finish(
        job,
        status,
        created_count=counts.created,
        updated_count=counts.updated,
        unchanged_count=counts.unchanged,
    )


def _post_payments(job, cursor, table: str, actor, tick) -> upsert.Counts:
    """Each payment through the ledger's allocation, one transaction each (idempotent)."""

    counts = upsert.Counts()
    total = staging.row_count(cursor, table)
    last, done = 0, 0
    v = staging.v
    while True:
        cursor.execute(
            f"""SELECT s.line, l.id, {v("amount")}, {v("received_at")}::timestamptz,
                       {v("method")}, {v("external_ref")}, COALESCE({v("source")}, %s)
                  FROM {table} s JOIN {LOAN} l ON l.external_ref = {v("loan_ref")}
                 WHERE s.line > %s ORDER BY s.line LIMIT 1000""",
            [DEFAULT_PAYMENT_SOURCE, last],
        )
        rows = cursor.fetchall()
        if not rows:
            return counts
        for line, loan_id, amount, received_at, method, external_ref, source in rows:
            try:
                posted = payment_record(
                    actor=actor,
                    loan=Loan(pk=loan_id),
                    amount=amount,
                    received_at=received_at,
                    method=method,
                    external_ref=external_ref,
                    source=source,
                )
            except ValidationError as exc:
                ImportIssue.objects.create(
                    job=job,
                    line=line,
                    column="loan_ref",
                    code="payment_refused",
                    value=external_ref,
                    params={"reason": " ".join(exc.messages)},
                )
                ImportJob.objects.filter(pk=job.pk).update(invalid_rows=job.invalid_rows + 1)
                job.invalid_rows += 1
                continue
            if posted.created:
                counts.created += 1
            else:
                counts.unchanged += 1
        done += len(rows)
        last = rows[-1][0]
        tick("writing", done, total)


# --- Reading the results --------------------------------------------------------------------


def issues_for(job: ImportJob):
    return job.issues.select_related("job").order_by("line", "id")


class _Echo:
    def write(self, value: str) -> str:
        return value


def rejected_rows_csv(job: ImportJob) -> Iterator[str]:
    """The rejected rows as they were in the file, plus a column saying what to fix.

    Every cell, the file's header included, is neutralised for spreadsheets
    (``debtors.csv_cells``): a cell that began with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return comes back with a ``'`` in front, which the import takes off again when the
    fixed file comes back (``staging.restore_neutralised``). The file's cells are text; only the
    line number is the product's own."""
    writer = CsvWriter(_Echo())
    header = list(job.columns or [])
    yield "\ufeff" + writer.writerow([_("line"), *header, _("problems")])
    issues: dict[int, list[str]] = {}
    last = 0
    while True:
        page = list(job.rejected_rows.filter(line__gt=last).order_by("line")[:2000])
        if not page:
            return
        lines = [row.line for row in page]
        issues = {}
        for issue in job.issues.select_related("job").filter(line__in=lines).order_by("id"):
            issues.setdefault(issue.line, []).append(f"{issue.column}: {issue.message}")
        for row in page:
            cells = [cell if cell is not None else "" for cell in row.data]
            yield writer.writerow([row.line, *cells, "; ".join(issues.get(row.line, []))])
        last = page[-1].line


def report_text(job: ImportJob, *, limit: int = 50) -> str:
    """A plain-text summary (for the command line)."""
    out = io.StringIO()
    out.write(
        _(
            "%(rows)d rows: %(created)d new, %(updated)d changed, %(unchanged)d unchanged, "
            "%(invalid)d with problems."
        )
        % {
            "rows": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "invalid": job.invalid_rows,
        }
        + "\n"
    )
    issues = list(issues_for(job)[: limit + 1])
    for issue in issues[:limit]:
        column = f" {issue.column}" if issue.column else ""
        out.write(
            _("line %(line)d%(column)s: %(message)s")
            % {"line": issue.line, "column": column, "message": issue.message}
            + "\n"
        )
    if len(issues) > limit:
        more = job.issues.count() - limit
        out.write(_("... and %(count)d more problems.") % {"count": more} + "\n")
    return out.getvalue()
