"""The Celery job of an import: the job's id in, one service call.

``acks_late``: a worker killed mid-import leaves the message for another worker, which finds
the job no longer queued and does nothing twice (``import_run`` claims it with a conditional
UPDATE). The killed job's lock went with its connection: ``fail_abandoned_imports`` (and the
import pages) mark it failed, and a supervisor uploads the file again.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from imports.models import ImportJob
from imports.retention import rejected_rows_expire
from imports.services import import_run, imports_fail_abandoned


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500, ignore_result=True)
def run_import(job_id: int) -> str:
    job = import_run(job_id=job_id)
    return job.status


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def fail_abandoned_imports() -> int:
    """Periodic: running imports whose worker is gone become failed (safe to run twice)."""
    return len(imports_fail_abandoned())


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540, ignore_result=True)
def expire_rejected_rows() -> int:
    """Periodic (daily): rejected rows past their keeping time are deleted."""
    return rejected_rows_expire()


def import_enqueue(job: ImportJob) -> None:
    """Start the job once the upload is committed."""
    transaction.on_commit(lambda: run_import.delay(job.pk))
