"""The supervisors' dashboards: the tiles of figures (``figures``), each chart and the table
behind it (its CSV download)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from debtors.models import Loan
from reminders.defaults import shipped_name
from reminders.models import Reminder, ReminderStatus, ReminderStrategy
from workspace.selectors import figures
from workspace.selectors.labels import choice_label

# --- Dashboards -----------------------------------------------------------------------------


@dataclass
class Panel:
    """One small chart of a dashboard card (a card shows one per currency where it shows
    money: amounts of different currencies never share an axis)."""

    title: str
    datasets: list[dict]


@dataclass
class Chart:
    """One dashboard card: its panels and the table behind them (the CSV download is the same
    table)."""

    key: str
    title: str
    kind: str  # line or bar
    labels: list[str]
    panels: list[Panel]
    header: list[str]
    rows: list[list]
    summary: str = ""
    stacked: bool = False
    percent: bool = False
    # Counts of whole things: the axis steps by whole numbers.
    whole: bool = False

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "panels": [{"title": p.title, "datasets": p.datasets} for p in self.panels],
            "stacked": self.stacked,
            "percent": self.percent,
            "whole": self.whole,
        }


def single(datasets: list[dict]) -> list[Panel]:
    return [Panel(title="", datasets=datasets)]


@dataclass(frozen=True)
class Scope:
    """The dashboards' period and whose work: ``collector_ids`` (one collector, or a team's;
    ``None``: everyone) and a strategy's loans."""

    start: dt.date
    end: dt.date
    collector_ids: tuple[int, ...] | None = None
    strategy_id: int | None = None

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def period(self) -> figures.Period:
        return figures.Period("period", self.start, self.end)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return self.period().bounds()

    def figures_scope(self) -> figures.Scope:
        """The same scope for the figures: the collectors, and the strategy's loans."""
        loans = Loan.objects.filter(_strategy_condition(self)) if self.strategy_id else None
        return figures.Scope(collector_ids=self.collector_ids, loans=loans)


def _ratio(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _strategy_condition(scope: Scope, prefix: str = "") -> Q:
    """Loans of the strategy's risk bands (the default strategy's: also those no other active
    strategy claims)."""
    if not scope.strategy_id:
        return Q()
    strategy = ReminderStrategy.objects.filter(pk=scope.strategy_id).first()
    bands = list(strategy.risk_bands or []) if strategy else []
    if strategy is not None and strategy.is_default:
        claimed = set()
        for other in ReminderStrategy.objects.filter(is_active=True).exclude(pk=strategy.pk):
            claimed.update(other.risk_bands or [])
        bands = sorted(set(bands) | (set(Loan.RiskBand.values) - claimed))
    return Q(**{f"{prefix}risk_band__in": bands})


def _loan_scope(scope: Scope, prefix: str = "") -> Q:
    """Loans of the collectors' cases and of the strategy's risk bands."""
    condition = _strategy_condition(scope, prefix)
    if scope.collector_ids is not None:
        condition &= Q(**{f"{prefix}debtor__case__assigned_to_id__in": scope.collector_ids})
    return condition


def kpis(scope: Scope) -> figures.Figures:
    """The tiles above the charts: the figures of the period and scope (four queries)."""
    found = figures.figures([scope.period()], scope.figures_scope())
    return found.get((None, "period"), figures.Figures())


def chart_recovery(scope: Scope) -> Chart:
    """Money collected per day, one small chart per currency, and the recovery rate: collected
    in the period over what was outstanding at its start (today's outstanding plus what was
    collected since)."""

    start, _end = scope.bounds()
    loans = Loan.objects.filter(_loan_scope(scope)).exclude(status__in=Loan.CLOSED_STATUSES)
    in_scope = figures.payments_in_scope(scope.figures_scope())
    by_day: dict[tuple[dt.date, str], Any] = {}
    currencies: set[str] = set()
    for row in (
        in_scope.filter(scope.period().instants("received_at"))
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "loan__currency")
        .annotate(total=Sum("amount"))
    ):
        by_day[(row["day"], row["loan__currency"])] = row["total"]
        currencies.add(row["loan__currency"])
    outstanding = {
        r["currency"]: r["total"]
        for r in loans.values("currency").annotate(
            total=Sum("principal_balance") + Sum("interest_balance") + Sum("fees_balance")
        )
    }
    since = {
        r["loan__currency"]: r["total"]
        for r in in_scope.filter(received_at__gte=start)
        .values("loan__currency")
        .annotate(total=Sum("amount"))
    }
    collected = {c: sum((v for (d, cur), v in by_day.items() if cur == c), 0) for c in currencies}
    days = scope.days()
    rates = []
    for c in sorted(currencies | set(outstanding)):
        base = (outstanding.get(c) or 0) + (since.get(c) or 0)
        rate = _ratio(collected.get(c, 0), base)
        rates.append(f"{c} {rate * 100:.1f}%" if rate is not None else f"{c} —")
    return Chart(
        key="recovery",
        title=_("Recovery: collected per day"),
        kind="bar",
        labels=[d.isoformat() for d in days],
        panels=[
            Panel(
                title=c,
                datasets=[
                    {"label": _("collected"), "data": [float(by_day.get((d, c), 0)) for d in days]}
                ],
            )
            for c in sorted(currencies)
        ],
        header=[_("day"), _("currency"), _("collected")],
        rows=[[d.isoformat(), c, by_day[(d, c)]] for (d, c) in sorted(by_day)],
        summary=_("Recovery rate: %(rates)s") % {"rates": ", ".join(rates) or "—"},
    )


