"""Supervisors' wallboard: per collector and per team, today and this week, with each figure's
definition on the page, and the same table as CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workspace.exports import bad_request, csv_response
from workspace.forms import TeamFilterForm
from workspace.selectors import wallboard as selectors
from workspace.selectors.figures import DEFINITIONS
from workspace.views.common import supervisor_required


@supervisor_required
@require_GET
def wallboard(request: HttpRequest) -> HttpResponse:
    form = TeamFilterForm(request.GET or None, viewer=request.user)
    board = selectors.wallboard(team=form.chosen_team())
    return render(
        request,
        "workspace/wallboard.html",
        {
            "form": form,
            "board": board,
            "definitions": DEFINITIONS,
            "query": request.GET.urlencode(),
        },
    )


@supervisor_required
@require_GET
def wallboard_csv(request: HttpRequest) -> HttpResponse:
    """The wallboard as shown (the same team), one line per row and period. An unknown team is
    a 400 naming the parameter, as the other exports answer."""
    form = TeamFilterForm(request.GET or None, viewer=request.user)
    if form.is_bound and not form.is_valid():
        return bad_request(form)
    header, rows = selectors.wallboard_table(selectors.wallboard(team=form.chosen_team()))
    return csv_response("wallboard", [str(h) for h in header], rows)
