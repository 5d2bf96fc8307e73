"""Supervisors' dashboards: charts over a chosen period, per collector and per strategy, each
downloadable as CSV (the same table the chart is drawn from)."""

from __future__ import annotations

import csv

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.services import collectors
from reminders.models import ReminderStrategy
from selfservice import selectors as portal_selectors
from workspace.forms import PeriodForm
from workspace.selectors import dashboards as selectors
from workspace.views.common import supervisor_required


class DashboardForm(PeriodForm):
    collector = forms.ModelChoiceField(label=_("Collector"), required=False, queryset=None)
    strategy = forms.ModelChoiceField(label=_("Strategy"), required=False, queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collectors()
        self.fields["collector"].empty_label = _("Everyone")
        self.fields["strategy"].queryset = ReminderStrategy.objects.order_by("name")
        self.fields["strategy"].empty_label = _("All strategies")

    def scope(self) -> selectors.Scope:
        start, end = self.period()
        data = self.cleaned_data if self.is_valid() else {}
        collector, strategy = data.get("collector"), data.get("strategy")
        return selectors.Scope(
            start=start,
            end=end,
            collector_id=collector.pk if collector else None,
            strategy_id=strategy.pk if strategy else None,
        )


@supervisor_required
@require_GET
def dashboards(request: HttpRequest) -> HttpResponse:
    form = DashboardForm(request.GET or None)
    scope = form.scope()
    charts = [build(scope) for build in selectors.CHARTS.values()]
    return render(
        request,
        "workspace/dashboards.html",
        {
            "form": form,
            "scope": scope,
            "charts": charts,
            "chart_data": {c.key: c.as_json() for c in charts},
            "query": request.GET.urlencode(),
            "portal_rating": portal_selectors.rating_summary(*scope.bounds()),
        },
    )


@supervisor_required
@require_GET
def dashboard_csv(request: HttpRequest, key: str) -> HttpResponse:
    build = selectors.CHARTS.get(key)
    if build is None:
        raise Http404
    chart = build(DashboardForm(request.GET or None).scope())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}.csv"'
    writer = csv.writer(response)
    writer.writerow([str(h) for h in chart.header])
    for row in chart.rows:
        writer.writerow(["" if v is None else v for v in row])
    return response
