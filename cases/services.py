"""Writes of the collectors' work on a case (queue priorities: ``cases.priorities``).

Every service is keyword-only, takes the acting user (``actor=``) and an optional clock
(``now=``), and records history through ``acting_as``. Views and forms call these and hold no
rules of their own. Every outbound contact goes through ``compliance.gate.request``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    Callback,
    CallDisposition,
    Case,
    DispositionCode,
    Note,
    RevealLog,
)
from cases.priorities import case_priorities_refresh
from cases.roles import COLLECTOR, is_supervisor
from cases.workflow import cases_follow_ledger
from compliance import gate
from compliance.channels import ChannelBackend, OutboundMessage
from compliance.models import ContactAttempt, Direction, Outcome
from compliance.services import contact_attempt_record
from debtors import dates
from debtors import services as ledger
from debtors.audit import acting_as
from debtors.models import Channel, ContactPoint, Debtor, Installment, Loan, RepaymentPlan
from messaging import templating
from messaging.messages import find_template, opt_out_required
from messaging.models import SentMessage

# --- New debtors ----------------------------------------------------------------------------


@transaction.atomic
def debtor_create_with_case(*, actor, **fields) -> Debtor:
    """A new debtor (``debtors.services.debtor_create``) and its case, unassigned, in one
    transaction: every debtor is someone's work."""
    with acting_as(actor):
        debtor = ledger.debtor_create(actor=actor, **fields)
        Case.objects.create(debtor=debtor)
    cases_follow_ledger(debtor_ids=[debtor.pk], actor=actor)
    return debtor


# --- Notes and callbacks --------------------------------------------------------------------


@transaction.atomic
def note_add(*, actor, debtor: Debtor, body: str, now: dt.datetime | None = None) -> Note:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something in the note.")})
    with acting_as(actor):
        return Note.objects.create(
            debtor=debtor, author=actor, body=body, created_at=now or timezone.now()
        )


@transaction.atomic
def callback_schedule(
    *, actor, debtor: Debtor, due_at: dt.datetime, note: str = "", now: dt.datetime | None = None
) -> Callback:
    now = now or timezone.now()
    if timezone.is_naive(due_at):
        raise ValidationError({"due_at": _("The time must include a time zone.")})
    if due_at <= now:
        raise ValidationError({"due_at": _("A callback must be in the future.")})
    with acting_as(actor):
        callback = Callback.objects.create(
            debtor=debtor,
            assigned_to=actor,
            due_at=due_at,
            note=note.strip(),
            created_by=actor,
            created_at=now,
        )
    case_priorities_refresh(debtor_ids=[debtor.pk], now=now)
    return callback


@transaction.atomic
def callback_close(
    *, actor, callback: Callback, done: bool = True, now: dt.datetime | None = None
) -> Callback:
    callback = Callback.objects.select_for_update().get(pk=callback.pk)
    if callback.status != Callback.Status.OPEN:
        raise ValidationError(_("This callback is already closed."))
    callback.status = Callback.Status.DONE if done else Callback.Status.CANCELLED
    callback.closed_at = now or timezone.now()
    with acting_as(actor):
        callback.save(update_fields=["status", "closed_at"])
    case_priorities_refresh(debtor_ids=[callback.debtor_id], now=now)
    return callback


# --- Audited reveals ------------------------------------------------------------------------


def _reveal_logged(actor, *, debtor_id: int, field: str, contact_point=None, now=None) -> None:
    RevealLog.objects.create(
        user=actor,
        debtor_id=debtor_id,
        field=field,
        contact_point=contact_point,
        revealed_at=now or timezone.now(),
    )


@transaction.atomic
def national_id_reveal(*, actor, debtor: Debtor, now: dt.datetime | None = None) -> str:
    """Return the full national id; the reveal is logged first."""
    _reveal_logged(actor, debtor_id=debtor.pk, field=RevealLog.Field.NATIONAL_ID, now=now)
    return debtor.national_id


@transaction.atomic
def contact_point_reveal(
    *, actor, contact_point: ContactPoint, now: dt.datetime | None = None
) -> str:
    _reveal_logged(
        actor,
        debtor_id=contact_point.debtor_id,
        field=RevealLog.Field.CONTACT_POINT,
        contact_point=contact_point,
        now=now,
    )
    return contact_point.value


@transaction.atomic
def date_of_birth_reveal(*, actor, debtor: Debtor, now: dt.datetime | None = None):
    """Return the date of birth; the reveal is logged first."""
    _reveal_logged(actor, debtor_id=debtor.pk, field=RevealLog.Field.DATE_OF_BIRTH, now=now)
    return debtor.date_of_birth


