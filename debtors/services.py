"""Writes to the ledger of debts.

Every service is keyword-only, takes the acting user or system label (``actor=``) and an
optional clock (``now=``), runs in one transaction and records history through
``acting_as``. Views, serializers, commands and tasks call these; they hold no rules of their own.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from . import dates
from .audit import Actor, acting_as, system_actor
from .models import (
    Channel,
    ChannelConsent,
    ConsentEvent,
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PaymentAllocation,
    PlanInstallment,
    PromiseToPay,
    RepaymentPlan,
)
from .money import ZERO, quantize_down, validate_amount, validate_currency
from .signals import announce
from .validators import normalize_email, normalize_phone

# --- Debtors and contact points -------------------------------------------------------------


def _normalized_value(kind: str, value: str, region: str | None) -> str:
    if kind in (ContactPoint.Kind.MOBILE, ContactPoint.Kind.LANDLINE):
        return normalize_phone(value, region)
    if kind == ContactPoint.Kind.EMAIL:
        return normalize_email(value)
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("A contact point needs a value."), code="required")
    return value


@transaction.atomic
def contact_point_add(
    *,
    actor: Actor,
    debtor: Debtor,
    kind: str,
    value: str,
    owner: str = ContactPoint.Owner.SELF,
    status: str = ContactPoint.Status.UNVERIFIED,
    **fields,
) -> ContactPoint:
    """Add a phone, email, address or in-app id, normalised (E.164 for phones)."""
    if kind not in ContactPoint.Kind.values:
        raise ValidationError({"kind": _("Unknown contact point kind %(kind)s.") % {"kind": kind}})
    if owner not in ContactPoint.Owner.values:
        raise ValidationError({"owner": _("Unknown owner %(owner)s.") % {"owner": owner}})
    try:
        normalized = _normalized_value(kind, value, fields.get("country") or debtor.country)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from exc
    point = ContactPoint(
        debtor=debtor, kind=kind, value=normalized, owner=owner, status=status, **fields
    )
    point.full_clean(exclude=["debtor"])
    with acting_as(actor):
        point.save()
    return point


@transaction.atomic
def debtor_create(
    *,
    actor: Actor,
    external_ref: str,
    full_name: str,
    country: str,
    timezone: str = "",
    contact_points: Iterable[Mapping] = (),
    **fields,
) -> Debtor:
    """Create a debtor with its contact points; nothing is stored if any part is invalid."""
    debtor = Debtor(
        external_ref=external_ref, full_name=full_name, country=country, timezone=timezone, **fields
    )
    debtor.full_clean()
    errors: dict[str, list[str]] = {}
    with acting_as(actor):
        debtor.save()
        for index, spec in enumerate(contact_points):
            try:
                contact_point_add(actor=actor, debtor=debtor, **dict(spec))
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors[f"contact_points[{index}].{field}"] = messages
    if errors:
        # Roll back the debtor too: a half-created debtor is worse than none.
        raise ValidationError(errors)
    return debtor


@transaction.atomic
def contact_point_set_status(
    *, actor: Actor, contact_point: ContactPoint, status: str, now: dt.datetime | None = None
) -> ContactPoint:
    if status not in ContactPoint.Status.values:
        raise ValidationError(
            {"status": _("Unknown contact point status %(status)s.") % {"status": status}}
        )
    contact_point.status = status
    contact_point.status_changed_at = now or timezone.now()
    with acting_as(actor):
        contact_point.save(update_fields=["status", "status_changed_at"])
    return contact_point


HOLD_KEYS = (*Debtor.HOLD_FLAGS, "hardship_pause_until", "opt_outs")


@transaction.atomic
def debtor_set_holds(
    *,
    actor: Actor,
    debtor: Debtor,
    changes: Mapping,
    reason: str = "",
    source: str = "",
    now: dt.datetime | None = None,
) -> Debtor:
    """Set or lift holds: dispute, bankruptcy, deceased, cease_communication, hardship pause,
    and the debtor-level channel opt-outs (``opt_outs``: the complete set of opted-out channels).

    Every change is one history row on the debtor (and on the consent rows for opt-outs).
    """
    unknown = set(changes) - set(HOLD_KEYS)
    if unknown:
        raise ValidationError({key: _("Unknown hold.") for key in sorted(unknown)})
    now = now or timezone.now()
    debtor = Debtor.objects.select_for_update().get(pk=debtor.pk)
    update_fields: list[str] = []
    for flag in Debtor.HOLD_FLAGS:
        if flag not in changes:
            continue
        value = changes[flag]
        if not isinstance(value, bool):
            raise ValidationError({flag: _("Must be true or false.")})
        if getattr(debtor, flag) != value:
            setattr(debtor, flag, value)
            setattr(debtor, f"{flag}_at", now if value else None)
            setattr(debtor, f"{flag}_reason", reason if value else "")
            update_fields += [flag, f"{flag}_at", f"{flag}_reason"]
    if "hardship_pause_until" in changes:
        until = changes["hardship_pause_until"]
        if until is not None and not isinstance(until, dt.date):
            raise ValidationError(
                {"hardship_pause_until": _("Must be a date (YYYY-MM-DD) or null.")}
            )
        if debtor.hardship_pause_until != until:
            debtor.hardship_pause_until = until
            debtor.hardship_at = now if until else None
            debtor.hardship_reason = reason if until else ""
            update_fields += ["hardship_pause_until", "hardship_at", "hardship_reason"]
    with acting_as(actor):
        if update_fields:
            debtor.save(update_fields=[*update_fields, "updated_at"])
        if "opt_outs" in changes:
            channel_opt_outs_set(
                actor=actor,
                debtor=debtor,
                channels=changes["opt_outs"],
                source=source or "api",
                now=now,
            )
    if update_fields:
        announce(debtor_ids=[debtor.pk], actor=actor, now=now)
    return debtor


@transaction.atomic
def channel_opt_outs_set(
    *,
    actor: Actor,
    debtor: Debtor,
    channels: Sequence[str],
    source: str,
    now: dt.datetime | None = None,
) -> None:
    """Make ``channels`` exactly the debtor-level opted-out channels."""
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        raise ValidationError(
            {"opt_outs": _("Unknown channel(s): %(names)s.") % {"names": ", ".join(unknown)}}
        )
    now = now or timezone.now()
    wanted = set(channels)
    existing = {
        c.channel: c
        for c in ChannelConsent.objects.select_for_update().filter(
            debtor=debtor, contact_point=None
        )
    }
    with acting_as(actor):
        for channel in Channel.values:
            consent = existing.get(channel)
            if channel in wanted and (consent is None or not consent.is_opted_out):
                consent = consent or ChannelConsent(debtor=debtor, channel=channel)
                consent.opted_out_at, consent.opt_out_source = now, source
                consent.save()
            elif channel not in wanted and consent is not None and consent.is_opted_out:
                consent.opted_out_at, consent.opt_out_source = None, ""
                consent.save()


@transaction.atomic
def channel_consent_record(
    *,
    actor: Actor,
    debtor: Debtor,
    channel: str,
    source: str,
    contact_point: ContactPoint | None = None,
    given_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    evidence: str = "",
    now: dt.datetime | None = None,
) -> ChannelConsent:
    """Record the debtor's consent to be contacted on a channel (e.g. automated calls, SMS):
    for one contact point, or every point of that channel when ``contact_point`` is None.
    ``given_at`` is when the debtor gave it (default now); past ``expires_at`` it no longer
    counts. Each record is also a ``ConsentEvent`` with its source and evidence."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel %(name)s.") % {"name": channel}})
    if contact_point is not None and contact_point.debtor_id != debtor.pk:
        raise ValidationError({"contact_point": _("That contact point is not the debtor's.")})
    if contact_point is not None and channel not in ContactPoint.CHANNELS_BY_KIND.get(
        contact_point.kind, ()
    ):
        raise ValidationError(
            {"contact_point": _("That contact point cannot receive this channel.")}
        )
    if not source.strip():
        raise ValidationError({"source": _("Say where the consent was given.")})
    now = now or timezone.now()
    given_at = given_at or now
    if given_at > now:
        raise ValidationError({"given_at": _("Consent cannot be given in the future.")})
    if expires_at is not None and expires_at <= given_at:
        raise ValidationError({"expires_at": _("The consent must expire after it was given.")})
    consent, _created = ChannelConsent.objects.select_for_update().get_or_create(
        debtor=debtor, contact_point=contact_point, channel=channel
    )
    consent.consented_at, consent.consent_source = given_at, source[:100]
    consent.expires_at = expires_at
    with acting_as(actor):
        consent.save()
    ConsentEvent.objects.create(
        consent=consent,
        kind=ConsentEvent.Kind.GIVEN,
        at=given_at,
        source=source[:200],
        evidence=evidence,
        actor_label=actor_text(actor),
    )
    return consent


