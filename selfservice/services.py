"""What the debtor does on the portal, and what staff do about it.

Every debtor action goes through the ledger's and the cases' own services (promises,
plans, opt-outs, holds, contact preferences), attributed to ``PORTAL_ACTOR`` ("debtor via
portal"), and leaves a ``PortalEvent`` for the case timeline. Holds and opt-outs are rows the
compliance gate reads on its next decision: they take effect at once.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import services as workspace
from compliance import services as compliance_services
from compliance.models import DebtorContactPreference
from debtors import services as ledger
from debtors.audit import PORTAL_ACTOR, Actor, acting_as, actor_label, system_actor
from debtors.models import Channel, Debtor, Loan, RepaymentPlan
from messaging.templating import link_clock
from selfservice.models import (
    PortalDispute,
    PortalEvent,
    PortalFeedback,
    PortalIdentityLock,
    PortalLink,
    PortalPlanRequest,
    PortalSettings,
)


def event_record(
    *,
    debtor: Debtor,
    kind: str,
    detail: str = "",
    link: PortalLink | None = None,
    actor: Actor = PORTAL_ACTOR,
    now: dt.datetime | None = None,
    recorded_db_at: dt.datetime | None = None,
) -> PortalEvent:
    with acting_as(actor):
        return PortalEvent.objects.create(
            debtor=debtor,
            link=link,
            kind=kind,
            detail=detail,
            actor_label=system_actor(actor) if isinstance(actor, str) else actor_label(actor),
            created_at=now or timezone.now(),
            recorded_db_at=recorded_db_at,
        )


# --- Identity -------------------------------------------------------------------------------


class LinkLocked(Exception):
    """The debtor's identity lock is on: every link of the debtor is locked until ``until``."""

    def __init__(self, until: dt.datetime):
        self.until = until
        super().__init__(str(until))


def identity_can_be_checked(debtor: Debtor) -> bool:
    return debtor.date_of_birth is not None or len(debtor.national_id or "") >= 4


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@transaction.atomic
def identity_verify(
    *,
    link: PortalLink,
    date_of_birth: dt.date | None = None,
    id_last4: str = "",
    now: dt.datetime | None = None,
) -> bool:
    """Check a piece of identity against the debtor's record.

    Wrong answers are counted per debtor, whichever of their links they come through
    (``PortalIdentityLock``). The one that reaches ``identity_attempts`` locks every link of the
    debtor, those first opened later too, for ``lock_minutes`` from that answer, and the count
    starts again from zero; a right answer sets the count to zero and clears an ended lock.
    Raises ``LinkLocked`` while the debtor is locked (nothing is checked, nothing counted).
    Answers given at the same time, on one link or several, wait for one another on the lock
    row of the debtor, so every wrong one counts.
    """
    now = now or timezone.now()
    limits = PortalSettings.current()
    link = PortalLink.objects.select_related("debtor").get(pk=link.pk)
    debtor = link.debtor
    lock, _created = PortalIdentityLock.objects.select_for_update().get_or_create(debtor=debtor)
    if lock.is_locked(now):
        raise LinkLocked(lock.locked_until)
    ok = False
    if date_of_birth is not None and debtor.date_of_birth is not None:
        ok = _same(date_of_birth.isoformat(), debtor.date_of_birth.isoformat())
    last4 = (id_last4 or "").strip().upper()
    if not ok and len(last4) == 4 and len(debtor.national_id or "") >= 4:
        ok = _same(last4, debtor.national_id[-4:].upper())
    if ok:
        lock.failed_attempts, lock.locked_until = 0, None
        lock.save(update_fields=["failed_attempts", "locked_until"])
        link.verified_at = now
        with acting_as(PORTAL_ACTOR):
            link.save(update_fields=["verified_at"])
        event_record(debtor=debtor, kind=PortalEvent.Kind.VERIFIED, link=link, now=now)
        return True
    lock.failed_attempts += 1
    if lock.failed_attempts >= limits.identity_attempts:
        lock.failed_attempts = 0
        lock.locked_until = now + dt.timedelta(minutes=limits.lock_minutes)
        lock.save(update_fields=["failed_attempts", "locked_until"])
        event_record(debtor=debtor, kind=PortalEvent.Kind.LOCKED, link=link, now=now)
        return False
    lock.save(update_fields=["failed_attempts"])
    event_record(debtor=debtor, kind=PortalEvent.Kind.VERIFY_FAILED, link=link, now=now)
    return False


