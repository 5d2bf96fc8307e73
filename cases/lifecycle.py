"""A case's life, from its arrival to its close: every change of its status goes through here.

::

    open <-> in_plan             a plan starts; the plan ends (broken, cancelled)
    open | in_plan <-> on_hold   a hold is set (dispute, cease communication, hardship...);
                                 the hold is lifted or expires
    not closed -> closed         automatically: ``paid`` (nothing outstanding) or ``settled``
                                 (a plan with an approved discount completed); by a supervisor:
                                 ``charged_off``, ``deceased``, ``bankrupt``, ``withdrawn``
    closed -> not closed         a new loan with a balance (the status it then takes is the
                                 one its facts give: on hold, in plan or open)

The automatic statuses are derived from the ledger's facts (``cases_reconcile``): the services
that change those facts (a payment, a plan, a hold, a new loan, an import) call it in their
own transaction, and the nightly refresh calls it for every case, which is how an expired hold
comes back to open. A closed case stays closed until a new loan with a balance arrives
(``cases_reopen``): a withdrawn case whose loans still carry a balance is not reopened by them.

Every change writes one history row on the case naming its actor: the user, the debtor through
the portal, or ``system: <why>``, and the why itself as the row's change reason. Nothing else
writes ``Case.status``; ``tests/cases/test_lifecycle.py`` checks the source for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import Case, Note
from cases.roles import is_supervisor
from debtors import services as ledger
from debtors.audit import PORTAL_ACTOR, Actor, acting_as, current_actor, system_actor
from debtors.models import Debtor, Loan, RepaymentPlan

# Sent inside the transaction that closed a case (``case``, ``now``): the reminders of the
# debtor that were still to be sent are closed with it (``reminders.receivers``).
case_closed = Signal()

# Why an automatic transition happened: the history's change reason and, for a system actor,
# its label ("system: nothing outstanding"). Marked for the catalogue, translated on display.
WHY_PAID = gettext_noop("nothing outstanding")
WHY_SETTLED = gettext_noop("plan with an approved discount completed")
WHY_HOLD = gettext_noop("hold recorded")
WHY_HOLD_ENDED = gettext_noop("hold ended")
WHY_PLAN = gettext_noop("plan started")
WHY_PLAN_ENDED = gettext_noop("plan ended")
WHY_REOPENED = gettext_noop("new loan with a balance")

# Whose hold a manual close records on the debtor, so the gate blocks every contact.
HOLD_OF_REASON = {
    Case.ClosedReason.DECEASED: "deceased",
    Case.ClosedReason.BANKRUPT: "bankruptcy",
}

_STATUS_FIELDS = ["status", "closed_reason", "closed_at"]


def _who(actor: Actor | None, why: str):
    """The history's user and label for ``actor``: a user names themself, the portal keeps its
    label, and the system (a task, a command, or nobody in particular) is named by the why."""
    actor = actor if actor is not None else current_actor()
    if actor is None or (isinstance(actor, str) and actor != PORTAL_ACTOR):
        return None, system_actor(why)
    if isinstance(actor, str):
        return None, actor
    return actor, actor.get_username()


def write_with_history(
    cases: list[Case], *, fields: list[str], actor: Actor | None, why: str, now: dt.datetime
) -> None:
    """Save ``fields`` of ``cases`` (already set on the instances) with one history row each,
    naming the actor (``_who``) and the why. The only writer of a case's status and collector
    besides a single case's own ``save()`` under ``acting_as``."""
    if not cases:
        return
    user, label = _who(actor, why)
    # Cases that take the same values are written by one UPDATE (an assignment run gives a
    # whole pool few distinct values, however many cases).
    groups: dict[tuple, list[int]] = {}
    attnames = tuple(Case._meta.get_field(name).attname for name in fields)
    for case in cases:
        case.updated_at = now
        values = tuple((name, getattr(case, name)) for name in attnames)
        groups.setdefault(values, []).append(case.pk)
    for values, ids in groups.items():
        Case.objects.filter(pk__in=ids).update(**dict(values), updated_at=now)
    Case.history.bulk_history_create(
        cases,
        update=True,
        default_user=user,
        default_change_reason=why,
        # When the row was written, as for every other history row (``now`` may be a
        # service's injected clock).
        default_date=timezone.now(),
        custom_historical_attrs={"actor_label": label},
    )