# --- Calls ----------------------------------------------------------------------------------


class DeskPhoneBackend(ChannelBackend):
    """The collector dials from their own phone: nothing to transmit once the permit is spent.

    Spending the permit still goes through ``ChannelBackend.send``, so a call is placed only
    with a permit, like every other contact.
    """

    channel = Channel.CALL

    def _deliver(self, attempt, message) -> str:
        return f"desk:{attempt.pk}"


def call_place(
    *, actor, debtor: Debtor, contact_point: ContactPoint, loan: Loan | None = None, now=None
) -> ContactAttempt:
    """Ask the gate for a permit to call ``contact_point`` and place the call.

    Raises ``compliance.gate.ContactBlocked`` (with the decision: reasons, next allowed time)
    when the gate refuses. Not atomic on purpose: the gate's decision must be committed
    whether or not the call goes ahead.
    """
    if contact_point.debtor_id != debtor.pk:
        raise ValidationError({"contact_point": _("That number is not the debtor's.")})
    if not contact_point.is_phone:
        raise ValidationError({"contact_point": _("Choose a phone number to call.")})
    permit = gate.request(
        debtor=debtor,
        channel=Channel.CALL,
        actor=actor,
        loan=loan,
        contact_point=contact_point,
        now=now,
    )
    result = DeskPhoneBackend().send(
        permit.token,
        OutboundMessage(debtor_id=debtor.pk, to=contact_point.value, body=""),
    )
    return result.attempt


def pending_calls(*, actor, debtor: Debtor):
    """The actor's calls to ``debtor`` whose outcome is not recorded yet, newest first."""
    return ContactAttempt.objects.filter(
        debtor=debtor,
        channel=Channel.CALL,
        direction=Direction.OUTBOUND,
        outcome=Outcome.PENDING,
        actor_user_id=actor.pk,
    ).order_by("-occurred_at", "-id")


@transaction.atomic
def call_outcome_log(
    *,
    actor,
    debtor: Debtor,
    code: DispositionCode,
    note: str = "",
    attempt: ContactAttempt | None = None,
    contact_point: ContactPoint | None = None,
    occurred_at: dt.datetime | None = None,
    direction: str = Direction.OUTBOUND,
    now: dt.datetime | None = None,
) -> CallDisposition:
    """Record what came of a call: completes the call's pending attempt (or records a call
    made outside the system, such as an inbound one) and keeps the disposition code."""
    now = now or timezone.now()
    if not code.is_active:
        raise ValidationError({"code": _("This disposition code is no longer in use.")})
    if attempt is not None and (attempt.debtor_id != debtor.pk or attempt.channel != Channel.CALL):
        raise ValidationError({"attempt": _("That call is not one of this debtor's.")})
    if contact_point is not None and contact_point.debtor_id != debtor.pk:
        raise ValidationError({"contact_point": _("That number is not the debtor's.")})
    recorded = contact_attempt_record(
        actor=actor,
        debtor=debtor,
        channel=Channel.CALL,
        direction=attempt.direction if attempt is not None else direction,
        outcome=code.outcome,
        occurred_at=attempt.occurred_at if attempt is not None else (occurred_at or now),
        contact_point=contact_point,
        attempt=attempt,
    )
    disposition = CallDisposition.objects.create(
        attempt=recorded,
        debtor=debtor,
        code=code,
        note=note.strip(),
        recorded_by=actor,
        recorded_at=now,
    )
    if code.outcome == Outcome.WRONG_NUMBER and recorded.contact_point is not None:
        ledger.contact_point_set_status(
            actor=actor,
            contact_point=recorded.contact_point,
            status=ContactPoint.Status.WRONG_PARTY,
            now=now,
        )
    # The call is made: a call task due today or before is done.
    for case in Case.objects.select_for_update().filter(
        debtor=debtor, next_action_on__lte=timezone.localdate(now)
    ):
        case.next_action_on = None
        with acting_as(actor):
            case.save(update_fields=["next_action_on", "updated_at"])
    case_priorities_refresh(debtor_ids=[debtor.pk], now=now)
    return disposition


@transaction.atomic
def contact_outcome_record(*, actor, debtor: Debtor, **fields) -> ContactAttempt:
    """An attempt and its outcome reported from outside the case page (the API): recorded by
    ``compliance.services.contact_attempt_record``, then the case's priority follows (its last
    contact may have moved)."""
    attempt = contact_attempt_record(actor=actor, debtor=debtor, **fields)
    case_priorities_refresh(debtor_ids=[debtor.pk])
    return attempt


# --- Messages -------------------------------------------------------------------------------


