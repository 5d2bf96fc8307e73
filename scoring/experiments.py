"""Champion/challenger experiments: who enters, which arm, what the arm changes, and promotion.

* A supervisor defines the population (the conditions of an assignment rule), the arms (a
  reminder strategy, or none for a hold-out, a queue weight and a share of the entrants), the
  primary metric and the dates. ``experiment_start`` refuses arms that do not add up or that
  the contact policies would block (a strategy scheduling more contacts in a window than a
  policy's limit allows); the gate still judges every contact of every arm.
* ``experiments_enrol`` (beat, hourly, and at the start) records each matching open case's arm
  when it enters: by a stable hash of the experiment and the case (md5, the same in Python and
  SQL), against the arms' cumulative shares. The assignment is kept, never recomputed: a case
  stays in its arm even when the shares change later.
* An arm works its cases through the same levers as the score bands (``scoring.services``):
  its strategy's risk band for the loans' reminders (``Loan.scored_band``; a hold-out gets
  none, so no reminder is planned) and its queue weight on top of the band's.
* ``arm_promote`` makes a challenger the champion for new entrants (it takes the champion's
  share); the history of the arms records who did it.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.assignment import rule_condition
from cases.models import Case
from compliance.models import ContactPolicy
from debtors.audit import acting_as
from debtors.dates import check_range, days_later, years_later
from reminders.models import Reminder, ReminderStatus
from scoring.levers import levers_apply, strategy_band
from scoring.models import Arm, ArmAssignment, Experiment

# The contact a stage leads to: a message on its channel, or, for a call task, the
# collector's call.
STAGE_CONTACT = {"call_task": "call"}
BUCKETS = 100


def arm_bucket(experiment_id: int, case_id: int) -> int:
    """The case's place (0-99) in the experiment: stable, and the same as ``_BUCKET_SQL``."""
    digest = hashlib.md5(f"{experiment_id}:{case_id}".encode(), usedforsecurity=False)
    return int(digest.hexdigest()[:7], 16) % BUCKETS


# 28 bits of md5 as a number: positive, and what ``arm_bucket`` computes.
_BUCKET_SQL = (
    f"(('x' || substr(md5(%s::text || ':' || c.id::text), 1, 7))::bit(28)::int %% {BUCKETS})"
)


def experiment_dates(starts_on: dt.date, planned_end_on: dt.date, *, today: dt.date) -> None:
    """An experiment starts within a year of today and runs at most two years."""
    check_range(
        starts_on,
        field="starts_on",
        earliest=today - dt.timedelta(days=366),
        latest=years_later(today, 1),
    )
    check_range(
        planned_end_on,
        field="planned_end_on",
        earliest=days_later(starts_on, 1),
        latest=years_later(starts_on, 2),
    )


def arm_for_bucket(arms: list[Arm], bucket: int) -> Arm:
    total = 0
    for arm in arms:
        total += arm.share
        if bucket < total:
            return arm
    return arms[-1]


def arm_problems(experiment: Experiment, arms: list[Arm]) -> list[str]:
    """Why the experiment cannot start with these arms (empty when it can)."""
    problems = []
    if not arms:
        return [_("An experiment needs arms.")]
    if sum(arm.share for arm in arms) != BUCKETS:
        problems.append(_("The arms' shares must add up to 100%."))
    if [arm.kind for arm in arms].count(Arm.Kind.CHAMPION) != 1:
        problems.append(_("An experiment has exactly one champion."))
    if [arm.kind for arm in arms].count(Arm.Kind.HOLDOUT) > 1:
        problems.append(_("An experiment has at most one hold-out."))
    if experiment.planned_end_on <= experiment.starts_on:
        problems.append(_("The planned end must come after the start."))
    for arm in arms:
        if arm.share < 1:
            problems.append(_("Arm %(arm)s has no share.") % {"arm": arm.name})
        if arm.kind == Arm.Kind.HOLDOUT:
            if arm.strategy_id:
                problems.append(
                    _("The hold-out %(arm)s receives no reminders: it has no strategy.")
                    % {"arm": arm.name}
                )
            continue
        if not arm.strategy_id or not arm.strategy.is_active:
            problems.append(_("Arm %(arm)s needs an active reminder strategy.") % {"arm": arm.name})
        elif strategy_band(arm.strategy) is None:
            problems.append(
                _("Arm %(arm)s: strategy %(s)s claims no risk band, so no loan can follow it.")
                % {"arm": arm.name, "s": arm.strategy.name}
            )
        else:
            problems += _policy_problems(experiment, arm)
    return problems


def _policies(experiment: Experiment):
    policies = ContactPolicy.objects.filter(is_active=True)
    if experiment.countries:
        policies = policies.filter(country__in=experiment.countries)
    return list(policies)


def _policy_problems(experiment: Experiment, arm: Arm) -> list[str]:
    """The limits a strategy's schedule alone would break: more of its stages on the counted
    channels within a limit's days than the limit allows."""
    stages = [
        (stage.offset_days, STAGE_CONTACT.get(stage.channel, stage.channel))
        for stage in arm.strategy.stages.filter(is_active=True)
    ]
    problems = []
    for policy in _policies(experiment):
        for channel, rules in (policy.rules or {}).items():
            for limit in rules.get("limits", []) if isinstance(rules, dict) else []:
                days = limit.get("days")
                if not days or limit.get("count") not in ("attempts", "unanswered"):
                    continue
                counted = set(limit.get("channels") or [channel])
                offsets = sorted(offset for offset, contact in stages if contact in counted)
                most = max(
                    (sum(1 for o in offsets if start <= o < start + days) for start in offsets),
                    default=0,
                )
                if most > int(limit.get("max", 0)):
                    problems.append(
                        _(
                            "Arm %(arm)s: strategy %(s)s schedules %(n)s %(channel)s contacts "
                            "within %(days)s days; policy %(policy)s allows %(max)s."
                        )
                        % {
                            "arm": arm.name,
                            "s": arm.strategy.name,
                            "n": most,
                            "channel": channel,
                            "days": days,
                            "policy": policy.name,
                            "max": limit.get("max"),
                        }
                    )
    return problems