def chart_right_party(scope: Scope) -> Chart:
    """Share of completed outbound calls that reached the debtor (``figures.RIGHT_PARTY``)."""

    calls = figures.outbound_attempts(scope.period(), scope.figures_scope()).filter(
        figures.COMPLETED_CALL
    )
    counts = {
        row["day"]: (row["total"], row["rpc"])
        for row in calls.annotate(
            day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone())
        )
        .values("day")
        .annotate(total=Count("id"), rpc=Count("id", filter=figures.RIGHT_PARTY))
    }
    days = scope.days()
    total = sum(t for t, _r in counts.values())
    reached = sum(r for _t, r in counts.values())
    return Chart(
        key="right-party",
        title=_("Right-party contact rate"),
        kind="line",
        labels=[d.isoformat() for d in days],
        panels=single(
            [
                {
                    "label": _("right-party contacts / calls"),
                    "data": [
                        _ratio(counts.get(d, (0, 0))[1], counts.get(d, (0, 0))[0]) for d in days
                    ],
                }
            ]
        ),
        header=[_("day"), _("calls"), _("right-party contacts"), _("rate")],
        rows=[[d.isoformat(), t, r, _ratio(r, t)] for d, (t, r) in sorted(counts.items())],
        summary=_("%(reached)d of %(total)d calls reached the debtor")
        % {"reached": reached, "total": total},
        percent=True,
    )


def chart_promises(scope: Scope) -> Chart:
    """Share of promises falling due in the period that were kept (of those decided)."""

    promises = figures.promises_in_scope(scope.figures_scope()).filter(
        scope.period().dates("promised_date")
    )
    counts = {
        row["promised_date"]: row
        for row in promises.values("promised_date").annotate(
            kept=Count("id", filter=Q(status="kept")),
            broken=Count("id", filter=Q(status="broken")),
            pending=Count("id", filter=Q(status="pending")),
        )
    }
    days = scope.days()
    kept = sum(r["kept"] for r in counts.values())
    broken = sum(r["broken"] for r in counts.values())
    return Chart(
        key="promises",
        title=_("Promises kept"),
        kind="bar",
        labels=[d.isoformat() for d in days],
        panels=single(
            [
                {"label": _("kept"), "data": [counts.get(d, {}).get("kept", 0) for d in days]},
                {"label": _("broken"), "data": [counts.get(d, {}).get("broken", 0) for d in days]},
                {
                    "label": _("pending"),
                    "data": [counts.get(d, {}).get("pending", 0) for d in days],
                },
            ]
        ),
        header=[_("promised date"), _("kept"), _("broken"), _("pending")],
        rows=[
            [d.isoformat(), r["kept"], r["broken"], r["pending"]] for d, r in sorted(counts.items())
        ],
        summary=_("Promise kept rate: %(rate)s")
        % {"rate": f"{kept / (kept + broken) * 100:.1f}%" if kept + broken else "—"},
        stacked=True,
        whole=True,
    )


DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "91+", "closed")
# The buckets named in words; the others are days past due and read the same in any language.
BUCKET_LABELS = {"current": gettext_lazy("not past due"), "closed": gettext_lazy("closed")}


def _bucket(due, status, on: dt.date) -> Case:
    """The days-past-due bucket, on ``on``, of a loan whose oldest unpaid due date is ``due``
    and whose status is ``status`` (both expressions)."""
    days = dt.timedelta
    return Case(
        When(Q(**{f"{status}__in": Loan.CLOSED_STATUSES}), then=Value("closed")),
        When(Q(**{f"{due}__isnull": True}) | Q(**{f"{due}__gte": on}), then=Value("current")),
        When(Q(**{f"{due}__gte": on - days(30)}), then=Value("1-30")),
        When(Q(**{f"{due}__gte": on - days(60)}), then=Value("31-60")),
        When(Q(**{f"{due}__gte": on - days(90)}), then=Value("61-90")),
        default=Value("91+"),
        output_field=CharField(),
    )


def _state_at(instant: dt.datetime, field: str):
    """``field`` of the loan as its history last recorded it before ``instant``."""
    history = Loan.history.model.objects.filter(id=OuterRef("pk"), history_date__lt=instant)
    return Subquery(history.order_by("-history_date", "-history_id").values(field)[:1])