def message_send(
    *,
    actor,
    debtor: Debtor,
    contact_point: ContactPoint,
    channel: str,
    body: str,
    subject: str = "",
    backend: ChannelBackend,
    loan: Loan | None = None,
    metadata: dict | None = None,
    now=None,
) -> ContactAttempt:
    """Send an SMS or email through ``backend``, after the gate grants a permit."""
    if contact_point.debtor_id != debtor.pk:
        raise ValidationError({"contact_point": _("That contact point is not the debtor's.")})
    if channel not in ContactPoint.CHANNELS_BY_KIND.get(contact_point.kind, ()):
        raise ValidationError(
            {"contact_point": _("That contact point cannot receive this channel.")}
        )
    if not body.strip():
        raise ValidationError({"body": _("The message is empty.")})
    permit = gate.request(
        debtor=debtor,
        channel=channel,
        actor=actor,
        loan=loan,
        contact_point=contact_point,
        now=now,
    )
    result = backend.send(
        permit.token,
        OutboundMessage(
            debtor_id=debtor.pk,
            to=contact_point.value,
            body=body,
            subject=subject,
            # The attempt is the message: a retried hand-over of it is delivered once.
            metadata={**(metadata or {}), "idempotency_key": f"desk-{permit.attempt_id}"},
        ),
    )
    attempt = contact_attempt_record(
        actor=actor,
        debtor=debtor,
        channel=channel,
        direction=Direction.OUTBOUND,
        outcome=Outcome.SENT,
        occurred_at=result.attempt.occurred_at,
        attempt=result.attempt,
    )
    SentMessage.objects.create(
        attempt=attempt,
        debtor=debtor,
        channel=channel,
        subject=subject,
        body=body,
        to=contact_point.value,
        provider=getattr(backend, "provider", ""),
        provider_ref=result.provider_ref[:200],
        idempotency_key=f"desk-{permit.attempt_id}",
    )
    return attempt


def message_compose(*, debtor: Debtor, template_key: str, channel: str, today=None):
    """Subject, body and provider metadata of a message template, filled in for the debtor's
    most overdue open loan (the reminders' sandboxed formatter, in the debtor's language)."""

    language = debtor.preferred_language or "en"
    template = find_template(template_key, channel, language)
    if template is None:
        raise ValidationError({"template": _("No such template for this channel.")})
    today = today or timezone.localdate()
    loans = [lo for lo in debtor.loans.order_by("oldest_unpaid_due_date", "id") if not lo.is_closed]
    if not loans:
        raise ValidationError({"template": _("The debtor has no open loan to write about.")})
    loan = loans[0]
    item = (
        Installment.objects.filter(loan=loan, amount_paid__lt=models.F("amount_due"))
        .order_by("due_date")
        .first()
    )
    due = item.due_date if item else today
    context = {
        "debtor_name": debtor.full_name,
        "amount_due": templating.format_money(
            item.amount_open if item else loan.outstanding, loan.currency, template.language
        ),
        "outstanding": templating.format_money(loan.outstanding, loan.currency, template.language),
        "due_date": templating.format_day(due, template.language),
        "days_past_due": str(max(0, (today - due).days)),
        "loan_ref": loan.external_ref,
        "self_service_link": templating.self_service_link(debtor.pk, loan.pk),
        "opt_out_text": (
            templating.opt_out_text(channel, template.language)
            if opt_out_required(debtor, channel)
            else ""
        ),
        "company_name": templating.company_name(),
    }
    rendered = templating.render(
        channel=channel, subject=template.subject, body=template.body, context=context
    )
    # Providers that send only approved templates get the code and its parameters.
    metadata = {
        "provider_template": template.provider_template,
        "variables": {name: context[name] for name in templating.placeholders(template.body)},
    }
    return rendered.subject, rendered.body, metadata


# --- Holds and contact points ---------------------------------------------------------------

HOLD_ACTIONS = ("dispute", "cease_communication", "hardship")


