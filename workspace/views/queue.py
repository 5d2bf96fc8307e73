"""The work queue: my cases in priority order, with whether each debtor may be called now."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import selectors
from cases.roles import is_supervisor
from cases.services import collectors
from cases.teams import team_member_ids
from workspace.forms import QueueFilterForm
from workspace.views.common import to_next_case


def _filters(request: HttpRequest) -> tuple[QueueFilterForm, selectors.QueueFilters]:
    supervising = is_supervisor(request.user)
    form = QueueFilterForm(
        request.GET or None,
        collectors=collectors() if supervising else None,
        viewer=request.user,
    )
    filters = selectors.QueueFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        collector, team = data.get("collector"), data.get("team")
        filters = selectors.QueueFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            min_dpd=data.get("min_dpd"),
            promise_today=bool(data.get("promise_today")),
            callback_due=bool(data.get("callback_due")),
            call_task_due=bool(data.get("call_task_due")),
            score_band=data.get("score_band") or "",
            collector_id=collector.pk if collector else None,
            collector_ids=tuple(team_member_ids(team)) if team else None,
        )
    return form, filters


def export_query(filters: selectors.QueueFilters, team=None) -> str:
    """The cases CSV's filters for what the queue shows (``cases.filters.CaseFilter``); the
    search and the promise and callback filters have no counterpart there."""
    query = QueryDict(mutable=True)
    if filters.status:
        query["status"] = filters.status
    if filters.min_dpd:
        query["min_days_past_due"] = str(filters.min_dpd)
    if filters.collector_id:
        query["assigned_to"] = str(filters.collector_id)
    if team is not None:
        query["team"] = str(team.pk)
    if filters.call_task_due:
        query["next_action_before"] = timezone.localdate().isoformat()
    return query.urlencode()


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.queue_page(request.user, filters, after=request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    team = form.cleaned_data.get("team") if form.is_bound and form.is_valid() else None
    context = {
        "form": form,
        "page": page,
        "rows": [
            (case, page.contactable.get(case.debtor_id), page.balances.get(case.debtor_id))
            for case in page.rows
        ],
        "query": query.urlencode(),
        "after": request.GET.get("after", ""),
        "export_query": export_query(filters, team),
        # Cases are given to the chosen team's collectors, or to anyone's.
        "assignable": [
            c
            for c in (form.fields["collector"].queryset if "collector" in form.fields else [])
            if filters.collector_ids is None or c.pk in filters.collector_ids
        ],
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "workspace/_queue_rows.html", context)
    return render(request, "workspace/queue.html", context)


@login_required
@require_GET
def next_case(request: HttpRequest) -> HttpResponse:
    return to_next_case(request)