def _facts(cases, *, today: dt.date):
    """``cases`` annotated with what their status follows from."""
    loans = Loan.objects.filter(debtor_id=OuterRef("debtor_id"))
    owing = loans.exclude(status__in=Loan.CLOSED_STATUSES).filter(
        Q(principal_balance__gt=0) | Q(interest_balance__gt=0) | Q(fees_balance__gt=0)
    )
    plans = RepaymentPlan.objects.filter(loan__debtor_id=OuterRef("debtor_id"))
    # (Spelled so that a debtor without a pause gives false, not NULL.)
    held = Q(debtor__hardship_pause_until__isnull=False, debtor__hardship_pause_until__gte=today)
    for flag in Debtor.HOLD_FLAGS:
        held |= Q(**{f"debtor__{flag}": True})
    return cases.annotate(
        has_loans=Exists(loans),
        owes=Exists(owing),
        held=ExpressionWrapper(held, output_field=BooleanField()),
        in_plan=Exists(plans.filter(status=RepaymentPlan.Status.ACTIVE)),
        settled=Exists(
            plans.filter(
                status=RepaymentPlan.Status.KEPT,
                discount_amount__gt=0,
                discount_approved_at__isnull=False,
            )
        ),
    )


def _active_status(case: Case) -> str:
    if case.held:
        return Case.Status.ON_HOLD
    if case.in_plan:
        return Case.Status.IN_PLAN
    return Case.Status.OPEN


def _why_active(before: str, after: str) -> str:
    if after == Case.Status.ON_HOLD:
        return WHY_HOLD
    if after == Case.Status.IN_PLAN:
        return WHY_PLAN
    return WHY_HOLD_ENDED if before == Case.Status.ON_HOLD else WHY_PLAN_ENDED


def _changes(cases, *, today: dt.date):
    """The cases (not closed) whose status their facts no longer give, with the new status."""
    done = Q(has_loans=True, owes=False)
    want_hold = ~done & Q(held=True)
    want_plan = ~done & Q(held=False, in_plan=True)
    want_open = ~done & Q(held=False, in_plan=False)
    return (
        _facts(cases.exclude(status=Case.Status.CLOSED), today=today)
        .filter(
            done
            | (want_hold & ~Q(status=Case.Status.ON_HOLD))
            | (want_plan & ~Q(status=Case.Status.IN_PLAN))
            | (want_open & ~Q(status=Case.Status.OPEN))
        )
        .select_for_update(of=("self",))
        .order_by("id")
    )


