"""Writes on reminders: the transitions of the outbox status machine.

Each transition is a conditional UPDATE on the row's current status (``sending`` for the
dispatcher's outcomes), so a second worker that somehow holds the same id changes nothing:
the row count says who won. Outcomes on the contact attempt are recorded in the same
transaction as the reminder's new status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from compliance.models import ContactAttempt, Outcome
from compliance.services import contact_attempt_record, permit_attempts_complete
from debtors.models import Loan
from debtors.sql import literal
from messaging.models import SentMessage
from reminders.models import Reminder, ReminderStatus


@contextmanager
def relaxed_commit():
    """A transaction whose commit does not wait for the disk (PostgreSQL: ``synchronous_commit``
    off for this transaction only).

    Safe for the outbox's own bookkeeping. PostgreSQL writes its log in order, so the gate's
    next commit, which does wait, makes every earlier one durable too; and a bookkeeping commit
    lost in a database crash leaves a row that recovery resolves like a worker's crash (a claim
    undone before anything was asked; an attempt found by its actor; a send confirmed by the
    provider's status query). The gate's decisions and permits keep their synchronous commits.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _finish(reminder_id: int, *, from_status: str = ReminderStatus.SENDING, **fields) -> bool:
    with relaxed_commit():
        return bool(
            Reminder.objects.filter(pk=reminder_id, status=from_status).update(
                finished_at=timezone.now(), **fields
            )
        )


def reminder_release(
    *, reminder_id: int, not_before: dt.datetime, reason: str, error: str = ""
) -> bool:
    """Back to ``planned``, due again at ``not_before`` (a time window, a retry)."""
    with relaxed_commit():
        return _release(reminder_id, not_before=not_before, reason=reason, error=error)


def _release(reminder_id: int, *, not_before, reason: str, error: str) -> bool:
    return bool(
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING).update(
            status=ReminderStatus.PLANNED,
            not_before=not_before,
            reason=reason,
            last_error=error,
            claimed_at=None,
        )
    )


def reminder_queue_call(*, reminder_id: int) -> bool:
    return _finish(reminder_id, status=ReminderStatus.QUEUED, reason="")


def _record(attempt: ContactAttempt | None, outcome: str, occurred_at: dt.datetime, actor: str):
    if attempt is None:
        return
    current = ContactAttempt.objects.filter(pk=attempt.pk).values_list("outcome", flat=True).first()
    if current != Outcome.PENDING:
        return
    contact_attempt_record(
        actor=actor,
        debtor=attempt.debtor,
        channel=attempt.channel,
        direction="outbound",
        outcome=outcome,
        occurred_at=occurred_at,
        attempt=attempt,
    )


@transaction.atomic
def reminder_fail(
    *,
    reminder_id: int,
    reason: str,
    error: str,
    attempt: ContactAttempt | None = None,
    occurred_at: dt.datetime | None = None,
) -> bool:
    """Failed for good: visible to supervisors with its error."""
    done = _finish(
        reminder_id, status=ReminderStatus.FAILED, reason=reason, last_error=error[:2000]
    )
    if done:
        _record(attempt, Outcome.FAILED, occurred_at or timezone.now(), f"reminder #{reminder_id}")
    return done


@transaction.atomic
def reminder_retry(
    *,
    reminder_id: int,
    not_before: dt.datetime,
    error: str,
    attempt: ContactAttempt | None = None,
    occurred_at: dt.datetime | None = None,
) -> bool:
    """A temporary error: the attempt failed; the reminder is due again at ``not_before``."""
    done = reminder_release(
        reminder_id=reminder_id, not_before=not_before, reason="retry", error=error[:2000]
    )
    if done:
        Reminder.objects.filter(pk=reminder_id).update(contact_attempt=None)
        _record(attempt, Outcome.FAILED, occurred_at or timezone.now(), f"reminder #{reminder_id}")
    return done


