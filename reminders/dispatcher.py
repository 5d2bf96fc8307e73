"""The dispatcher: claims due reminders, asks the gate, sends, records. Never sends twice.

One pass (``dispatch``):

1. Resolves reminders left ``sending`` by a crashed worker (``recover_stale``).
2. Claims due rows in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``, marks them
   ``sending`` and commits: from then on no other worker takes them.
3. Processes each claimed batch (``process_batch``) with set-based reads and writes: loads the
   rows with their loans, debtors, installments and stages in one query and the debtors'
   contact points in another; for each row waits for the debtor's own day to begin, closes it
   if too late, or if the installment or the loan is paid, and composes the message; asks the
   gate for the whole batch at once (``compliance.gate.request_many``: one transaction that
   locks each debtor, reads the clock after the locks and records every decision); links the
   permits' attempts to their rows and commits, together with the rows the gate held back;
   only then hands the messages to the backends (``send_many`` spends a backend's permits in
   one transaction, then delivers each); and records the sends, each reminder with its
   attempt, in one more transaction.

Outcomes of the gate: blocked by time (hours, limits, cooldowns) -> ``planned`` again with
``not_before = next_allowed_at``; blocked by a hold (opt-out, dispute, cease communication,
no consent, ...) -> ``closed`` with the reason.

Outcomes of the provider: a temporary error -> retried after ``REMINDER_RETRY_BACKOFF_SECONDS``
(1 min, 5 min, 30 min, 2 h by default; then failed); a permanent error -> ``failed`` at once;
an uncertain one -> the backend's status query decides, else ``unknown``.

A row still ``sending`` after ``REMINDER_SENDING_LEASE_SECONDS`` was left by a dead worker:
* no permit was asked for it -> ``planned`` again (nothing was sent);
* its permit was never spent -> the permit is voided (``gate.permit_revoke``), the attempt is
  recorded failed and the row is planned again (a void permit can never be spent, so nothing
  can have been sent with it; a slow worker that still holds it is refused);
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

from compliance import gate
from compliance.batch import check_loans
from compliance.channels import DeliveryResult, OutboundMessage
from compliance.models import ContactAttempt, ContactPermit, Outcome
from compliance.reasons import HOLD_REASONS
from compliance.zones import candidate_zones
from debtors.models import ContactPoint, Loan, RepaymentPlan
from messaging import messages as message_lookups
from messaging.channels import OutcomeUnknown, PermanentError, TransientError, get_backend
from messaging.channels.base import UNKNOWABLE, Found
from messaging.templating import link_clock
from reminders import messages, services
from reminders.call_task import queue_call
from reminders.messages import ComposeError, compose
from reminders.models import Reminder, ReminderRun, ReminderStage, ReminderStatus, StageChannel

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


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)  # ZoneInfo keeps one instance per name


def _local_day_start(day: dt.date, zones: list[str]) -> dt.datetime:
    """When ``day`` has begun in every zone the debtor may be in."""
    starts = [dt.datetime.combine(day, dt.time.min, tzinfo=_zone(z)) for z in zones]
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
    message_lookups.clear_caches()


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
    return process_batch([reminder_id], now=now)[reminder_id]


def process_batch(reminder_ids: list[int], *, now: dt.datetime | None = None) -> dict[int, str]:
    """Walk claimed reminders to their next state; return each one's outcome by id.

    The batch is read in a few set-based queries, asked of the gate in one transaction
    (``gate.request_many``: each debtor locked, each decision recorded), linked to its permits'
    attempts in one transaction, handed to the backends (each backend spends its permits in one
    transaction, then delivers), and its outcomes written in one more.
    """
    outcomes: dict[int, str] = dict.fromkeys(reminder_ids, "skipped")
    reminders = list(
        Reminder.objects.select_related(
            "stage", "loan", "debtor", "installment", "plan_installment__plan"
        )
        .filter(pk__in=reminder_ids, status=ReminderStatus.SENDING)
        .order_by("id")
    )
    if not reminders:
        return outcomes
    done: dict[int, str] = {}
    try:
        _process_batch(reminders, now, done)
    except Exception as exc:  # noqa: BLE001 - every outcome is recorded, never lost in a log
        logger.exception("reminders %s: unexpected error", [r.pk for r in reminders])
        error = f"{type(exc).__name__}: {exc}"
        for reminder in reminders:
            if reminder.pk not in done:
                done[reminder.pk] = _after_error(reminder.pk, error)
    outcomes.update(done)
    return outcomes


def _after_error(reminder_id: int, error: str) -> str:
    """An unexpected error left the row ``sending``: unknown if a permit may have been used."""
    linked = (
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING)
        .values_list("contact_attempt_id", flat=True)
        .first()
    )
    if linked:
        services.reminder_mark_unknown(reminder_id=reminder_id, error=error)
        return "unknown"
    if services.reminder_fail(reminder_id=reminder_id, reason="error", error=error):
        return "failed"
    return "skipped"


def _process_batch(reminders: list[Reminder], now: dt.datetime | None, done: dict) -> None:
    at = now or timezone.now()
    points: dict[int, list[ContactPoint]] = {}
    for point in ContactPoint.objects.filter(
        debtor_id__in={r.debtor_id for r in reminders}
    ).order_by("id"):
        points.setdefault(point.debtor_id, []).append(point)

    # Call tasks ask the gate's dry run, all of the batch's at once.
    calls = check_loans(
        wanted=[(r.debtor_id, r.loan_id) for r in reminders if r.channel == StageChannel.CALL_TASK],
        channel="call",
        at=at,
    )

    # The messages' self-service links are issued now by the database's clock, read once for
    # the batch (what a revocation is compared with: ``templating.link_clock``).
    links_issued = link_clock()

    released: list[tuple[int, dt.datetime, str]] = []
    closed: list[tuple[int, str, str]] = []
    asking: list[tuple[Reminder, messages.Composed, gate.GateRequest]] = []
    for reminder in reminders:
        step = _before_gate(reminder, points.get(reminder.debtor_id, []), at, calls, links_issued)
        if step[0] == "release":
            released.append((reminder.pk, step[1], step[2]))
        elif step[0] == "close":
            closed.append((reminder.pk, step[1], step[2]))
        elif step[0] == "ask":
            asking.append((reminder, step[1], step[2]))
        else:
            done[reminder.pk] = step[1]

    granted: list[tuple[Reminder, messages.Composed, gate.Permit]] = []
    answers = gate.request_many([wanted for _r, _m, wanted in asking], now=now)
    for (reminder, message, _wanted), answer in zip(asking, answers, strict=True):
        if isinstance(answer, gate.Permit):
            granted.append((reminder, message, answer))
        elif isinstance(answer, gate.Decision):
            reason = answer.reasons[0] if answer.reasons else "blocked"
            if answer.next_allowed_at is not None:
                released.append((reminder.pk, answer.next_allowed_at, reason))
            else:
                holds = [r for r in answer.reasons if r in HOLD_REASONS] or [reason]
                closed.append((reminder.pk, holds[0], ""))
        else:
            services.reminder_fail(reminder_id=reminder.pk, reason="gate_error", error=str(answer))
            done[reminder.pk] = "failed"

    # The permits' attempts are linked and committed before any provider is called: after a
    # crash, each row says exactly which permit (and so which possible message) it stands for.
    linked = services.reminders_settle(
        released=released,
        closed=closed,
        attempts=[(reminder.pk, permit.attempt_id) for reminder, _m, permit in granted],
    )
    # A row recovered or claimed again meanwhile is no longer this worker's: its permit is
    # voided and its attempt recorded failed, so nothing is sent for it twice.
    for reminder, _message, permit in granted:
        if reminder.pk not in linked:
            _void_permit(permit.attempt_id, reminder.actor)
            done[reminder.pk] = "skipped"
    granted = [item for item in granted if item[0].pk in linked]
    done.update(dict.fromkeys((rid for rid, _nb, _reason in released), "waiting"))
    done.update(dict.fromkeys((rid for rid, _reason, _error in closed), "closed"))

    # One hand-over per backend: SMS may go to different providers by the number's prefix.
    by_backend: dict[tuple[str, type], list] = {}
    for item in granted:
        reminder, message, permit = item
        try:
            backend = get_backend(reminder.channel, to=message.to)
        except PermanentError as exc:
            done[reminder.pk] = _settle_failure(reminder, message, permit, exc, None, at)
            continue
        by_backend.setdefault((reminder.channel, type(backend)), []).append(item)
    for (channel, backend_class), items in by_backend.items():
        backend = backend_class()
        results = backend.send_many(
            [(permit.token, _outbound(reminder, message)) for reminder, message, permit in items]
        )
        sent = [
            (reminder.pk, permit.attempt_id, result.provider_ref)
            for (reminder, _message, permit), result in zip(items, results, strict=True)
            if isinstance(result, DeliveryResult)
        ]
        # What the provider took is recorded first, in one transaction, with its words.
        services.reminders_mark_sent(
            sent=sent,
            words=[
                services.Words(
                    debtor_id=reminder.debtor_id,
                    attempt_id=permit.attempt_id,
                    channel=channel,
                    subject=message.subject,
                    body=message.body,
                    to=message.to,
                    provider=backend.provider,
                    provider_ref=result.provider_ref,
                    idempotency_key=reminder.idempotency_key,
                )
                for (reminder, message, permit), result in zip(items, results, strict=True)
                if isinstance(result, DeliveryResult)
            ],
        )
        done.update(dict.fromkeys((rid for rid, _a, _ref in sent), "sent"))
        for (reminder, message, permit), result in zip(items, results, strict=True):
            if not isinstance(result, DeliveryResult):
                done[reminder.pk] = _settle_failure(reminder, message, permit, result, backend, at)


def _void_permit(attempt_id: int, actor: str) -> None:
    if gate.permit_revoke(attempt_id=attempt_id):
        attempt = ContactAttempt.objects.select_related("debtor").get(pk=attempt_id)
        services._record(attempt, Outcome.FAILED, attempt.occurred_at, actor)


def _settle_failure(reminder, message, permit, exc, backend, at: dt.datetime) -> str:
    """``_after_send_error``, and if recording that fails too, the unexpected-error path."""
    try:
        return _after_send_error(reminder, message, permit, exc, backend, at)
    except Exception as error:  # noqa: BLE001 - recorded below, never lost in a log
        logger.exception("reminder %s: could not record a failed send", reminder.pk)
        return _after_error(reminder.pk, f"{type(error).__name__}: {error}")


def _before_gate(
    reminder: Reminder,
    points: list[ContactPoint],
    at: dt.datetime,
    calls: dict,
    links_issued: dt.datetime,
) -> tuple:
    """What one reminder needs before the gate: ``("release", not_before, reason)``,
    ``("close", reason, error)``, ``("ask", message, gate_request)``, or ``("done", outcome)``
    when it was settled here (a failure, a call task). ``calls``: the gate's dry-run answers
    for the batch's call tasks, by (debtor id, loan id); ``links_issued``: the issue instant
    of the batch's self-service links."""
    rid = reminder.pk
    debtor = reminder.debtor
    try:
        zones = candidate_zones(debtor, points)
    except ValidationError as exc:
        services.reminder_fail(reminder_id=rid, reason="no_timezone", error=" ".join(exc.messages))
        return ("done", "failed")
    day_start = _local_day_start(reminder.scheduled_for, zones)
    if at < day_start:
        return ("release", day_start, "before_local_day")
    if at >= day_start + expiry():
        return ("close", "expired", "")
    gap = _next_stage_gap(reminder.stage)
    if gap is not None and at >= day_start + dt.timedelta(days=gap):
        # The next stage's day has begun: this message is out of date.
        return ("close", "superseded", "")
    paid = _paid_reason(reminder)
    if paid:
        return ("close", paid, "")

    if reminder.channel == StageChannel.CALL_TASK:
        decision = calls[reminder.debtor_id, reminder.loan_id]
        if isinstance(decision, Exception):
            error = " ".join(getattr(decision, "messages", [str(decision)]))
            services.reminder_fail(reminder_id=rid, reason="gate_error", error=error)
            return ("done", "failed")
        holds = [r for r in decision.reasons if r in HOLD_REASONS]
        if not decision.allowed and holds and decision.next_allowed_at is None:
            return ("close", holds[0], "")
        local_day = at.astimezone(_zone(zones[0])).date()
        if not queue_call(debtor_id=debtor.pk, day=local_day):
            # No open case, so no collector's queue to put it in: say so, not "queued".
            return ("close", "no_open_case", "")
        services.reminder_queue_call(reminder_id=rid)
        return ("done", "queued")

    try:
        message = compose(
            reminder,
            points,
            on=at.astimezone(_zone(zones[0])).date(),
            links_issued=links_issued,
        )
    except ComposeError as exc:
        if exc.code == "no_contact_point":
            return ("close", exc.code, str(exc))
        services.reminder_fail(reminder_id=rid, reason=exc.code, error=str(exc))
        return ("done", "failed")
    try:
        wanted = gate.GateRequest.of(
            debtor=debtor,
            channel=reminder.channel,
            actor=reminder.actor,
            loan=reminder.loan,
            contact_point=message.contact_point,
        )
    except gate.GateInputError as exc:
        services.reminder_fail(reminder_id=rid, reason="gate_error", error=str(exc))
        return ("done", "failed")
    return ("ask", message, wanted)


