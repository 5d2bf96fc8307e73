"""Celery tasks of the messaging: the answer to an SMS keyword, sent after the webhook that
received it has answered (a provider's webhook must answer within a second; a send through a
provider's API may take longer)."""

from __future__ import annotations

from celery import shared_task

from messaging import inbound


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def answer_keyword(inbound_id: int) -> int:
    """Send the answer a keyword is due, once: a second run finds it taken."""
    return inbound.send_answer(inbound_id)
