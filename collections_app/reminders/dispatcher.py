"""The dispatcher: claims due reminders, asks the gate, sends, records. Never sends twice.

One pass (``dispatch``):

1. Resolves reminders left ``sending`` by a crashed worker (``recover_stale``).
2. Claims due rows in batches with ``SELECT ... FOR UPDATE SKIP LOCKED`` (SQLite, used by the
   single-process demo, has no row locks and runs the same query without them), marks them
   ``sending`` and commits: from then on no other worker takes them.
3. For each row (``process``): waits for the debtor's own day to begin; closes it if too late,
   or if the installment or the loan is paid; composes the message; asks the gate
   (``compliance.gate.request``, in its own transaction); links the permit's attempt to the row
   and commits; only then calls the backend, which spends the permit; and records the outcome on
   the attempt and the row in one transaction.

Outcomes of the gate: blocked by time (hours, limits, cooldowns) -> ``planned`` again with
``not_before = next_allowed_at``; blocked by a hold (opt-out, dispute, cease communication,
no consent, ...) -> ``closed`` with the reason.

Outcomes of the provider: a temporary error -> retried after ``REMINDER_RETRY_BACKOFF_SECONDS``
(1 min, 5 min, 30 min, 2 h by default; then failed); a permanent error -> ``failed`` at once;
an uncertain one -> the backend's status query decides, else ``unknown``.

A row still ``sending`` after ``REMINDER_SENDING_LEASE_SECONDS`` was left by a dead worker:
* no permit was asked for it -> ``planned`` again (nothing was sent);
* its permit was never spent and has expired -> the attempt is recorded failed and the row is
  planned again (a permit cannot be spent once expired, so nothing can have been sent);
* its permit was spent -> the backend's ``lookup`` by idempotency key says whether the provider
  has the message (``sent``) or certainly not (planned again); a backend that cannot tell
  leaves it ``unknown`` for a supervisor. It is never re-sent blindly.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from collections import Counter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from collections_app.channels import OutcomeUnknown, PermanentError, TransientError, get_backend
from collections_app.channels.base import UNKNOWABLE, Found
from collections_app.channels.call_task import queue_call
from collections_app.models import (
    Reminder,
    ReminderRun,
    ReminderStage,
    ReminderStatus,
    StageChannel,
)
from compliance import gate
from compliance.channels import OutboundMessage
from compliance.models import ContactAttempt, ContactPermit, Outcome
from compliance.reasons import HOLD_REASONS
from compliance.zones import candidate_zones
from debtors.models import ContactPoint, Loan, RepaymentPlan

from . import messages, services
from .messages import ComposeError, compose

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF = (60, 300, 1800, 7200)


def backoff_schedule() -> tuple[int, ...]:
    return tuple(getattr(settings, "REMINDER_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF))


def sending_lease() -> dt.timedelta:
    default = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 300)) + 60
    return dt.timedelta(seconds=int(getattr(settings, "REMINDER_SENDING_LEASE_SECONDS", default)))


def expiry() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "REMINDER_EXPIRY_DAYS", 7)))


# --- Claiming -------------------------------------------------------------------------------


def _locking(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def claim(*, now: dt.datetime, batch_size: int) -> list[int]:
    """Take up to ``batch_size`` due rows: mark them ``sending`` and commit."""
    with services.relaxed_commit():
        due = _locking(
            Reminder.objects.filter(status=ReminderStatus.PLANNED, not_before__lte=now).order_by(
                "not_before", "id"
            )
        )
        ids = list(due.values_list("id", flat=True)[:batch_size])
        if ids:
            Reminder.objects.filter(pk__in=ids, status=ReminderStatus.PLANNED).update(
                status=ReminderStatus.SENDING, claimed_at=timezone.now()
            )
    return ids


# --- One reminder ---------------------------------------------------------------------------


def _local_day_start(day: dt.date, zones: list[str]) -> dt.datetime:
    """When ``day`` has begun in every zone the debtor may be in."""
    starts = [dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(z)) for z in zones]
    return max(starts).astimezone(dt.UTC)


def _paid_reason(reminder: Reminder) -> str | None:
    loan = reminder.loan
    if loan.status in Loan.CLOSED_STATUSES or loan.outstanding <= 0:
        return "loan_closed" if loan.status == Loan.Status.CHARGED_OFF else "paid"
    item = reminder.installment or reminder.plan_installment
    if item.amount_paid >= item.amount_due:
        return "paid"
    if reminder.plan_installment is not None and reminder.plan_installment.plan.status != (
        RepaymentPlan.Status.ACTIVE
    ):
        return "plan_closed"
    # A kept plan leaves nothing outstanding: its loan is paid, caught above.
    return None


_stage_gaps: dict[int, int | None] = {}


def clear_caches() -> None:
    """Forget what one pass cached (stages, templates, policies): edits apply from the next."""
    _stage_gaps.clear()
    messages.clear_caches()


def _next_stage_gap(stage) -> int | None:
    if stage.pk not in _stage_gaps:
        _stage_gaps[stage.pk] = _query_stage_gap(stage)
    return _stage_gaps[stage.pk]


def _query_stage_gap(stage) -> int | None:
    later = (
        ReminderStage.objects.filter(
            strategy_id=stage.strategy_id, is_active=True, offset_days__gt=stage.offset_days
        )
        .order_by("offset_days")
        .values_list("offset_days", flat=True)
        .first()
    )
    return None if later is None else later - stage.offset_days


def process(reminder_id: int, *, now: dt.datetime | None = None) -> str:
    """Walk one claimed reminder to its next state; return the outcome's name.

    ``now`` replays a given instant (commands' ``--now``); by default the gate reads the
    clock itself, after it holds the debtor's lock.
    """
    reminder = (
        Reminder.objects.select_related(
            "stage", "loan", "debtor", "installment", "plan_installment__plan"
        )
        .filter(pk=reminder_id, status=ReminderStatus.SENDING)
        .first()
    )
    if reminder is None:
        return "skipped"
    try:
        return _process(reminder, now)
    except Exception as exc:  # noqa: BLE001 - every outcome is recorded, never lost in a log
        logger.exception("reminder %s: unexpected error", reminder_id)
        error = f"{type(exc).__name__}: {exc}"
        linked = (
            Reminder.objects.filter(pk=reminder_id)
            .values_list("contact_attempt_id", flat=True)
            .first()
        )
        if linked:
            services.reminder_mark_unknown(reminder_id=reminder_id, error=error)
            return "unknown"
        services.reminder_fail(reminder_id=reminder_id, reason="error", error=error)
        return "failed"


def _process(reminder: Reminder, now: dt.datetime | None) -> str:
    at = now or timezone.now()
    rid = reminder.pk
    debtor = reminder.debtor
    points = list(ContactPoint.objects.filter(debtor_id=debtor.pk))
    try:
        zones = candidate_zones(debtor, points)
    except ValidationError as exc:
        services.reminder_fail(reminder_id=rid, reason="no_timezone", error=" ".join(exc.messages))
        return "failed"
    day_start = _local_day_start(reminder.scheduled_for, zones)
    if at < day_start:
        services.reminder_release(reminder_id=rid, not_before=day_start, reason="before_local_day")
        return "waiting"
    if at >= day_start + expiry():
        services.reminder_close(reminder_id=rid, reason="expired")
        return "closed"
    gap = _next_stage_gap(reminder.stage)
    if gap is not None and at >= day_start + dt.timedelta(days=gap):
        # The next stage's day has begun: this message is out of date.
        services.reminder_close(reminder_id=rid, reason="superseded")
        return "closed"
    paid = _paid_reason(reminder)
    if paid:
        services.reminder_close(reminder_id=rid, reason=paid)
        return "closed"

    if reminder.channel == StageChannel.CALL_TASK:
        decision = gate.check(debtor=debtor, channel="call", loan=reminder.loan, at=at)
        holds = [r for r in decision.reasons if r in HOLD_REASONS]
        if not decision.allowed and holds and decision.next_allowed_at is None:
            services.reminder_close(reminder_id=rid, reason=holds[0])
            return "closed"
        local_day = at.astimezone(zoneinfo.ZoneInfo(zones[0])).date()
        queue_call(debtor_id=debtor.pk, day=local_day)
        services.reminder_queue_call(reminder_id=rid)
        return "queued"

    try:
        message = compose(reminder, points, on=at.astimezone(zoneinfo.ZoneInfo(zones[0])).date())
    except ComposeError as exc:
        if exc.code == "no_contact_point":
            services.reminder_close(reminder_id=rid, reason=exc.code, error=str(exc))
            return "closed"
        services.reminder_fail(reminder_id=rid, reason=exc.code, error=str(exc))
        return "failed"

    try:
        permit = gate.request(
            debtor=debtor,
            channel=reminder.channel,
            actor=reminder.actor,
            loan=reminder.loan,
            contact_point=message.contact_point,
            now=now,
        )
    except gate.ContactBlocked as blocked:
        decision = blocked.decision
        reason = decision.reasons[0] if decision.reasons else "blocked"
        if decision.next_allowed_at is not None:
            services.reminder_release(
                reminder_id=rid, not_before=decision.next_allowed_at, reason=reason
            )
            return "waiting"
        holds = [r for r in decision.reasons if r in HOLD_REASONS] or [reason]
        services.reminder_close(reminder_id=rid, reason=holds[0])
        return "closed"
    except (gate.GateInputError, ValidationError) as exc:
        services.reminder_fail(reminder_id=rid, reason="gate_error", error=str(exc))
        return "failed"

    # The permit's attempt is linked and committed before the provider is called: after a
    # crash, the row says exactly which permit (and so which possible message) it stands for.
    services.reminder_note_attempt(reminder_id=rid, attempt_id=permit.attempt_id)
    attempt = ContactAttempt(
        pk=permit.attempt_id,
        debtor=debtor,
        loan=reminder.loan,
        contact_point=message.contact_point,
        channel=reminder.channel,
        direction="outbound",
        outcome=Outcome.PENDING,
        occurred_at=at,
    )
    backend = get_backend(reminder.channel)
    outbound = OutboundMessage(
        debtor_id=debtor.pk,
        to=message.to,
        body=message.body,
        subject=message.subject,
        metadata=message.metadata,
    )
    try:
        result = backend.send(permit.token, outbound)
    except gate.InvalidPermit as exc:
        services.reminder_fail(
            reminder_id=rid, reason="permit", error=str(exc), attempt=attempt, occurred_at=at
        )
        return "failed"
    except TransientError as exc:
        return _retry(reminder, attempt, at, str(exc))
    except PermanentError as exc:
        services.reminder_fail(
            reminder_id=rid, reason="provider", error=str(exc), attempt=attempt, occurred_at=at
        )
        return "failed"
    except OutcomeUnknown as exc:
        return _settle_uncertain(reminder, attempt, backend, at, str(exc))
    services.reminder_mark_sent(
        reminder_id=rid, attempt=attempt, provider_ref=result.provider_ref, occurred_at=at
    )
    return "sent"


def _retry(reminder: Reminder, attempt, at: dt.datetime, error: str) -> str:
    schedule = backoff_schedule()
    tries = Reminder.objects.filter(pk=reminder.pk).values_list("tries", flat=True).first() or 1
    if tries > len(schedule):
        services.reminder_fail(
            reminder_id=reminder.pk,
            reason="provider",
            error=f"Gave up after {tries} tries: {error}",
            attempt=attempt,
            occurred_at=at,
        )
        return "failed"
    services.reminder_retry(
        reminder_id=reminder.pk,
        not_before=at + dt.timedelta(seconds=schedule[tries - 1]),
        error=error,
        attempt=attempt,
        occurred_at=at,
    )
    return "retry"


def _settle_uncertain(reminder: Reminder, attempt, backend, at: dt.datetime, error: str) -> str:
    found = backend.lookup(reminder.idempotency_key)
    if isinstance(found, Found):
        services.reminder_mark_sent(
            reminder_id=reminder.pk,
            attempt=attempt,
            provider_ref=found.provider_ref,
            occurred_at=at,
        )
        return "sent"
    if found is None:
        return _retry(reminder, attempt, at, error)
    services.reminder_mark_unknown(reminder_id=reminder.pk, error=error)
    return "unknown"


# --- Recovery -------------------------------------------------------------------------------


def recover_stale(*, batch_size: int = 500) -> Counter:
    """Resolve rows left ``sending`` longer than the lease (their worker died)."""
    counts: Counter = Counter()
    cutoff = timezone.now() - sending_lease()
    with transaction.atomic():
        stale = _locking(
            Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=cutoff).order_by(
                "claimed_at", "id"
            )
        )
        ids = list(stale.values_list("id", flat=True)[:batch_size])
        # Re-lease them, so a concurrent recovery leaves them alone.
        Reminder.objects.filter(pk__in=ids).update(claimed_at=timezone.now())
    for rid in ids:
        counts[resolve_stale(rid)] += 1
    return counts


def _pending_attempt(reminder: Reminder) -> ContactAttempt | None:
    if reminder.contact_attempt_id:
        return ContactAttempt.objects.select_related("debtor").get(pk=reminder.contact_attempt_id)
    # The gate granted a permit but the worker died before linking it: found by its actor.
    return (
        ContactAttempt.objects.select_related("debtor")
        .filter(debtor_id=reminder.debtor_id, actor_label=reminder.actor, outcome=Outcome.PENDING)
        .order_by("-id")
        .first()
    )


def resolve_stale(reminder_id: int) -> str:
    reminder = Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING).first()
    if reminder is None:
        return "skipped"
    now = timezone.now()
    attempt = _pending_attempt(reminder)
    if attempt is None or attempt.outcome != Outcome.PENDING:
        services.reminder_release(reminder_id=reminder_id, not_before=now, reason="recovered")
        return "recovered"
    permit = ContactPermit.objects.filter(attempt_id=attempt.pk).first()
    if permit is not None and permit.redeemed_at is None:
        if permit.expires_at > now:
            # Still spendable by a worker that is merely slow: look again after the re-lease.
            return "later"
        with transaction.atomic():
            services.reminder_release(reminder_id=reminder_id, not_before=now, reason="recovered")
            Reminder.objects.filter(pk=reminder_id).update(contact_attempt=None)
            services._record(attempt, Outcome.FAILED, attempt.occurred_at, reminder.actor)
        return "recovered"
    backend = get_backend(reminder.channel)
    found = backend.lookup(reminder.idempotency_key)
    if isinstance(found, Found):
        services.reminder_mark_sent(
            reminder_id=reminder_id,
            attempt=attempt,
            provider_ref=found.provider_ref,
            occurred_at=attempt.occurred_at,
        )
        return "sent"
    if found is None:
        with transaction.atomic():
            services.reminder_release(reminder_id=reminder_id, not_before=now, reason="recovered")
            Reminder.objects.filter(pk=reminder_id).update(contact_attempt=None)
            services._record(attempt, Outcome.FAILED, attempt.occurred_at, reminder.actor)
        return "recovered"
    assert found is UNKNOWABLE
    services.reminder_mark_unknown(
        reminder_id=reminder_id,
        error="The worker stopped while sending and this channel cannot tell whether the "
        "message left: check with the provider before sending again.",
    )
    return "unknown"


# --- A pass ---------------------------------------------------------------------------------


def dispatch(
    *,
    now: dt.datetime | None = None,
    batch_size: int = 100,
    max_batches: int | None = None,
    budget_seconds: float | None = None,
    actor: str = "dispatch_reminders",
) -> dict[str, int]:
    """One pass: recover, then claim and process batches until none is due (or the budget
    is spent). Returns counts by outcome."""
    started = time.monotonic()
    clear_caches()
    budget = budget_seconds or float(getattr(settings, "REMINDER_DISPATCH_BUDGET_SECONDS", 120))
    run = ReminderRun.objects.create(
        kind=ReminderRun.Kind.DISPATCH,
        as_of=now or timezone.now(),
        started_at=timezone.now(),
        actor_label=actor,
    )
    counts: Counter = Counter()
    for outcome, n in recover_stale().items():
        counts[f"recovery_{outcome}"] += n
    batches = 0
    while max_batches is None or batches < max_batches:
        ids = claim(now=now or timezone.now(), batch_size=batch_size)
        if not ids:
            break
        batches += 1
        for rid in ids:
            counts[process(rid, now=now)] += 1
        if time.monotonic() - started > budget:
            break
    run.counts = dict(counts)
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return dict(counts)
