"""What the case page reads besides the loans (``debtors.selectors.debtor_loans``) and the
timeline (``workspace.selectors.timeline``)."""

from __future__ import annotations

from cases.models import Callback
from debtors.models import (
    Debtor,
)


def open_callbacks(debtor: Debtor) -> list[Callback]:
    return list(
        Callback.objects.filter(debtor=debtor, status=Callback.Status.OPEN)
        .select_related("assigned_to")
        .order_by("due_at")[:20]
    )
