"""Supervisors' dashboards: tiles of figures and charts over a chosen period, for everyone, one
team or one collector, and per strategy; each chart downloadable as CSV (the same table the
chart is drawn from), the period's payments too."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.services import collectors
from cases.teams import team_member_ids
from debtors.csv_cells import CsvWriter
from reminders.models import ReminderStrategy
from selfservice import selectors as portal_selectors
from workspace.forms import PeriodForm, TeamFilterForm
from workspace.selectors import dashboards as selectors
from workspace.selectors.figures import DEFINITIONS
from workspace.views.common import supervisor_required


class DashboardForm(TeamFilterForm, PeriodForm):
    """The period, and whose work: one collector, one team's collectors, or everyone; and one
    strategy's loans. A value that does not validate is left out, its error shown."""

    collector = forms.ModelChoiceField(label=_("Collector"), required=False, queryset=None)
    strategy = forms.ModelChoiceField(label=_("Strategy"), required=False, queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collectors()
        self.fields["collector"].empty_label = _("Everyone")
        self.fields["strategy"].queryset = ReminderStrategy.objects.order_by("name")
        self.fields["strategy"].empty_label = _("All strategies")

    def clean(self):
        data = super().clean()
        team, collector = data.get("team"), data.get("collector")
        if team is not None:
            data["team_members"] = tuple(team_member_ids(team))
            if collector is not None and collector.pk not in data["team_members"]:
                self.add_error(
                    "collector",
                    _("%(user)s is not in team %(team)s.") % {"user": collector, "team": team},
                )
        return data

    def collector_ids(self) -> tuple[int, ...] | None:
        data = self.valid_data()
        if data.get("collector") is not None:
            return (data["collector"].pk,)
        return data.get("team_members")

    def scope(self) -> selectors.Scope:
        start, end = self.period()
        strategy = self.valid_data().get("strategy")
        return selectors.Scope(
            start=start,
            end=end,
            collector_ids=self.collector_ids(),
            strategy_id=strategy.pk if strategy else None,
        )


@supervisor_required
@require_GET
def dashboards(request: HttpRequest) -> HttpResponse:
    form = DashboardForm(request.GET or None, viewer=request.user)
    scope = form.scope()
    form.show_period(scope.start, scope.end)
    charts = [build(scope) for build in selectors.CHARTS.values()]
    return render(
        request,
        "workspace/dashboards.html",
        {
            "form": form,
            "scope": scope,
            "kpis": selectors.kpis(scope),
            "definitions": DEFINITIONS,
            "charts": charts,
            "chart_data": {c.key: c.as_json() for c in charts},
            "query": request.GET.urlencode(),
            "payments_query": urlencode(
                {
                    "since": scope.start.isoformat(),
                    "until": scope.end.isoformat(),
                    "tz": timezone.get_current_timezone_name(),
                }
            ),
            "portal_rating": portal_selectors.rating_summary(*scope.bounds()),
        },
    )


@supervisor_required
@require_GET
def dashboard_csv(request: HttpRequest, key: str) -> HttpResponse:
    build = selectors.CHARTS.get(key)
    if build is None:
        raise Http404
    chart = build(DashboardForm(request.GET or None, viewer=request.user).scope())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
    writer = CsvWriter(response)
    writer.writerow([str(h) for h in chart.header])
    for row in chart.rows:
        writer.writerow(["" if v is None else v for v in row])
    return response