def reminder_mark_sent(
    *,
    reminder_id: int,
    attempt: ContactAttempt,
    provider_ref: str,
    occurred_at: dt.datetime,
    outcome: str = Outcome.SENT,
    from_status: str = ReminderStatus.SENDING,
) -> bool:
    with relaxed_commit():
        done = _finish(
            reminder_id,
            from_status=from_status,
            status=ReminderStatus.SENT,
            provider_ref=provider_ref[:200],
            reason="",
            last_error="",
            contact_attempt=attempt,
        )
        if done:
            _record(attempt, outcome, occurred_at, f"reminder #{reminder_id}")
    return done


def reminder_mark_unknown(*, reminder_id: int, error: str) -> bool:
    """The provider may or may not have it: never re-sent blindly, shown to supervisors."""
    return _finish(
        reminder_id, status=ReminderStatus.UNKNOWN, reason="outcome_unknown", last_error=error
    )


@transaction.atomic
# --- A dispatcher's batch -----------------------------------------------------------------
# The same transitions as above for many rows at once: one statement each on PostgreSQL
# (a row per reminder, unnested from arrays), a conditional UPDATE per row elsewhere. Each is
# still conditional on the row being ``sending``.


# --- The batch statements of the dispatcher ----------------------------------------------------
# Hand-written for the ``reminders`` benchmark (dispatching over 1,000 reminders a second): a
# batch of a hundred reminders settles in one UPDATE per kind of outcome, with every value an
# array parameter, instead of a hundred. Each changes only rows still ``sending``, as the
# single-row transitions above do. The tests compare each with the same change made through
# the ORM, row by row (``tests/reminders/test_statements.py``).


def release_many_sql() -> str:
    """RELEASE_MANY: reminders ``(id, not_before, reason)`` back to ``planned``."""
    return f"""UPDATE {Reminder._meta.db_table} AS r
           SET status = {literal(ReminderStatus.PLANNED)}, not_before = v.not_before,
               reason = v.reason, last_error = '', claimed_at = NULL
          FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) AS v(id, not_before, reason)
         WHERE r.id = v.id AND r.status = {literal(ReminderStatus.SENDING)}"""  # noqa: S608


def close_many_sql() -> str:
    """CLOSE_MANY: reminders ``(id, reason, error)`` closed unsent, at ``%s``."""
    return f"""UPDATE {Reminder._meta.db_table} AS r
           SET status = {literal(ReminderStatus.CLOSED)}, reason = v.reason,
               last_error = v.error, finished_at = %s
          FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, reason, error)
         WHERE r.id = v.id AND r.status = {literal(ReminderStatus.SENDING)}"""  # noqa: S608


def link_attempts_sql() -> str:
    """LINK_ATTEMPTS: each reminder ``(id, attempt_id)`` takes its permit's attempt (one more
    try); returns the ids that took it."""
    return f"""UPDATE {Reminder._meta.db_table} AS r
           SET contact_attempt_id = v.attempt_id, tries = r.tries + 1
          FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, attempt_id)
         WHERE r.id = v.id AND r.status = {literal(ReminderStatus.SENDING)}
     RETURNING r.id"""  # noqa: S608


def mark_sent_sql() -> str:
    """MARK_SENT: reminders ``(id, attempt_id, provider_ref)`` sent, at ``%s``; returns their
    attempts' ids."""
    return f"""UPDATE {Reminder._meta.db_table} AS r
           SET status = {literal(ReminderStatus.SENT)}, provider_ref = v.ref, reason = '',
               last_error = '', contact_attempt_id = v.attempt_id, finished_at = %s
          FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS v(id, attempt_id, ref)
         WHERE r.id = v.id AND r.status = {literal(ReminderStatus.SENDING)}
     RETURNING r.contact_attempt_id"""  # noqa: S608