def _outbound(reminder: Reminder, message: messages.Composed) -> OutboundMessage:
    return OutboundMessage(
        debtor_id=reminder.debtor_id,
        to=message.to,
        body=message.body,
        subject=message.subject,
        metadata=message.metadata,
    )


def _after_send_error(reminder, message, permit, exc, backend, at: dt.datetime) -> str:
    """Record a message the backend did not take (or may have taken); return the outcome."""
    rid = reminder.pk
    attempt = ContactAttempt(
        pk=permit.attempt_id,
        debtor=reminder.debtor,
        loan=reminder.loan,
        contact_point=message.contact_point,
        channel=reminder.channel,
        direction="outbound",
        outcome=Outcome.PENDING,
        occurred_at=at,
    )
    if isinstance(exc, gate.InvalidPermit):
        services.reminder_fail(
            reminder_id=rid, reason="permit", error=str(exc), attempt=attempt, occurred_at=at
        )
        return "failed"
    if isinstance(exc, TransientError):
        return _retry(reminder, attempt, at, str(exc))
    if isinstance(exc, PermanentError):
        services.reminder_fail(
            reminder_id=rid, reason="provider", error=str(exc), attempt=attempt, occurred_at=at
        )
        return "failed"
    if isinstance(exc, OutcomeUnknown):
        return _settle_uncertain(reminder, message, attempt, backend, at, str(exc))
    # Anything else happened while the message was being handed over: it may have left.
    logger.error("reminder %s: unexpected error while sending: %r", rid, exc)
    services.reminder_mark_unknown(reminder_id=rid, error=f"{type(exc).__name__}: {exc}")
    return "unknown"


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


