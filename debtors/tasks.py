"""Periodic upkeep of the ledger: promises and plans decided from the payments received.

Both services are idempotent (they re-check each row's state under ``SELECT ... FOR UPDATE
SKIP LOCKED``) and record their history as their own system actor, so a duplicate beat or a
redelivered task changes nothing.
"""

from __future__ import annotations

from celery import shared_task

from .services import plans_review, promises_resolve


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540, ignore_result=True)
def resolve_promises() -> dict[str, int]:
    return promises_resolve()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540, ignore_result=True)
def review_plans() -> dict[str, int]:
    return plans_review()