@transaction.atomic
def experiment_create(*, actor, arms: list[dict], **fields) -> Experiment:
    """A draft experiment with its arms (each: name, kind, strategy, queue_weight, share);
    nothing happens to any case until it starts."""
    experiment = Experiment(**fields)
    experiment.full_clean()
    with acting_as(actor):
        experiment.save()
        for spec in arms:
            arm = Arm(experiment=experiment, **spec)
            arm.full_clean()
            arm.save()
    return experiment


@transaction.atomic
def experiment_start(*, experiment: Experiment, actor, now: dt.datetime | None = None) -> int:
    """Start the experiment (after checking its arms) and enrol the cases that match now;
    returns how many entered."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.DRAFT:
        raise ValidationError(_("Only a draft experiment can start."))
    problems = arm_problems(experiment, list(experiment.arms.select_related("strategy")))
    if problems:
        raise ValidationError(problems)
    with acting_as(actor):
        experiment.status = Experiment.Status.RUNNING
        experiment.started_at = now or timezone.now()
        experiment.save(update_fields=["status", "started_at"])
    return experiments_enrol(now=now)


@transaction.atomic
def experiment_stop(*, experiment: Experiment, actor, now: dt.datetime | None = None) -> None:
    """Stop it: no one enters any more and its cases go back to the score's bands."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Experiment.Status.RUNNING:
        raise ValidationError(_("Only a running experiment can stop."))
    with acting_as(actor):
        experiment.status = Experiment.Status.STOPPED
        experiment.stopped_at = now or timezone.now()
        experiment.save(update_fields=["status", "stopped_at"])
    work_levers_apply()


@transaction.atomic
def arm_promote(*, arm: Arm, actor) -> Arm:
    """The challenger becomes the champion for new entrants: it takes the champion's share
    (the former champion takes its own) and kind."""
    arm = Arm.objects.select_for_update().select_related("experiment").get(pk=arm.pk)
    if arm.kind != Arm.Kind.CHALLENGER:
        raise ValidationError(_("Only a challenger can be promoted."))
    if arm.experiment.status == Experiment.Status.STOPPED:
        raise ValidationError(_("The experiment is stopped."))
    champion = Arm.objects.select_for_update().get(
        experiment=arm.experiment, kind=Arm.Kind.CHAMPION
    )
    with acting_as(actor):
        champion.kind, arm.kind = Arm.Kind.CHALLENGER, Arm.Kind.CHAMPION
        champion.share, arm.share = arm.share, champion.share
        champion.save(update_fields=["kind", "share"])
        arm.save(update_fields=["kind", "share"])
    return arm


def running(today: dt.date):
    return Experiment.objects.filter(
        status=Experiment.Status.RUNNING, starts_on__lte=today, planned_end_on__gte=today
    )


@transaction.atomic
def experiments_enrol(*, now: dt.datetime | None = None) -> int:
    """Record the arm of every open case that matches a running experiment and has not
    entered one yet (a case is in one running experiment at a time); returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    entered = 0
    for experiment in running(today).order_by("id"):
        arms = list(experiment.arms.order_by("id"))
        if not arms:
            continue
        in_any = ArmAssignment.objects.filter(experiment__status=Experiment.Status.RUNNING).values(
            "case_id"
        )
        candidates = (
            Case.objects.exclude(status=Case.Status.CLOSED)
            .filter(rule_condition(experiment))
            .exclude(pk__in=in_any)
        )
        sql, params = candidates.values("id").query.sql_with_params()
        whens, bounds, total = [], [], 0
        for arm in arms:
            total += arm.share
            whens.append(f"WHEN {_BUCKET_SQL} < %s THEN %s")
            bounds += [experiment.pk, total, arm.pk]
        table = ArmAssignment._meta.db_table
        case_table = Case._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (experiment_id, arm_id, case_id, entered_at, "  # noqa: S608 - names from the models
                "outstanding_at_entry, days_past_due_at_entry) "
                f"SELECT %s, CASE {' '.join(whens)} ELSE %s END, c.id, %s, "
                f"c.total_outstanding, c.max_days_past_due FROM {case_table} c "
                f"WHERE c.id IN ({sql}) ON CONFLICT DO NOTHING",
                [experiment.pk, *bounds, arms[-1].pk, now, *params],
            )
            entered += cursor.rowcount
    if entered:
        work_levers_apply()
    return entered


def work_levers_apply() -> dict[str, int]:
    """Hand the scores' and the experiments' levers to the work (``scoring.levers``), and
    close the reminders already planned for loans that entered a hold-out."""
    counts = levers_apply()
    holdout = ArmAssignment.objects.filter(
        experiment__status=Experiment.Status.RUNNING, arm__kind=Arm.Kind.HOLDOUT
    ).values("case__debtor_id")
    counts["closed"] = Reminder.objects.filter(
        debtor_id__in=holdout, status=ReminderStatus.PLANNED
    ).update(status=ReminderStatus.CLOSED, reason="experiment_holdout")
    return counts
