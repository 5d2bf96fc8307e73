"""The work queue: my cases in priority order, with whether each debtor may be called now."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases import selectors
from cases.roles import is_supervisor
from cases.services import collectors
from workspace.forms import QueueFilterForm
from workspace.views.common import to_next_case


def _filters(request: HttpRequest) -> tuple[QueueFilterForm, selectors.QueueFilters]:
    form = QueueFilterForm(
        request.GET or None, collectors=collectors() if is_supervisor(request.user) else None
    )
    filters = selectors.QueueFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        collector = data.get("collector")
        filters = selectors.QueueFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            min_dpd=data.get("min_dpd"),
            promise_today=bool(data.get("promise_today")),
            callback_due=bool(data.get("callback_due")),
            call_task_due=bool(data.get("call_task_due")),
            collector_id=collector.pk if collector else None,
        )
    return form, filters


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.queue_page(request.user, filters, after=request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "rows": [
            (case, page.contactable.get(case.debtor_id), page.balances.get(case.debtor_id))
            for case in page.rows
        ],
        "query": query.urlencode(),
        "after": request.GET.get("after", ""),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "workspace/_queue_rows.html", context)
    return render(request, "workspace/queue.html", context)


@login_required
@require_GET
def next_case(request: HttpRequest) -> HttpResponse:
    return to_next_case(request)