# --- Promises -------------------------------------------------------------------------------


def open_loans(debtor: Debtor) -> list[Loan]:
    return [loan for loan in debtor.loans.order_by("opened_on", "id") if not loan.is_closed]


def _loan_of(debtor: Debtor, loan: Loan) -> Loan:
    if loan.debtor_id != debtor.pk or loan.is_closed:
        raise ValidationError({"loan": _("Choose one of your open accounts.")})
    return loan


def portal_promise(
    *,
    link: PortalLink,
    loan: Loan,
    amount: Decimal,
    promised_date: dt.date,
    now: dt.datetime | None = None,
):
    """A promise to pay: more than zero, at most the balance, by a date within the limit."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    limits = PortalSettings.current()
    loan = _loan_of(link.debtor, loan)
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount above zero.")})
    if amount > loan.outstanding:
        raise ValidationError(
            {"amount": _("The amount cannot be more than what is owed on this account.")}
        )
    latest = today + dt.timedelta(days=limits.promise_max_days)
    if promised_date < today or promised_date > latest:
        raise ValidationError(
            {
                "promised_date": _("Choose a date from today to %(latest)s.")
                % {"latest": latest.isoformat()}
            }
        )
    with transaction.atomic():
        promise = workspace.promise_record(
            actor=PORTAL_ACTOR, loan=loan, amount=amount, promised_date=promised_date, now=now
        )
        event_record(
            debtor=link.debtor,
            kind=PortalEvent.Kind.PROMISE,
            link=link,
            detail=f"{loan.external_ref}: {amount} {loan.currency} {promised_date.isoformat()}",
            now=now,
        )
    return promise


# --- Plans ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutcome:
    plan: RepaymentPlan
    accepted: bool


def plan_limits_exceeded(
    *, loan: Loan, count: int, first_date: dt.date, frequency: str, today: dt.date
) -> list[str]:
    """Which of the admins' limits a proposal goes beyond (empty: it can start at once)."""
    limits = PortalSettings.current()
    schedule = ledger.plan_schedule(
        total=loan.outstanding,
        count=count,
        first_date=first_date,
        frequency=frequency,
        currency=loan.currency,
    )
    exceeded = []
    if count > limits.plan_max_installments:
        exceeded.append("installments")
    if min(amount for _due, amount in schedule) < limits.plan_min_installment:
        exceeded.append("minimum")
    if schedule[-1][0] > today + dt.timedelta(days=limits.plan_max_days):
        exceeded.append("length")
    if first_date > today + dt.timedelta(days=limits.plan_first_max_days):
        exceeded.append("first_date")
    return exceeded


