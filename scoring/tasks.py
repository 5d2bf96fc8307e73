"""Celery tasks of the scores (every open case scored by the active model, nightly) and of
the experiments (new entrants given their arm, hourly)."""

from __future__ import annotations

from celery import shared_task

from scoring.experiments import experiments_enrol
from scoring.services import score_cases as score_cases_now


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def score_cases() -> dict[str, int]:
    """Score every open case again (dates move on, new payments and contacts count). Running
    it twice the same day changes nothing."""
    return score_cases_now()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540, ignore_result=True)
def enrol_experiments() -> int:
    """Record the arm of every case that newly matches a running experiment (beat, hourly).
    Running it twice enrols nobody twice."""
    return experiments_enrol()