@transaction.atomic
def contact_points_opt(
    *,
    actor: Actor,
    points: Sequence[ContactPoint],
    channel: str,
    opt_out: bool,
    source: str,
    evidence: str = "",
    now: dt.datetime | None = None,
) -> list[ChannelConsent]:
    """Opt ``points`` out of ``channel`` (``opt_out``) or back in, each point on its own:
    a STOP from a number, a bounce-free unsubscribe from an address. Opting back in lifts the
    point's opt-out and restores the consent it had. Repeating either changes nothing more
    than the first. Returns the consent rows that changed."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel %(name)s.") % {"name": channel}})
    now = now or timezone.now()
    changed: list[ChannelConsent] = []
    label = actor_text(actor)
    # The debtors' rows first, in id order as the gate locks them: a gate request judged
    # meanwhile either committed its permit before (the caller voids it) or waits and sees
    # the opt-out.
    list(
        Debtor.objects.select_for_update()
        .filter(pk__in=sorted({p.debtor_id for p in points}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with acting_as(actor):
        for point in sorted(points, key=lambda p: p.pk):
            consent, _created = ChannelConsent.objects.select_for_update().get_or_create(
                debtor_id=point.debtor_id, contact_point=point, channel=channel
            )
            if opt_out == consent.is_opted_out:
                continue
            consent.opted_out_at = now if opt_out else None
            consent.opt_out_source = source[:100] if opt_out else ""
            consent.save()
            ConsentEvent.objects.create(
                consent=consent,
                kind=ConsentEvent.Kind.OPTED_OUT if opt_out else ConsentEvent.Kind.OPTED_IN,
                at=now,
                source=source[:200],
                evidence=evidence,
                actor_label=label,
            )
            changed.append(consent)
    return changed


def actor_text(actor: Actor | None) -> str:
    """A readable label of ``actor`` for records that keep it as text."""
    if actor is None:
        return ""
    if isinstance(actor, str):
        return system_actor(actor)
    return actor.get_username()


# --- Loans ----------------------------------------------------------------------------------


def _validated_schedule(
    installments: Sequence[tuple[dt.date, Decimal]],
    currency: str,
    field: str = "installments",
    *,
    today: dt.date,
) -> list[tuple[dt.date, Decimal]]:
    schedule = []
    for index, (due_date, amount) in enumerate(installments):
        if not isinstance(due_date, dt.date):
            raise ValidationError(
                {field: _("Installment %(n)d: the due date is not a date.") % {"n": index + 1}}
            )
        try:
            dates.due_date(due_date, today=today, field=field)
        except ValidationError as exc:
            raise ValidationError(
                {
                    field: _("Installment %(n)d: %(error)s")
                    % {"n": index + 1, "error": " ".join(exc.messages)}
                }
            ) from exc
        try:
            amount = validate_amount(amount, currency, allow_zero=False)
        except ValidationError as exc:
            raise ValidationError(
                {
                    field: _("Installment %(n)d: %(error)s")
                    % {"n": index + 1, "error": " ".join(exc.messages)}
                }
            ) from exc
        schedule.append((due_date, amount))
    return sorted(schedule, key=lambda item: item[0])


@transaction.atomic
def loan_create(
    *,
    actor: Actor,
    debtor: Debtor,
    external_ref: str,
    currency: str,
    principal: Decimal,
    installments: Sequence[tuple[dt.date, Decimal]],
    interest_balance: Decimal = ZERO,
    fees_balance: Decimal = ZERO,
    **fields,
) -> Loan:
    """Create a loan and its schedule. Balances start as principal + interest + fees."""
    try:
        validate_currency(currency)
    except ValidationError as exc:
        raise ValidationError({"currency": exc.messages}) from exc
    principal = validate_amount(principal, currency, field="principal")
    interest_balance = validate_amount(interest_balance, currency, field="interest_balance")
    fees_balance = validate_amount(fees_balance, currency, field="fees_balance")
    schedule = _validated_schedule(installments, currency, today=timezone.localdate())
    loan = Loan(
        debtor=debtor,
        external_ref=external_ref,
        currency=currency,
        principal=principal,
        principal_balance=principal,
        interest_balance=interest_balance,
        fees_balance=fees_balance,
        **fields,
    )
    loan.full_clean(exclude=["debtor"])
    with acting_as(actor):
        loan.save()
        for sequence, (due_date, amount) in enumerate(schedule, start=1):
            Installment.objects.create(
                loan=loan, sequence=sequence, due_date=due_date, amount_due=amount
            )
        loan_refresh_derived(loan=loan)
    announce(debtor_ids=[debtor.pk], new_loan_ids=[loan.pk], actor=actor)
    return loan


def _open_schedule(loan: Loan):
    """The installments payments go to: the active plan's while a plan runs, else the loan's."""
    plan = loan.plans.filter(status=RepaymentPlan.Status.ACTIVE).first()
    if plan is not None:
        return plan, PlanInstallment.objects.select_for_update().filter(plan=plan).order_by(
            "due_date", "sequence"
        )
    return None, Installment.objects.select_for_update().filter(loan=loan).order_by(
        "due_date", "sequence"
    )


def loan_refresh_derived(*, loan: Loan, today: dt.date | None = None) -> Loan:
    """Recompute what is derived from the schedule: oldest unpaid due date and status."""
    today = today or timezone.localdate()
    plan, schedule = _open_schedule(loan)
    # Nothing owed (a payoff, or a kept plan with a discount): nothing is past due either.
    oldest = (
        None
        if loan.outstanding <= 0
        else schedule.filter(amount_paid__lt=F("amount_due"))
        .values_list("due_date", flat=True)
        .first()
    )
    loan.oldest_unpaid_due_date = oldest
    if loan.status not in Loan.FIXED_STATUSES:
        if loan.outstanding <= 0 and oldest is None:
            loan.status = Loan.Status.PAID
        elif plan is not None:
            loan.status = Loan.Status.IN_PLAN
        elif oldest is not None and oldest < today:
            loan.status = Loan.Status.DELINQUENT
        else:
            loan.status = Loan.Status.CURRENT
    loan.save(update_fields=["oldest_unpaid_due_date", "status"])
    return loan


@transaction.atomic
def loans_charge_off(*, actor: Actor, debtor: Debtor, now: dt.datetime | None = None) -> int:
    """Set every loan of ``debtor`` that is not closed to charged off (a fixed status: what is
    paid later never changes it). One history row per loan; returns how many changed."""
    loans = list(
        Loan.objects.select_for_update()
        .filter(debtor=debtor)
        .exclude(status__in=Loan.CLOSED_STATUSES)
        .order_by("id")
    )
    with acting_as(actor):
        for loan in loans:
            loan.status = Loan.Status.CHARGED_OFF
            loan.save(update_fields=["status"])
    return len(loans)


# --- Payments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedPayment:
    payment: Payment
    created: bool


def _reduce_balances(loan: Loan, amount: Decimal) -> None:
    """Reduce the loan's balances by ``amount`` in the configured waterfall order."""
    for bucket in settings.PAYMENT_BALANCE_WATERFALL:
        field = f"{bucket}_balance"
        take = min(amount, getattr(loan, field))
        setattr(loan, field, getattr(loan, field) - take)
        amount -= take
        if amount <= 0:
            return
    if amount > 0:
        # Installments may have scheduled more than the balances (e.g. interest accrued in the
        # schedule); whatever is left is still the debtor's money: keep it as credit.
        loan.credit_balance += amount