@transaction.atomic
def cases_reconcile(
    *,
    debtor_ids: Iterable[int] | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Bring the status of every case not closed (or of ``debtor_ids``' cases) in line with its
    facts: closed ``paid`` or ``settled`` when nothing is outstanding, else on hold, in plan or
    open. Returns how many cases changed; a second run changes nothing."""
    now = now or timezone.now()
    cases = Case.objects.all()
    if debtor_ids is not None:
        ids = list(debtor_ids)
        if not ids:
            return 0
        cases = cases.filter(debtor_id__in=ids)
    by_why: dict[str, list[Case]] = {}
    closed: list[Case] = []
    for case in _changes(cases, today=timezone.localdate(now)):
        if case.has_loans and not case.owes:
            reason = Case.ClosedReason.SETTLED if case.settled else Case.ClosedReason.PAID
            why = WHY_SETTLED if case.settled else WHY_PAID
            case.status, case.closed_reason, case.closed_at = Case.Status.CLOSED, reason, now
            closed.append(case)
        else:
            after = _active_status(case)
            why = _why_active(case.status, after)
            case.status = after
        by_why.setdefault(why, []).append(case)
    for why, changed in by_why.items():
        write_with_history(changed, fields=_STATUS_FIELDS, actor=actor, why=why, now=now)
    for case in closed:
        case_closed.send(sender=cases_reconcile, case=case, now=now)
    return sum(len(changed) for changed in by_why.values())


@transaction.atomic
def cases_reopen(
    *, loan_ids: Iterable[int], actor: Actor | None = None, now: dt.datetime | None = None
) -> list[int]:
    """Reopen the closed cases of the debtors of ``loan_ids`` (new loans) that owe a balance on
    one of them. Returns the debtor ids whose case reopened."""
    now = now or timezone.now()
    ids = list(loan_ids)
    if not ids:
        return []
    owing = (
        Loan.objects.filter(pk__in=ids)
        .exclude(status__in=Loan.CLOSED_STATUSES)
        .filter(Q(principal_balance__gt=0) | Q(interest_balance__gt=0) | Q(fees_balance__gt=0))
        .values("debtor_id")
    )
    cases = _facts(
        Case.objects.filter(status=Case.Status.CLOSED, debtor_id__in=owing),
        today=timezone.localdate(now),
    ).select_for_update(of=("self",))
    reopened = []
    for case in cases.order_by("id"):
        case.status, case.closed_reason, case.closed_at = _active_status(case), "", None
        reopened.append(case)
    write_with_history(reopened, fields=_STATUS_FIELDS, actor=actor, why=WHY_REOPENED, now=now)
    return [case.debtor_id for case in reopened]


@transaction.atomic
def case_close(
    *, actor, case: Case, reason: str, note: str, now: dt.datetime | None = None
) -> Case:
    """A supervisor closes a case: charged off (its open loans are charged off), deceased or
    bankrupt (the debtor gets the matching hold, so the gate blocks every contact), or
    withdrawn. ``note`` says why, in words; it is kept on the case and in its history. Pending
    reminders stop. ``paid`` and ``settled`` are never set by hand."""
    now = now or timezone.now()
    if not is_supervisor(actor):
        raise PermissionDenied(_("Only a supervisor may close a case."))
    if reason in Case.AUTOMATIC_REASONS:
        raise ValidationError(
            {"reason": _("A case is closed as paid or settled only by its payments.")}
        )
    if reason not in Case.MANUAL_REASONS:
        raise ValidationError(
            {
                "reason": _("Unknown reason. Choose one of: %(reasons)s.")
                % {"reasons": ", ".join(Case.MANUAL_REASONS)}
            }
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the case is closed.")})
    case = Case.objects.select_for_update().select_related("debtor").get(pk=case.pk)
    if case.status == Case.Status.CLOSED:
        raise ValidationError(_("This case is already closed."))
    with acting_as(actor):
        if reason == Case.ClosedReason.CHARGED_OFF:
            ledger.loans_charge_off(actor=actor, debtor=case.debtor, now=now)
        if reason in HOLD_OF_REASON:
            ledger.debtor_set_holds(
                actor=actor,
                debtor=case.debtor,
                changes={HOLD_OF_REASON[reason]: True},
                reason=note,
                source="supervisor",
                now=now,
            )
        label = Case.ClosedReason(reason).label
        Note.objects.create(
            debtor=case.debtor, author=actor, body=f"{label}: {note}", created_at=now
        )
    case.status, case.closed_reason, case.closed_at = Case.Status.CLOSED, reason, now
    write_with_history([case], fields=_STATUS_FIELDS, actor=actor, why=note, now=now)
    case_closed.send(sender=case_close, case=case, now=now)
    return case


def case_history(case: Case) -> list[dict]:
    """The changes of the case's status and collector, newest first: ``status``,
    ``closed_reason`` (None while not closed), ``assigned_to`` (a user id or None),
    ``changed_at``, ``changed_by`` (never empty) and ``why``."""
    entries, previous = [], None
    # In the order written (a clock moved by a test or a task cannot reorder them).
    rows = case.history.order_by("history_id").values(
        "status",
        "closed_reason",
        "assigned_to_id",
        "history_date",
        "actor_label",
        "history_change_reason",
    )
    for row in rows:
        key = (row["status"], row["closed_reason"], row["assigned_to_id"])
        if key == previous:
            continue
        previous = key
        entries.append(
            {
                "status": row["status"],
                "closed_reason": row["closed_reason"] or None,
                "assigned_to": row["assigned_to_id"],
                "changed_at": row["history_date"],
                "changed_by": row["actor_label"] or system_actor("unattributed"),
                "why": row["history_change_reason"] or "",
            }
        )
    entries.reverse()
    return entries