def portal_plan_propose(
    *,
    link: PortalLink,
    loan: Loan,
    count: int,
    first_date: dt.date,
    frequency: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> PlanOutcome:
    """Inside the limits the plan is created and started at once; outside them it is created
    as proposed and waits for a collector's or supervisor's decision."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    loan = _loan_of(link.debtor, loan)
    if count < 1 or count > 120:
        raise ValidationError({"count": _("Choose between 1 and 120 installments.")})
    if first_date < today:
        raise ValidationError({"first_date": _("The first payment cannot be in the past.")})
    if frequency not in RepaymentPlan.Frequency.values:
        raise ValidationError({"frequency": _("Choose how often you would pay.")})
    if loan.outstanding <= 0:
        raise ValidationError({"loan": _("Nothing is owed on this account.")})
    exceeded = plan_limits_exceeded(
        loan=loan, count=count, first_date=first_date, frequency=frequency, today=today
    )
    with transaction.atomic():
        plan = workspace.plan_propose(
            actor=PORTAL_ACTOR,
            loan=loan,
            count=count,
            first_date=first_date,
            frequency=frequency,
            start=not exceeded,
            now=now,
        )
        with acting_as(PORTAL_ACTOR):
            PortalPlanRequest.objects.create(
                plan=plan,
                debtor=link.debtor,
                within_limits=not exceeded,
                outside_limits=exceeded,
                note=(note or "").strip()[:2000],
                created_at=now,
                decided_at=now if not exceeded else None,
                decided_by=PORTAL_ACTOR if not exceeded else "",
            )
        event_record(
            debtor=link.debtor,
            kind=PortalEvent.Kind.PLAN_ACCEPTED if not exceeded else PortalEvent.Kind.PLAN_REVIEW,
            link=link,
            # Only the loan: the plan's terms are on the case page in the reader's language,
            # and the limits it exceeds are on the request.
            detail=loan.external_ref,
            now=now,
        )
    return PlanOutcome(plan=plan, accepted=not exceeded)


@transaction.atomic
def plan_request_decide(
    *, actor, request: PortalPlanRequest, approve: bool, now: dt.datetime | None = None
) -> RepaymentPlan:
    """A collector or supervisor approves (the plan starts) or declines (it is cancelled) a plan
    the debtor proposed outside the limits. The debtor sees the outcome on the portal."""
    now = now or timezone.now()
    request = (
        PortalPlanRequest.objects.select_for_update().select_related("plan").get(pk=request.pk)
    )
    if request.decided_at is not None or request.plan.status != RepaymentPlan.Status.PROPOSED:
        raise ValidationError(_("This proposal has already been decided."))
    if approve:
        plan = workspace.plan_start(actor=actor, plan=request.plan, now=now)
    else:
        plan = ledger.plan_cancel(actor=actor, plan=request.plan, now=now)
    request.decided_at, request.decided_by = now, actor_label(actor)
    with acting_as(actor):
        request.save(update_fields=["decided_at", "decided_by"])
    event_record(
        debtor=request.debtor,
        kind=PortalEvent.Kind.PLAN_APPROVED if approve else PortalEvent.Kind.PLAN_DECLINED,
        detail=f"#{plan.pk}",
        actor=actor,
        now=now,
    )
    return plan


# --- Contact choices ------------------------------------------------------------------------

PORTAL_CHANNELS = (Channel.CALL, Channel.SMS, Channel.EMAIL, Channel.IN_APP, Channel.LETTER)


@transaction.atomic
def portal_contact_choices(
    *,
    link: PortalLink,
    allowed_channels: list[str],
    suits_from: dt.time | None,
    suits_until: dt.time | None,
    now: dt.datetime | None = None,
) -> None:
    """The channels the debtor may be contacted on (every other one is an opt-out) and the
    hours that suit them (every other hour becomes an inconvenient time the gate blocks)."""
    now = now or timezone.now()
    debtor = link.debtor
    unknown = [c for c in allowed_channels if c not in PORTAL_CHANNELS]
    if unknown:
        raise ValidationError({"channels": _("Unknown channel.")})
    if (suits_from is None) != (suits_until is None) or (
        suits_from is not None and suits_from == suits_until
    ):
        raise ValidationError({"suits_until": _("Choose both a start and an end hour.")})
    opted_out = [c for c in PORTAL_CHANNELS if c not in allowed_channels]
    # Visits are never offered on the portal; one already opted out stays so.
    if debtor.channel_consents.filter(
        channel=Channel.VISIT, contact_point=None, opted_out_at__isnull=False
    ).exists():
        opted_out.append(Channel.VISIT)
    ledger.channel_opt_outs_set(
        actor=PORTAL_ACTOR, debtor=debtor, channels=opted_out, source="portal", now=now
    )
    for old in DebtorContactPreference.objects.filter(
        debtor=debtor, source=DebtorContactPreference.Source.PORTAL
    ):
        compliance_services.contact_preference_remove(actor=PORTAL_ACTOR, preference=old)
    hours = ""
    if suits_from is not None:
        compliance_services.contact_preference_add(
            actor=PORTAL_ACTOR,
            debtor=debtor,
            kind=DebtorContactPreference.Kind.PREFERRED,
            start_time=suits_from,
            end_time=suits_until,
            source=DebtorContactPreference.Source.PORTAL,
        )
        # The gate blocks inconvenient times: everything outside the hours that suit.
        compliance_services.contact_preference_add(
            actor=PORTAL_ACTOR,
            debtor=debtor,
            kind=DebtorContactPreference.Kind.INCONVENIENT,
            start_time=suits_until,
            end_time=suits_from,
            source=DebtorContactPreference.Source.PORTAL,
            note="outside the hours chosen on the portal",
        )
        hours = f" {suits_from:%H:%M}-{suits_until:%H:%M}"
    event_record(
        debtor=debtor,
        kind=PortalEvent.Kind.CONTACT,
        link=link,
        detail=f"opted out: {', '.join(opted_out) or '-'};{hours or ' any hour'}",
        now=now,
    )


def portal_cease_contact(*, link: PortalLink, note: str = "", now: dt.datetime | None = None):
    """Stop all contact: a cease-communication hold, effective on the gate's next decision."""
    with transaction.atomic():
        reason = _("Asked on the self-service portal to stop all contact.")
        if note.strip():
            reason = f"{reason} {note.strip()[:2000]}"
        workspace.debtor_hold_record(
            actor=PORTAL_ACTOR,
            debtor=link.debtor,
            kind="cease_communication",
            reason=reason,
            now=now,
        )
        event_record(debtor=link.debtor, kind=PortalEvent.Kind.CEASE, link=link, now=now)


# --- Disputes -------------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def document_type(upload: UploadedFile) -> str:
    """The document's type judged by its first bytes (never by its name or the browser's
    word); raises ``ValidationError`` for anything but a PDF, JPEG or PNG up to 5 MB."""
    if upload.size is None or upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({"document": _("The file is larger than 5 MB.")})
    if upload.size == 0:
        raise ValidationError({"document": _("The file is empty.")})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in DOCUMENT_SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise ValidationError({"document": _("Only PDF, JPEG or PNG files can be attached.")})


def portal_dispute(
    *,
    link: PortalLink,
    reason: str,
    document: UploadedFile | None = None,
    now: dt.datetime | None = None,
) -> PortalDispute:
    """Raise a dispute: the account goes on dispute hold at once (the gate blocks contact)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": _("Tell us briefly what is wrong.")})
    content_type = document_type(document) if document is not None else ""
    with transaction.atomic():
        dispute = PortalDispute(
            debtor=link.debtor,
            link=link,
            reason=reason[:5000],
            document_type=content_type,
            document_size=document.size if document is not None else 0,
            document_name=(document.name or "")[-200:] if document is not None else "",
            created_at=now,
        )
        with acting_as(PORTAL_ACTOR):
            if document is not None:
                dispute.document.save("upload", document, save=False)
            dispute.save()
        workspace.debtor_hold_record(
            actor=PORTAL_ACTOR, debtor=link.debtor, kind="dispute", reason=reason[:5000], now=now
        )
        event_record(
            debtor=link.debtor,
            kind=PortalEvent.Kind.DISPUTE,
            link=link,
            detail=reason[:200],
            now=now,
        )
    return dispute


# --- Rating ---------------------------------------------------------------------------------


@transaction.atomic
def portal_feedback(
    *, link: PortalLink, score: int, comment: str = "", now: dt.datetime | None = None
) -> PortalFeedback:
    """The debtor's rating of the portal (one per link; a second one replaces the first)."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": _("Choose from 1 to 5.")})
    now = now or timezone.now()
    feedback, _created = PortalFeedback.objects.update_or_create(
        link=link,
        defaults={
            "debtor": link.debtor,
            "score": score,
            "comment": (comment or "").strip()[:2000],
            "created_at": now,
        },
    )
    event_record(
        debtor=link.debtor,
        kind=PortalEvent.Kind.FEEDBACK,
        link=link,
        detail=f"{score}/5",
        now=now,
    )
    return feedback


# --- Staff: revocation ----------------------------------------------------------------------


def _staff_only(actor) -> None:
    if isinstance(actor, str) or not actor.is_authenticated:
        raise PermissionDenied


@transaction.atomic
def links_revoke(*, actor, debtor: Debtor, now: dt.datetime | None = None) -> int:
    """Revoke every self-service link of the debtor: the opened ones and those not opened yet,
    whatever their date (every link issued before this, by the database's clock, no longer
    works: ``selfservice.links.revoked_by_debtor``). Returns the opened links revoked."""
    _staff_only(actor)
    now = now or timezone.now()
    label = actor_label(actor)
    count = 0
    with acting_as(actor):
        for link in PortalLink.objects.select_for_update().filter(
            debtor=debtor, revoked_at__isnull=True
        ):
            link.revoked_at, link.revoked_by = now, label
            link.save(update_fields=["revoked_at", "revoked_by"])
            count += 1
    event_record(
        debtor=debtor,
        kind=PortalEvent.Kind.REVOKED,
        actor=actor,
        now=now,
        recorded_db_at=link_clock(),
    )
    return count
