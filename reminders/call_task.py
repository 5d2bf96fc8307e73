"""A call task: nothing is sent; the case goes into its collector's queue for the day.

The collector's call itself goes through the compliance gate when it is placed.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cases.models import Case
from cases.priorities import case_priorities_refresh
from debtors.audit import acting_as


@transaction.atomic
def queue_call(*, debtor_id: int, day: dt.date, actor: str = "reminders: call task") -> bool:
    """Bring the debtor's open case into the queue on ``day`` (an earlier date is kept)."""
    case = (
        Case.objects.select_for_update()
        .filter(debtor_id=debtor_id)
        .exclude(status=Case.Status.CLOSED)
        .first()
    )
    if case is None:
        return False
    if case.next_action_on is None or case.next_action_on > day:
        case.next_action_on = day
        with acting_as(actor):
            case.save(update_fields=["next_action_on", "updated_at"])
        case_priorities_refresh(debtor_ids=[debtor_id])
    return True