def reminders_settle(
    *,
    released: list[tuple[int, dt.datetime, str]] = (),
    closed: list[tuple[int, str, str]] = (),
    attempts: list[tuple[int, int]] = (),
) -> set[int]:
    """In one transaction: reminders due again later ``(id, not_before, reason)``, reminders
    closed unsent ``(id, reason, error)``, and the permits' attempts linked to their
    reminders ``(id, attempt_id)`` before any provider is called.

    Returns the ids of the reminders whose attempt was linked: only a row still ``sending``
    takes it (one recovered or claimed again meanwhile does not, and must not be sent)."""
    linked: set[int] = set()
    if not (released or closed or attempts):
        return linked
    now = timezone.now()
    with relaxed_commit(), connection.cursor() as cursor:
        if released:
            ids, not_before, reasons = zip(*released, strict=True)
            cursor.execute(release_many_sql(), [list(ids), list(not_before), list(reasons)])
        if closed:
            ids, reasons, errors = zip(*closed, strict=True)
            cursor.execute(close_many_sql(), [now, list(ids), list(reasons), list(errors)])
        if attempts:
            ids, attempt_ids = zip(*attempts, strict=True)
            cursor.execute(link_attempts_sql(), [list(ids), list(attempt_ids)])
            linked.update(row[0] for row in cursor.fetchall())
    return linked


@dataclass(frozen=True)
class Words:
    """What a sent message said, to whom and through which provider (kept as ``SentMessage``)."""

    debtor_id: int
    attempt_id: int
    channel: str
    subject: str
    body: str
    to: str = ""
    provider: str = ""
    provider_ref: str = ""
    idempotency_key: str = ""


def reminders_mark_sent(*, sent: list[tuple[int, int, str]], words: Sequence[Words] = ()) -> int:
    """Sends a provider took, ``(id, attempt_id, provider_ref)``: each reminder ``sent`` and its
    permit's attempt completed, in one transaction, with what each message said (``words``).
    Returns how many reminders changed."""
    if not sent:
        return 0
    now = timezone.now()
    with relaxed_commit():
        ids, attempt_ids, refs = zip(*sent, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                mark_sent_sql(), [now, list(ids), list(attempt_ids), [ref[:200] for ref in refs]]
            )
            done = [row[0] for row in cursor.fetchall()]
        permit_attempts_complete(attempt_ids=done, outcome=Outcome.SENT, now=now)
        completed = set(done)
        SentMessage.objects.bulk_create(
            [
                SentMessage(
                    debtor_id=w.debtor_id,
                    attempt_id=w.attempt_id,
                    channel=w.channel,
                    subject=w.subject[:200],
                    body=w.body,
                    to=w.to[:320],
                    provider=w.provider,
                    provider_ref=w.provider_ref[:200],
                    idempotency_key=w.idempotency_key[:64],
                    created_at=now,
                )
                for w in words
                if w.attempt_id in completed
            ],
            ignore_conflicts=True,
        )
    return len(done)


# The reason a reminder closed by a payment shows (the dispatcher uses the same code).
PAID_REASON = "paid"


def reminders_cancel_paid(*, loan_id: int, now: dt.datetime | None = None) -> int:
    """Close the planned reminders of a loan whose installment (or the whole loan) is paid.

    A conditional UPDATE on ``planned``: a reminder a dispatcher is already sending is left to
    the dispatcher, which checks the same facts before it sends.
    """
    loan = Loan.objects.only("status").get(pk=loan_id)
    pending = Reminder.objects.filter(loan_id=loan_id, status=ReminderStatus.PLANNED)
    if not loan.is_closed:
        pending = pending.filter(
            Q(installment__amount_paid__gte=F("installment__amount_due"))
            | Q(plan_installment__amount_paid__gte=F("plan_installment__amount_due"))
        )
    return pending.update(
        status=ReminderStatus.CLOSED, reason=PAID_REASON, finished_at=now or timezone.now()
    )


CASE_CLOSED_REASON = "case_closed"


def reminders_cancel_closed(
    *, debtor_id: int, paid: bool = False, now: dt.datetime | None = None
) -> int:
    """Close every planned reminder of a debtor whose case closed (the planner plans none for
    a closed case), with the reason ``paid`` when it closed paid. As for a payment, one a
    dispatcher is already sending is left to it."""
    return Reminder.objects.filter(debtor_id=debtor_id, status=ReminderStatus.PLANNED).update(
        status=ReminderStatus.CLOSED,
        reason=PAID_REASON if paid else CASE_CLOSED_REASON,
        finished_at=now or timezone.now(),
    )