@transaction.atomic
def payment_post(
    *,
    actor: Actor,
    loan: Loan,
    amount: Decimal,
    received_at: dt.datetime,
    method: str,
    external_ref: str,
    source: str = "manual",
    now: dt.datetime | None = None,
) -> PostedPayment:
    """Post a payment: allocate it to open installments oldest first, keep any excess as
    credit, then settle promises and the plan. Posting the same (source, external_ref) again
    changes nothing and returns the first payment.
    """
    existing = Payment.objects.filter(source=source, external_ref=external_ref).first()
    if existing is not None:
        return PostedPayment(existing, created=False)
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    # A concurrent post of the same payment to this loan held the lock until it committed:
    # look again now that it is ours.
    existing = Payment.objects.filter(source=source, external_ref=external_ref).first()
    if existing is not None:
        return PostedPayment(existing, created=False)
    if loan.is_closed:
        raise ValidationError(
            {
                "loan": _("Loan %(ref)s is %(status)s; it takes no payments.")
                % {"ref": loan.external_ref, "status": loan.get_status_display()}
            }
        )
    amount = validate_amount(amount, loan.currency, allow_zero=False)
    if method not in Payment.Method.values:
        raise ValidationError(
            {"method": _("Unknown payment method %(method)s.") % {"method": method}}
        )
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": _("The time must include a time zone.")})
    now = now or timezone.now()

    with acting_as(actor):
        payment = Payment(
            loan=loan,
            amount=amount,
            received_at=received_at,
            method=method,
            source=source,
            external_ref=external_ref,
            created_at=now,
        )
        remaining = amount
        allocations, paid_items = [], []
        plan, schedule = _open_schedule(loan)
        for item in schedule.filter(amount_paid__lt=F("amount_due")):
            if remaining <= 0:
                break
            take = min(remaining, item.amount_open)
            item.amount_paid += take
            if item.amount_paid >= item.amount_due:
                item.paid_at = received_at
            paid_items.append(item)
            target = {"plan_installment": item} if plan is not None else {"installment": item}
            allocations.append(PaymentAllocation(amount=take, **target))
            remaining -= take
        allocated = amount - remaining
        # What no open installment needs is the debtor's money: kept as credit, never lost.
        payment.allocated_amount = allocated
        payment.credit_amount = amount - allocated
        _reduce_balances(loan, allocated)
        loan.credit_balance += payment.credit_amount
        # The payment is written before anything it changes: when a concurrent post of the
        # same reference (to another loan) won the race, nothing has been written yet.
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:
            return PostedPayment(
                Payment.objects.get(source=source, external_ref=external_ref), created=False
            )
        for item in paid_items:
            item.save(update_fields=["amount_paid", "paid_at"])
        for allocation in allocations:
            allocation.payment = payment
            allocation.save()
        loan.save(
            update_fields=[
                "principal_balance",
                "interest_balance",
                "fees_balance",
                "credit_balance",
            ]
        )
        loan_refresh_derived(loan=loan, today=timezone.localdate(now))
        if plan is not None:
            plans_review(now=now, loan_ids=[loan.pk])
        promises_resolve(now=now, loan_ids=[loan.pk])
    announce(debtor_ids=[loan.debtor_id], actor=actor, now=now)
    return PostedPayment(payment, created=True)