@transaction.atomic
def debtor_hold_record(
    *,
    actor,
    debtor: Debtor,
    kind: str,
    reason: str,
    until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Debtor:
    """Record a dispute, a cease-communication request or a hardship pause told to a collector."""
    if kind not in HOLD_ACTIONS:
        raise ValidationError({"kind": _("Unknown request.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say what the debtor told you.")})
    if kind == "hardship":
        today = timezone.localdate(now or timezone.now())
        if until is None or until < today:
            raise ValidationError({"until": _("A hardship pause needs an end date from today.")})
        changes = {"hardship_pause_until": until}
    else:
        changes = {kind: True}
    debtor = ledger.debtor_set_holds(
        actor=actor,
        debtor=debtor,
        changes=changes,
        reason=reason.strip(),
        source="collector",
        now=now,
    )
    return debtor


def contact_point_mark(
    *, actor, contact_point: ContactPoint, status: str, now=None
) -> ContactPoint:
    if status not in (
        ContactPoint.Status.INVALID,
        ContactPoint.Status.WRONG_PARTY,
        ContactPoint.Status.VALID,
    ):
        raise ValidationError({"status": _("Choose wrong party, invalid or valid.")})
    return ledger.contact_point_set_status(
        actor=actor, contact_point=contact_point, status=status, now=now
    )


# --- Promises and plans ---------------------------------------------------------------------


def promise_record(*, actor, loan: Loan, amount: Decimal, promised_date: dt.date, now=None):
    """A promise to pay (the case's priority follows through ``debtors.signals``)."""
    return ledger.promise_create(
        actor=actor, loan=loan, amount=amount, promised_date=promised_date, now=now
    )


@transaction.atomic
def plan_propose(
    *,
    actor,
    loan: Loan,
    count: int,
    first_date: dt.date,
    frequency: str,
    discount_amount: Decimal = Decimal("0"),
    discount_reason: str = "",
    start: bool = True,
    now=None,
) -> RepaymentPlan:
    """Set up a plan from the calculator's inputs. Without a discount it starts at once; with
    one it waits for a supervisor's approval. ``start=False`` leaves it proposed either way
    (a debtor's proposal beyond the portal's limits, waiting for a decision)."""
    now = now or timezone.now()
    if isinstance(first_date, dt.date) and first_date < timezone.localdate(now):
        raise ValidationError({"first_date": _("The first installment cannot be in the past.")})
    dates.plan_first_date(first_date, today=timezone.localdate(now))
    if discount_amount < 0:
        raise ValidationError({"discount_amount": _("The discount must not be negative.")})
    if discount_amount >= loan.outstanding:
        raise ValidationError(
            {"discount_amount": _("The discount must be less than the outstanding balance.")}
        )
    schedule = ledger.plan_schedule(
        total=loan.outstanding - discount_amount,
        count=count,
        first_date=first_date,
        frequency=frequency,
        currency=loan.currency,
    )
    plan = ledger.plan_create(
        actor=actor,
        loan=loan,
        installments=schedule,
        discount_amount=discount_amount,
        discount_reason=discount_reason,
        frequency=frequency,
        now=now,
    )
    if start and not plan.needs_discount_approval:
        plan = plan_start(actor=actor, plan=plan, now=now)
    return plan


@transaction.atomic
def plan_start(*, actor, plan: RepaymentPlan, now=None) -> RepaymentPlan:
    """Activate a proposed plan (the case goes in plan through ``cases.lifecycle``)."""
    return ledger.plan_activate(actor=actor, plan=plan, now=now)


@transaction.atomic
def plan_discount_decide(*, actor, plan: RepaymentPlan, approve: bool, now=None) -> RepaymentPlan:
    """A supervisor approves a plan's discount (the plan then starts) or rejects it (the plan
    is cancelled)."""
    if not ledger.can_approve_discounts(actor):
        raise PermissionDenied(_("Only a supervisor may decide on a discount."))
    if approve:
        plan = ledger.plan_approve_discount(actor=actor, plan=plan, now=now)
        return plan_start(actor=actor, plan=plan, now=now)
    if plan.status != RepaymentPlan.Status.PROPOSED or not plan.needs_discount_approval:
        raise ValidationError(_("This plan has no discount waiting for approval."))
    return ledger.plan_cancel(actor=actor, plan=plan, now=now)


# --- Assignment -----------------------------------------------------------------------------


@transaction.atomic
def cases_reassign(*, actor, case_ids: Sequence[int], to_user) -> int:
    """Give cases to another collector (supervisors only). Each change is in the case's history."""
    if not is_supervisor(actor):
        raise PermissionDenied(_("Only a supervisor may reassign cases."))
    if to_user is not None and not to_user.groups.filter(name=COLLECTOR).exists():
        raise ValidationError({"to_user": _("Cases can only be assigned to a collector.")})
    cases = list(Case.objects.select_for_update().filter(pk__in=list(case_ids)))
    if not cases:
        raise ValidationError({"cases": _("Choose at least one case.")})
    with acting_as(actor):
        for case in cases:
            case.assigned_to = to_user
            case.save(update_fields=["assigned_to", "updated_at"])
    return len(cases)


def collectors():
    """The users cases may be assigned to."""
    return (
        get_user_model()
        .objects.filter(groups__name=COLLECTOR, is_active=True)
        .order_by("username")
        .distinct()
    )