def _known(known: str, instant: dt.datetime, field: str) -> Case:
    """``field`` as the history knew it before ``instant``, or as it is now where the history
    knows nothing (``known`` names the annotation that says which)."""
    return Case(When(**{known: True}, then=_state_at(instant, field)), default=F(field))


def chart_roll_rates(scope: Scope) -> Chart:
    """How loans moved between days-past-due buckets from the start of the period to its end,
    reconstructed from the loans' history (one grouped query).

    A loan's state at an instant is its newest history row before it; a loan loaded in bulk
    has no history, and its present state stands for both ends. A loan with history at the
    end but none at the start appeared during the period and is left out.
    """
    start, end = scope.bounds()
    history = Loan.history.model.objects.filter(id=OuterRef("pk"))
    states = (
        Loan.objects.filter(_loan_scope(scope), created_at__lt=start)
        .annotate(
            known_before=Exists(history.filter(history_date__lt=start)),
            known_after=Exists(history.filter(history_date__lt=end)),
        )
        .filter(Q(known_before=True) | Q(known_after=False))
        .annotate(
            from_due=_known("known_before", start, "oldest_unpaid_due_date"),
            from_status=_known("known_before", start, "status"),
            to_due=_known("known_after", end, "oldest_unpaid_due_date"),
            to_status=_known("known_after", end, "status"),
        )
        .annotate(
            from_bucket=_bucket("from_due", "from_status", scope.start),
            to_bucket=_bucket("to_due", "to_status", scope.end),
        )
        .values("from_bucket", "to_bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    matrix = {(row["from_bucket"], row["to_bucket"]): row["n"] for row in states}
    totals = {f: sum(n for (ff, _t), n in matrix.items() if ff == f) for f in DPD_BUCKETS}
    return Chart(
        key="roll-rates",
        title=_("Roll rates between days-past-due buckets"),
        kind="bar",
        labels=[str(BUCKET_LABELS.get(f, f)) for f in DPD_BUCKETS[:-1]],
        panels=single(
            [
                {
                    "label": _("to %(bucket)s") % {"bucket": BUCKET_LABELS.get(t, t)},
                    "data": [
                        _ratio(matrix.get((f, t), 0), totals.get(f)) for f in DPD_BUCKETS[:-1]
                    ],
                }
                for t in DPD_BUCKETS
            ]
        ),
        header=[_("from bucket"), _("to bucket"), _("loans"), _("share")],
        rows=[
            [f, t, n, _ratio(n, totals.get(f))]
            for (f, t), n in sorted(
                matrix.items(),
                key=lambda i: (DPD_BUCKETS.index(i[0][0]), DPD_BUCKETS.index(i[0][1])),
            )
        ],
        summary=_("Loans in each bucket at %(start)s, by bucket at %(end)s")
        % {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        stacked=True,
        percent=True,
    )


def chart_reminders(scope: Scope) -> Chart:
    """Reminder outcomes by stage and channel for reminders scheduled in the period."""

    reminders = Reminder.objects.filter(
        scheduled_for__gte=scope.start, scheduled_for__lte=scope.end
    )
    if scope.strategy_id:
        reminders = reminders.filter(stage__strategy_id=scope.strategy_id)
    if scope.collector_ids is not None:
        reminders = reminders.filter(debtor__case__assigned_to_id__in=scope.collector_ids)
    rows = list(
        reminders.values("stage_id", "stage__name", "stage__strategy__name", "channel", "status")
        .annotate(n=Count("id"))
        .order_by("stage__strategy__name", "stage__offset_days", "channel")
    )
    groups: dict[tuple, dict[str, int]] = {}
    for r in rows:
        key = (r["stage__strategy__name"], r["stage__name"], r["channel"])
        groups.setdefault(key, {})[r["status"]] = r["n"]
    labels = [
        f"{shipped_name(strategy)} · {shipped_name(stage)} · {choice_label(Reminder, 'channel', channel)}"
        for strategy, stage, channel in groups
    ]
    statuses = [s for s in ReminderStatus.values if any(s in g for g in groups.values())]
    status_labels = dict(ReminderStatus.choices)
    return Chart(
        key="reminders",
        title=_("Reminder outcomes by stage and channel"),
        kind="bar",
        labels=labels,
        panels=single(
            [
                {"label": str(status_labels[s]), "data": [g.get(s, 0) for g in groups.values()]}
                for s in statuses
            ]
        ),
        header=[_("strategy"), _("stage"), _("channel"), _("status"), _("reminders")],
        rows=[
            [r["stage__strategy__name"], r["stage__name"], r["channel"], r["status"], r["n"]]
            for r in rows
        ],
        stacked=True,
        whole=True,
    )


CHARTS = {
    "recovery": chart_recovery,
    "right-party": chart_right_party,
    "promises": chart_promises,
    "roll-rates": chart_roll_rates,
    "reminders": chart_reminders,
}
