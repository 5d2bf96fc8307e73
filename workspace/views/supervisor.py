"""Supervisors' pages: the team (of everyone, or of one team) with its reassign list,
reassignment, audit history, decisions, breaches, the ledger check and discount approvals.
Collectors get 403 on every one of them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import selectors, services
from cases.models import Case
from cases.teams import team_member_ids
from compliance import ledger
from compliance.models import ContactPolicy
from debtors.models import Debtor, Loan, RepaymentPlan
from selfservice import selectors as portal_selectors
from workspace.forms import AuditFilterForm, DecisionLogFilterForm, ReassignForm, TeamFilterForm
from workspace.selectors import audit, supervision
from workspace.selectors.figures import DEFINITIONS
from workspace.views.common import supervisor_required

PAGE = 50
# The newest changes an audit page shows (of those of the kind and actor asked for).
AUDIT_SHOWN = 200


def _queue_rows(page: selectors.QueuePage) -> list[tuple]:
    return [
        (case, page.contactable.get(case.debtor_id), page.balances.get(case.debtor_id))
        for case in page.rows
    ]


@supervisor_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """The collectors' day and the cases to reassign, of everyone or of one team."""
    form = TeamFilterForm(request.GET or None, viewer=request.user)
    chosen = form.chosen_team()
    member_ids = tuple(team_member_ids(chosen)) if chosen else None
    after = request.GET.get("after", "")
    page = selectors.queue_page(
        request.user, selectors.QueueFilters(collector_ids=member_ids), after=after
    )
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "page": page,
        "rows": _queue_rows(page),
        "query": query.urlencode(),
        "after": after,
    }
    if request.htmx and after:
        return render(request, "workspace/_queue_rows.html", context)
    assignable = services.collectors()
    if member_ids is not None:
        assignable = assignable.filter(pk__in=member_ids)
    return render(
        request,
        "workspace/team.html",
        {
            **context,
            "form": form,
            "team": chosen,
            "stats": supervision.team_stats(collector_ids=member_ids),
            "assignable": assignable,
            "definitions": DEFINITIONS,
        },
    )


def _reassign_pool(request: HttpRequest):
    """The collectors the cases may go to: everyone's, or the team's when the form names one.
    ``None`` when it names a team that does not exist."""
    pool = services.collectors()
    if not request.POST.get("team"):
        return pool
    team_form = TeamFilterForm(request.POST, viewer=request.user)
    chosen = team_form.chosen_team()
    if chosen is None:
        return None
    return pool.filter(pk__in=team_member_ids(chosen))


@supervisor_required
@require_POST
def reassign(request: HttpRequest) -> HttpResponse:
    pool = _reassign_pool(request)
    if pool is None:
        messages.error(request, _("No such team."))
    else:
        _reassign_to(request, pool)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)


def _reassign_to(request: HttpRequest, pool) -> None:
    """Give the ticked cases to the chosen collector of ``pool``; say how it went."""
    form = ReassignForm(request.POST, collectors=pool, cases=Case.objects.all())
    if not form.is_valid():
        messages.error(request, _("Choose the cases and the collector to give them to."))
        return
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


def _audit_page(request: HttpRequest, changes: list, **context) -> HttpResponse:
    """An audit page: its changes narrowed to the kind and actor asked for (what does not
    validate is left out, its error shown), newest first."""
    form = AuditFilterForm(
        request.GET or None,
        kinds=audit.present_kinds(changes),
        actors=audit.present_actors(changes),
    )
    kind, actor = form.chosen()
    shown = audit.narrowed(changes, kind=kind, actor=actor)
    return render(
        request,
        "workspace/audit.html",
        {**context, "form": form, "changes": shown[:AUDIT_SHOWN], "more": len(shown) > AUDIT_SHOWN},
    )


@supervisor_required
@require_GET
def audit_debtor(request: HttpRequest, debtor_id: int) -> HttpResponse:
    debtor = get_object_or_404(Debtor, pk=debtor_id)
    return _audit_page(
        request,
        audit.debtor_audit(debtor),
        subject=debtor,
        title=_("Audit history of %(name)s") % {"name": debtor},
        decisions=supervision.decision_log().filter(debtor_id=debtor.pk)[:PAGE],
        case=getattr(debtor, "case", None),
    )


@supervisor_required
@require_GET
def audit_loan(request: HttpRequest, loan_id: int) -> HttpResponse:
    loan = get_object_or_404(Loan.objects.select_related("debtor"), pk=loan_id)
    return _audit_page(
        request,
        audit.loan_audit(loan),
        subject=loan,
        title=_("Audit history of loan %(ref)s") % {"ref": loan.external_ref},
    )


@supervisor_required
@require_GET
def audit_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(RepaymentPlan.objects.select_related("loan"), pk=plan_id)
    return _audit_page(
        request,
        audit.plan_audit(plan),
        subject=plan,
        title=_("Audit history of plan #%(id)d") % {"id": plan.pk},
    )


@supervisor_required
@require_GET
def audit_policy(request: HttpRequest, slug: str) -> HttpResponse:
    if not ContactPolicy.objects.filter(slug=slug).exists():
        raise Http404
    return _audit_page(
        request,
        audit.policy_audit(slug),
        subject=slug,
        title=_("Versions of policy %(slug)s") % {"slug": slug},
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
            "ledger_query": _ledger_query(form),
            "verify": request.session.pop("ledger_verify", None),
        },
    )


def _ledger_query(form: DecisionLogFilterForm) -> str:
    """The contact ledger's export of the days the decision log is narrowed to, in the
    viewer's zone (empty: every day)."""
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    period = {
        name: data[field].isoformat()
        for name, field in (("since", "date_from"), ("until", "date_to"))
        if data.get(field)
    }
    if not period:
        return ""
    return urlencode({**period, "tz": timezone.get_current_timezone_name()})


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
