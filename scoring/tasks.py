"""Celery task of the scores: every open case scored by the active model (beat, nightly)."""

from __future__ import annotations

from celery import shared_task

from scoring.services import score_cases as score_cases_now


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def score_cases() -> dict[str, int]:
    """Score every open case again (dates move on, new payments and contacts count). Running
    it twice the same day changes nothing."""
    return score_cases_now()