def _settle_uncertain(
    reminder: Reminder, message, attempt, backend, at: dt.datetime, error: str
) -> str:
    found = backend.lookup(
        reminder.idempotency_key,
        to=message.to,
        since=at - dt.timedelta(minutes=5),
        body=message.body,
    )
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
    # The gate granted a permit but the worker died before linking it: found by its actor,
    # loan and channel (one batch may hold several reminders of the same debtor).
    return (
        ContactAttempt.objects.select_related("debtor")
        .filter(
            debtor_id=reminder.debtor_id,
            loan_id=reminder.loan_id,
            channel=reminder.channel,
            actor_label=reminder.actor,
            outcome=Outcome.PENDING,
        )
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
    # An unspent permit is voided first: once it can never be spent, nothing was sent with
    # it. A worker still holding it (merely slow) is refused by the gate and sends nothing.
    if (
        permit is not None
        and permit.redeemed_at is None
        and gate.permit_revoke(attempt_id=attempt.pk)
    ):
        with transaction.atomic():
            services.reminder_release(reminder_id=reminder_id, not_before=now, reason="recovered")
            Reminder.objects.filter(pk=reminder_id).update(contact_attempt=None)
            services._record(attempt, Outcome.FAILED, attempt.occurred_at, reminder.actor)
        return "recovered"
    to = attempt.contact_point.value if attempt.contact_point_id else ""
    backend = get_backend(reminder.channel, to=to)
    found = backend.lookup(
        reminder.idempotency_key, to=to, since=attempt.created_at - dt.timedelta(minutes=5)
    )
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
        counts.update(process_batch(ids, now=now).values())
        if time.monotonic() - started > budget:
            break
    run.counts = dict(counts)
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return dict(counts)