# --- Promises to pay ------------------------------------------------------------------------


@transaction.atomic
def promise_create(
    *,
    actor: Actor,
    loan: Loan,
    amount: Decimal,
    promised_date: dt.date,
    now: dt.datetime | None = None,
) -> PromiseToPay:
    now = now or timezone.now()
    amount = validate_amount(amount, loan.currency, allow_zero=False)
    if isinstance(promised_date, dt.date) and promised_date < timezone.localdate(now):
        raise ValidationError({"promised_date": _("A promise cannot be dated in the past.")})
    dates.promise_date(promised_date, today=timezone.localdate(now))
    if loan.is_closed:
        raise ValidationError({"loan": _("Loan %(ref)s is closed.") % {"ref": loan.external_ref}})
    created_by = None if isinstance(actor, str) else actor
    with acting_as(actor):
        promise = PromiseToPay.objects.create(
            loan=loan,
            amount=amount,
            promised_date=promised_date,
            created_by=created_by,
            created_at=now,
        )
    announce(debtor_ids=[loan.debtor_id], actor=actor, now=now)
    return promise


def promises_resolve(
    *, now: dt.datetime | None = None, loan_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Decide pending promises from payments: kept once the payments received since the
    promise was made reach its amount (by its date plus the grace days), broken when the date
    plus grace has passed without that. Safe to run any number of times.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    grace = dt.timedelta(days=settings.PROMISE_GRACE_DAYS)
    pending = PromiseToPay.objects.select_for_update(skip_locked=True).filter(
        status=PromiseToPay.Status.PENDING
    )
    if loan_ids is not None:
        pending = pending.filter(loan_id__in=loan_ids)
    counts = {"kept": 0, "broken": 0}
    changed: list[int] = []
    with transaction.atomic(), acting_as("promises_resolve"):
        for promise in pending.select_related("loan"):
            deadline = dates.days_later(promise.promised_date, grace.days)
            paid = (
                Payment.objects.filter(
                    loan_id=promise.loan_id,
                    received_at__gte=promise.created_at,
                    received_at__lt=dates.day_end(deadline),
                ).aggregate(total=Sum("amount"))["total"]
                or ZERO
            )
            if paid >= promise.amount:
                promise.status, promise.resolved_at = PromiseToPay.Status.KEPT, now
            elif today > deadline:
                promise.status, promise.resolved_at = PromiseToPay.Status.BROKEN, now
            else:
                continue
            promise.save(update_fields=["status", "resolved_at"])
            counts[promise.status] += 1
            changed.append(promise.loan.debtor_id)
        if loan_ids is None:
            # A caller naming its loans (``payment_post``) announces the change itself, once,
            # as its own actor.
            announce(debtor_ids=changed, actor="promises_resolve", now=now)
    return counts


# --- Repayment plans ------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    actor: Actor,
    loan: Loan,
    installments: Sequence[tuple[dt.date, Decimal]],
    discount_amount: Decimal = ZERO,
    discount_reason: str = "",
    frequency: str = RepaymentPlan.Frequency.MONTHLY,
    now: dt.datetime | None = None,
) -> RepaymentPlan:
    """Propose a plan that re-schedules what is owed on a loan.

    Its installments must add up to the outstanding balance, or to the balance less a recorded
    discount; a discount needs a supervisor's approval before the plan can start.
    """
    now = now or timezone.now()
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    if loan.is_closed:
        raise ValidationError({"loan": _("Loan %(ref)s is closed.") % {"ref": loan.external_ref}})
    if RepaymentPlan.objects.filter(loan=loan, status__in=RepaymentPlan.OPEN_STATUSES).exists():
        raise ValidationError(
            {"loan": _("Loan %(ref)s already has an open plan.") % {"ref": loan.external_ref}}
        )
    if not installments:
        raise ValidationError({"installments": _("A plan needs at least one installment.")})
    discount_amount = validate_amount(discount_amount, loan.currency, field="discount_amount")
    schedule = _validated_schedule(installments, loan.currency, today=timezone.localdate(now))
    dates.plan_last_date(schedule[-1][0], today=timezone.localdate(now))
    total = sum((amount for _due, amount in schedule), ZERO)
    outstanding = loan.outstanding
    if total + discount_amount != outstanding:
        raise ValidationError(
            {
                "installments": _(
                    "The installments add up to %(total)s and the discount is %(discount)s, but %(outstanding)s %(currency)s is outstanding."
                )
                % {
                    "total": total,
                    "discount": discount_amount,
                    "outstanding": outstanding,
                    "currency": loan.currency,
                }
            }
        )
    if discount_amount > 0 and not discount_reason.strip():
        raise ValidationError({"discount_reason": _("A discount needs a reason for the approver.")})
    if frequency not in RepaymentPlan.Frequency.values:
        raise ValidationError(
            {"frequency": _("Unknown frequency %(value)s.") % {"value": frequency}}
        )
    with acting_as(actor):
        plan = RepaymentPlan.objects.create(
            loan=loan,
            frequency=frequency,
            outstanding_at_creation=outstanding,
            total_amount=total,
            discount_amount=discount_amount,
            discount_reason=discount_reason,
            created_by=None if isinstance(actor, str) else actor,
            created_at=now,
        )
        for sequence, (due_date, amount) in enumerate(schedule, start=1):
            PlanInstallment.objects.create(
                plan=plan, sequence=sequence, due_date=due_date, amount_due=amount
            )
    return plan


