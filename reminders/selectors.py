"""Reads about reminders: the supervisor's view of a day's run."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.reasons import reason_label
from debtors import dates
from messaging.models import SentMessage
from reminders.models import Reminder, ReminderRun, ReminderStage, ReminderStatus

# Reasons of the reminders' own (the gate's codes are labelled by compliance.reasons).
REMINDER_REASONS = {
    "paid": _("Paid"),
    "loan_closed": _("Loan closed"),
    "case_closed": _("Case closed"),
    "plan_kept": _("Plan kept"),
    "plan_closed": _("Plan closed"),
    "expired": _("Too late to send"),
    "superseded": _("The next stage has begun"),
    "no_contact_point": _("No usable contact point"),
    "no_open_case": _("No open case for a collector's call"),
    "no_timezone": _("No time zone known"),
    "template_missing": _("Template missing"),
    "template_error": _("Template error"),
    "gate_error": _("Gate refused the request"),
    "permit": _("Permit could not be used"),
    "provider": _("Provider error"),
    "retry": _("Retrying after a temporary error"),
    "before_local_day": _("Waiting for the debtor's day to begin"),
    "recovered": _("Recovered after a worker stopped"),
    "outcome_unknown": _("Outcome unknown"),
    "error": _("Unexpected error"),
}

COLUMNS = ("planned", "waiting", "sending", "sent", "queued", "closed", "failed", "unknown")


def reason_text(code: str) -> str:
    if code in REMINDER_REASONS:
        return str(REMINDER_REASONS[code])
    return reason_label(code)


@dataclass
class StageRow:
    stage: ReminderStage
    channel: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def cells(self) -> list[int]:
        return [self.counts[c] for c in COLUMNS]


@dataclass
class RunSummary:
    day: dt.date
    rows: list[StageRow]
    totals: dict[str, int]
    blocked: list[tuple[str, str, int]]  # (code, label, count)
    problems: QuerySet
    runs: QuerySet
    # The sent reminders by channel and the provider's last delivery report ("" while none).
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)


def reminders_for_day(day: dt.date) -> QuerySet[Reminder]:
    return Reminder.objects.filter(scheduled_for=day)


def run_summary(*, day: dt.date, now: dt.datetime | None = None) -> RunSummary:
    """Counts of the day's reminders by stage, channel and state; failures with their errors."""
    now = now or timezone.now()
    grouped = (
        reminders_for_day(day)
        .values("stage_id", "channel", "status", "reason")
        .annotate(
            n=Count("id"),
            waiting=Count("id", filter=Q(status=ReminderStatus.PLANNED, not_before__gt=now)),
        )
        .order_by()
    )
    stages = {s.pk: s for s in ReminderStage.objects.select_related("strategy")}
    rows: dict[tuple[int, str], StageRow] = {}
    totals = dict.fromkeys(COLUMNS, 0)
    blocked: dict[str, int] = defaultdict(int)
    for g in grouped:
        key = (g["stage_id"], g["channel"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = StageRow(stage=stages[g["stage_id"]], channel=g["channel"])
        status = g["status"]
        if status == ReminderStatus.PLANNED:
            row.counts["waiting"] += g["waiting"]
            row.counts["planned"] += g["n"] - g["waiting"]
            totals["waiting"] += g["waiting"]
            totals["planned"] += g["n"] - g["waiting"]
        else:
            row.counts[status] += g["n"]
            totals[status] += g["n"]
        if status == ReminderStatus.CLOSED:
            blocked[g["reason"]] += g["n"]
    ordered = sorted(
        rows.values(), key=lambda r: (r.stage.strategy.name, r.stage.offset_days, r.channel)
    )
    problems = (
        Reminder.objects.filter(
            Q(scheduled_for=day, status=ReminderStatus.FAILED) | Q(status=ReminderStatus.UNKNOWN)
        )
        .select_related("debtor", "loan", "stage")
        .order_by("-finished_at", "-id")[:100]
    )
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    runs = ReminderRun.objects.filter(
        started_at__gte=start, started_at__lt=dates.day_end(day, dt.UTC)
    ).order_by("-started_at")[:20]
    return RunSummary(
        day=day,
        rows=ordered,
        totals=totals,
        blocked=sorted(
            ((code, reason_text(code), n) for code, n in blocked.items()), key=lambda b: -b[2]
        ),
        problems=problems,
        runs=runs,
        deliveries=list(
            SentMessage.objects.filter(
                attempt_id__in=reminders_for_day(day)
                .filter(status=ReminderStatus.SENT)
                .values("contact_attempt_id")
            )
            .values_list("channel", "delivery_status")
            .annotate(n=Count("id"))
            .order_by("channel", "delivery_status")
        ),
    )
