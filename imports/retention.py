"""Rejected rows are kept to be fixed, not for ever: ``IMPORT_REJECTED_ROWS_DAYS`` (30) after
their import finished they are deleted (beat, daily). The import's summary and its problems
stay; the rows' cells go."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from imports.models import ImportRejectedRow


def rejected_rows_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the rejected rows of imports finished before the cut-off; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.IMPORT_REJECTED_ROWS_DAYS)
    deleted, _by_model = ImportRejectedRow.objects.filter(job__finished_at__lt=cutoff).delete()
    return deleted