def can_approve_discounts(user) -> bool:
    return not isinstance(user, str) and user.has_perm("debtors.approve_discount")


@transaction.atomic
def plan_approve_discount(
    *, actor, plan: RepaymentPlan, now: dt.datetime | None = None
) -> RepaymentPlan:
    """A supervisor accepts the discount; the plan can then be activated."""
    if not can_approve_discounts(actor):
        raise PermissionDenied(_("Only a supervisor may approve a discount."))
    plan = RepaymentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != RepaymentPlan.Status.PROPOSED or plan.discount_amount <= 0:
        raise ValidationError(_("This plan has no discount waiting for approval."))
    if plan.created_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("A discount must be approved by someone other than its proposer."))
    plan.discount_approved_by, plan.discount_approved_at = actor, now or timezone.now()
    with acting_as(actor):
        plan.save(update_fields=["discount_approved_by", "discount_approved_at"])
    return plan


@transaction.atomic
def plan_activate(
    *, actor: Actor, plan: RepaymentPlan, now: dt.datetime | None = None
) -> RepaymentPlan:
    """Start a proposed plan: from now on payments go to its installments."""
    now = now or timezone.now()
    plan = RepaymentPlan.objects.select_for_update().select_related("loan").get(pk=plan.pk)
    if plan.status != RepaymentPlan.Status.PROPOSED:
        raise ValidationError(
            _("Only a proposed plan can be activated (this one is %(status)s).")
            % {"status": plan.get_status_display()}
        )
    if plan.needs_discount_approval:
        raise ValidationError(_("The discount of this plan waits for a supervisor's approval."))
    plan.status, plan.activated_at = RepaymentPlan.Status.ACTIVE, now
    with acting_as(actor):
        plan.save(update_fields=["status", "activated_at"])
        loan = plan.loan
        if plan.discount_amount > 0:
            _reduce_balances(loan, plan.discount_amount)
            loan.save(
                update_fields=[
                    "principal_balance",
                    "interest_balance",
                    "fees_balance",
                    "credit_balance",
                ]
            )
        loan_refresh_derived(loan=loan, today=timezone.localdate(now))
    announce(debtor_ids=[loan.debtor_id], actor=actor, now=now)
    return plan


