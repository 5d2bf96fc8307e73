"""Periodic work of the compliance app."""

from __future__ import annotations

from celery import shared_task

from .ledger import seal


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def seal_ledger(batch_size: int = 5000, max_batches: int = 100) -> int:
    """Chain new decisions into the ledger's hash chain. Running it twice changes nothing."""
    return seal(batch_size=batch_size, max_batches=max_batches)
