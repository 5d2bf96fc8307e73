"""The supervisors' wallboard: each collector's and each team's figures (``figures``) for today
and for this week, and the same as a table for its CSV download.

Seven queries whatever the number of collectors and teams: the collectors, the teams and their
members, and the four of ``figures.figures``. A team's row adds up its members' figures
(amounts per currency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cases.models import Team
from cases.services import collectors
from debtors.money import is_currency, quantize
from workspace.selectors.figures import Figures, Period, Scope, figures, today_and_week


@dataclass
class Row:
    """One line of the wallboard: a collector or a team."""

    kind: str  # collector or team
    name: str
    today: Figures
    week: Figures
    members: int = 1


@dataclass
class Wallboard:
    today: Period
    week: Period
    collectors: list[Row]
    teams: list[Row]

    @property
    def periods(self) -> tuple[Period, Period]:
        return self.today, self.week

    @property
    def rows(self) -> list[Row]:
        return [*self.teams, *self.collectors]

    def currencies(self) -> list[str]:
        """Every currency an amount of the board is in."""
        found: set[str] = set()
        for row in self.rows:
            for figures_ in (row.today, row.week):
                found.update(figures_.promised, figures_.collected)
        return sorted(found)


def wallboard(*, team: Team | None = None, now: dt.datetime | None = None) -> Wallboard:
    """Every active collector and every team, or ``team`` and its collectors only."""
    today, week = today_and_week(now)
    teams = list(
        (Team.objects.filter(pk=team.pk) if team else Team.objects.all()).prefetch_related(
            "members"
        )
    )
    members = {t.pk: [u.pk for u in t.members.all()] for t in teams}
    people = list(collectors())
    if team is not None:
        in_team = set(members[team.pk])
        people = [u for u in people if u.pk in in_team]
    counted = {u.pk for u in people} | {pk for ids in members.values() for pk in ids}
    found = figures([today, week], Scope(collector_ids=tuple(sorted(counted)), by_collector=True))

    def of(pks: list[int], period: Period) -> Figures:
        return Figures.total(found.get((pk, period.key), Figures()) for pk in pks)

    return Wallboard(
        today=today,
        week=week,
        collectors=[
            Row("collector", u.get_username(), of([u.pk], today), of([u.pk], week)) for u in people
        ],
        teams=[
            Row(
                "team",
                t.name,
                of(members[t.pk], today),
                of(members[t.pk], week),
                len(members[t.pk]),
            )
            for t in teams
        ],
    )


def _amount(amounts: dict, currency: str):
    if currency not in amounts:
        return ""
    return quantize(amounts[currency], currency) if is_currency(currency) else amounts[currency]


def wallboard_table(board: Wallboard) -> tuple[list[str], list[list]]:
    """The wallboard as a table: one line per row and period, an amount column per currency."""
    currencies = board.currencies()
    header = [
        _("kind"),
        _("name"),
        _("period"),
        _("from"),
        _("to"),
        _("attempts"),
        _("calls with an outcome"),
        _("right-party contacts"),
        _("promises"),
        *(_("promised %(currency)s") % {"currency": c} for c in currencies),
        _("promises due, kept"),
        _("promises due, kept or broken"),
        _("kept rate"),
        *(_("collected %(currency)s") % {"currency": c} for c in currencies),
    ]
    lines = []
    for row in board.rows:
        for period, counted in zip(board.periods, (row.today, row.week), strict=True):
            lines.append(
                [
                    row.kind,
                    row.name,
                    period.key,
                    period.start.isoformat(),
                    period.end.isoformat(),
                    counted.attempts,
                    counted.calls,
                    counted.right_party,
                    counted.promises,
                    *(_amount(counted.promised, c) for c in currencies),
                    counted.kept,
                    counted.resolved,
                    "" if counted.kept_rate is None else round(counted.kept_rate, 4),
                    *(_amount(counted.collected, c) for c in currencies),
                ]
            )
    return header, lines