@transaction.atomic
def plan_cancel(
    *, actor: Actor, plan: RepaymentPlan, now: dt.datetime | None = None
) -> RepaymentPlan:
    now = now or timezone.now()
    plan = RepaymentPlan.objects.select_for_update().select_related("loan").get(pk=plan.pk)
    if plan.status not in RepaymentPlan.OPEN_STATUSES:
        raise ValidationError(_("This plan is already closed."))
    plan.status, plan.closed_at = RepaymentPlan.Status.CANCELLED, now
    with acting_as(actor):
        plan.save(update_fields=["status", "closed_at"])
        loan_refresh_derived(loan=plan.loan, today=timezone.localdate(now))
    announce(debtor_ids=[plan.loan.debtor_id], actor=actor, now=now)
    return plan


def plans_review(
    *, now: dt.datetime | None = None, loan_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Close active plans that are kept (every installment paid) or broken (an installment
    unpaid more than ``PLAN_GRACE_DAYS`` after its date). Safe to run any number of times."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    late_before = today - dt.timedelta(days=settings.PLAN_GRACE_DAYS)
    active = RepaymentPlan.objects.select_for_update(skip_locked=True).filter(
        status=RepaymentPlan.Status.ACTIVE
    )
    if loan_ids is not None:
        active = active.filter(loan_id__in=loan_ids)
    counts = {"kept": 0, "broken": 0}
    changed: list[int] = []
    with transaction.atomic(), acting_as("plans_review"):
        for plan in active.select_related("loan"):
            open_items = plan.installments.filter(amount_paid__lt=F("amount_due"))
            if not open_items.exists():
                plan.status = RepaymentPlan.Status.KEPT
            elif open_items.filter(due_date__lt=late_before).exists():
                plan.status = RepaymentPlan.Status.BROKEN
            else:
                continue
            plan.closed_at = now
            plan.save(update_fields=["status", "closed_at"])
            loan_refresh_derived(loan=plan.loan, today=today)
            counts[plan.status] += 1
            changed.append(plan.loan.debtor_id)
        if loan_ids is None:
            # A caller naming its loans (``payment_post``) announces the change itself, once,
            # as its own actor.
            announce(debtor_ids=changed, actor="plans_review", now=now)
    return counts


def plan_schedule(
    *, total: Decimal, count: int, first_date: dt.date, frequency: str, currency: str
) -> list[tuple[dt.date, Decimal]]:
    """Split ``total`` into ``count`` installments; rounding goes to the last one, so the
    schedule always adds up to the total exactly."""
    if count < 1:
        raise ValidationError({"count": _("A plan needs at least one installment.")})
    total = validate_amount(total, currency, allow_zero=False, field="total")
    base = quantize_down(total / count, currency)
    amounts = [base] * (count - 1) + [total - base * (count - 1)]
    try:
        return [(_nth_date(first_date, frequency, n), amount) for n, amount in enumerate(amounts)]
    except (OverflowError, ValueError) as exc:
        raise ValidationError(
            {"first_date": _("The schedule would run past the end of the calendar.")}
        ) from exc


def _nth_date(first: dt.date, frequency: str, n: int) -> dt.date:
    if frequency == RepaymentPlan.Frequency.WEEKLY:
        return first + dt.timedelta(weeks=n)
    if frequency == RepaymentPlan.Frequency.FORTNIGHTLY:
        return first + dt.timedelta(weeks=2 * n)
    month_index = first.month - 1 + n
    year, month = first.year + month_index // 12, month_index % 12 + 1
    day = min(first.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)
