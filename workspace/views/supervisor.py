"""Supervisors' pages: the team, reassignment, audit history, decisions, breaches, the ledger
check and discount approvals. Collectors get 403 on every one of them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import services
from cases.models import Case
from compliance import ledger
from compliance.models import ContactPolicy
from debtors.models import Debtor, Loan, RepaymentPlan
from selfservice import selectors as portal_selectors
from workspace.forms import DecisionLogFilterForm, ReassignForm
from workspace.selectors import audit, supervision
from workspace.views.common import supervisor_required

PAGE = 50


@supervisor_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workspace/team.html",
        {"stats": supervision.team_stats(), "collectors": services.collectors()},
    )


@supervisor_required
@require_POST
def reassign(request: HttpRequest) -> HttpResponse:
    form = ReassignForm(request.POST, collectors=services.collectors(), cases=Case.objects.all())
    if form.is_valid():
        try:
            count = services.cases_reassign(
                actor=request.user,
                case_ids=[c.pk for c in form.cleaned_data["cases"]],
                to_user=form.cleaned_data["to_user"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(n)d case(s) assigned to %(user)s.")
                % {"n": count, "user": form.cleaned_data["to_user"]},
            )
    else:
        messages.error(request, _("Choose the cases and the collector to give them to."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)


@supervisor_required
@require_GET
def audit_debtor(request: HttpRequest, debtor_id: int) -> HttpResponse:
    debtor = get_object_or_404(Debtor, pk=debtor_id)
    return render(
        request,
        "workspace/audit.html",
        {
            "subject": debtor,
            "title": _("Audit history of %(name)s") % {"name": debtor},
            "changes": audit.debtor_audit(debtor),
            "decisions": supervision.decision_log().filter(debtor_id=debtor.pk)[:PAGE],
            "case": getattr(debtor, "case", None),
        },
    )


@supervisor_required
@require_GET
def audit_loan(request: HttpRequest, loan_id: int) -> HttpResponse:
    loan = get_object_or_404(Loan.objects.select_related("debtor"), pk=loan_id)
    return render(
        request,
        "workspace/audit.html",
        {
            "subject": loan,
            "title": _("Audit history of loan %(ref)s") % {"ref": loan.external_ref},
            "changes": audit.loan_audit(loan),
        },
    )


@supervisor_required
@require_GET
def audit_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(RepaymentPlan.objects.select_related("loan"), pk=plan_id)
    return render(
        request,
        "workspace/audit.html",
        {
            "subject": plan,
            "title": _("Audit history of plan #%(id)d") % {"id": plan.pk},
            "changes": audit.plan_audit(plan),
        },
    )


@supervisor_required
@require_GET
def audit_policy(request: HttpRequest, slug: str) -> HttpResponse:
    if not ContactPolicy.objects.filter(slug=slug).exists():
        raise Http404
    return render(
        request,
        "workspace/audit.html",
        {
            "subject": slug,
            "title": _("Versions of policy %(slug)s") % {"slug": slug},
            "changes": audit.policy_audit(slug),
        },
    )


@supervisor_required
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    form = DecisionLogFilterForm(request.GET or None, collectors=services.collectors())
    rows = supervision.decision_log()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        rows = supervision.decision_log(
            reason=data["reason"],
            channel=data["channel"],
            verdict=data["verdict"],
            collector_id=data["collector"].pk if data["collector"] else None,
            date_from=data["date_from"],
            date_to=data["date_to"],
            debtor_ref=data["debtor"].strip(),
        )
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    page = list(rows.select_related("debtor")[: PAGE + 1])
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "workspace/decisions.html",
        {
            "form": form,
            "rows": page[:PAGE],
            "next_before": page[PAGE - 1].pk if len(page) > PAGE else "",
            "query": query.urlencode(),
            "verify": request.session.pop("ledger_verify", None),
        },
    )


@supervisor_required
@require_GET
def breach_log(request: HttpRequest) -> HttpResponse:
    rows = supervision.breaches()
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    page = list(rows[: PAGE + 1])
    return render(
        request,
        "workspace/breaches.html",
        {"rows": page[:PAGE], "next_before": page[PAGE - 1].pk if len(page) > PAGE else ""},
    )


@supervisor_required
@require_POST
def verify_ledger(request: HttpRequest) -> HttpResponse:
    result = ledger.verify()
    request.session["ledger_verify"] = {
        "ok": result.ok,
        "checked": result.checked,
        "unsealed": result.unsealed,
        "broken_id": result.broken_id,
        "problem": result.problem,
    }
    return redirect("decisions")


@supervisor_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workspace/approvals.html",
        {
            "plans": supervision.discounts_waiting(),
            "portal_requests": portal_selectors.plan_requests_waiting(request.user),
        },
    )


@supervisor_required
@require_POST
def approval_decide(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(RepaymentPlan, pk=plan_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.plan_discount_decide(actor=request.user, plan=plan, approve=approve)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        if approve:
            messages.success(request, _("Discount approved; the plan is active."))
        else:
            messages.success(request, _("Discount rejected; the plan is cancelled."))
    return redirect("approvals")
