"""The collectors' pages. Views translate HTTP; the rules live in services and selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .access import cases_for_user, get_case_for_user


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    cases = (
        cases_for_user(request.user)
        .select_related("debtor", "assigned_to")
        .exclude(status="closed")
        .order_by("-max_days_past_due", "id")[:50]
    )
    return render(request, "cases/home.html", {"cases": cases})


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    loans = debtor.loans.prefetch_related("installments").order_by("opened_on")
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "debtor": debtor,
            "contact_points": debtor.contact_points.all(),
            "loans": loans,
        },
    )
