"""A job whose worker died (SIGKILL, lost machine) does not stay "running" forever.

A running job holds an advisory lock on its runner's database connection; a dead runner's
connection, and with it the lock, is gone. Here a live runner is stood in for by a second
connection holding the lock, and a dead one by a job marked running with nobody holding it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import pytest
from django.db import connections
from django.utils import timezone

from debtors.models import Loan
from imports import upsert
from imports.models import ImportJob
from imports.services import RUNNER_LOCK, import_create, import_run, imports_fail_abandoned
from imports.tasks import fail_abandoned_imports

from .conftest import run_import

pytestmark = pytest.mark.django_db

DEBTORS = "external_ref,full_name,country\nD-1,Wang Fang,CN\n"
LOANS = "external_ref,debtor_ref,currency,principal\nL-1,D-1,CNY,300.00\nL-2,D-1,CNY,50\n"


def _running_job(**fields) -> ImportJob:
    job = import_create(actor="tests", kind="loans", file=io.BytesIO(LOANS.encode()), name="l.csv")
    started = timezone.now() - dt.timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=started, phase="writing", **fields
    )
    return job


@contextlib.contextmanager
def _live_runner(job_id: int):
    """Another database session holding the job's lock, as a live worker does."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUNNER_LOCK, job_id])
        yield
        # A closed connection's lock goes when its server process ends, a moment later:
        # released here so that the next step of a test sees it gone.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUNNER_LOCK, job_id])
    finally:
        other.close()


def test_a_job_whose_runner_is_gone_is_failed_with_a_message():
    job = _running_job()
    assert imports_fail_abandoned() == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.is_finished
    assert job.finished_at is not None
    assert "Upload the file again" in job.error
    # Failing it again changes nothing.
    assert imports_fail_abandoned() == []
    assert fail_abandoned_imports() == 0


def test_a_job_whose_runner_is_alive_keeps_running():
    job = _running_job()
    with _live_runner(job.pk):
        assert imports_fail_abandoned() == []
        assert fail_abandoned_imports() == 0
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    # Once the runner is gone, the next pass fails it.
    assert imports_fail_abandoned() == [job.pk]


def test_a_runner_does_not_start_a_job_another_runner_holds():
    run_import("debtors", DEBTORS)
    job = import_create(actor="tests", kind="loans", file=io.BytesIO(LOANS.encode()), name="l.csv")
    with _live_runner(job.pk):
        assert import_run(job_id=job.pk).status == ImportJob.Status.QUEUED
    assert import_run(job_id=job.pk).status == ImportJob.Status.DONE
    assert Loan.objects.count() == 2


def test_finished_and_queued_jobs_are_left_alone():
    run_import("debtors", DEBTORS)
    done = run_import("loans", LOANS)
    queued = import_create(
        actor="tests", kind="loans", file=io.BytesIO(LOANS.encode()), name="l.csv"
    )
    assert imports_fail_abandoned() == []
    done.refresh_from_db()
    queued.refresh_from_db()
    assert (done.status, queued.status) == (ImportJob.Status.DONE, ImportJob.Status.QUEUED)


def test_the_pages_show_an_abandoned_job_as_failed(client, supervisor):
    client.force_login(supervisor)
    job = _running_job()
    progress = client.get(f"/imports/{job.pk}/progress/")
    assert progress["HX-Refresh"] == "true"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "The import stopped before it finished" in page
    other = _running_job()
    client.get("/imports/")
    other.refresh_from_db()
    assert other.status == ImportJob.Status.FAILED


def test_a_live_job_keeps_its_progress_bar(client, supervisor):
    client.force_login(supervisor)
    job = _running_job()
    with _live_runner(job.pk):
        progress = client.get(f"/imports/{job.pk}/progress/")
    assert "HX-Refresh" not in progress
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING


def test_a_run_that_dies_while_writing_leaves_nothing_written(monkeypatch):
    """The upsert is one transaction: loans and their history rows go, or none does."""
    run_import("debtors", DEBTORS)

    def dies(*args, **kwargs):
        raise RuntimeError("worker lost")

    # After the INSERT of the loans and their history rows, inside the same transaction.
    monkeypatch.setattr(upsert, "loans_refresh_derived", dies)
    with pytest.raises(RuntimeError):
        run_import("loans", LOANS)
    assert not Loan.objects.exists()
    assert not Loan.history.exists()
    job = ImportJob.objects.filter(kind="loans").get()
    assert job.status == ImportJob.Status.FAILED
    # The lock went with the run: nothing else holds the job.
    assert imports_fail_abandoned() == []
    monkeypatch.undo()
    assert run_import("loans", LOANS).created_count == 2
