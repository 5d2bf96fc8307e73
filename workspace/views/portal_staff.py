"""The back office's side of the portal: decide on a proposed plan, revoke a debtor's links,
read a dispute's document. Every object is fetched through the case scope (404 otherwise)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.access import get_debtor_for_user
from debtors.files import file_response
from selfservice import services
from selfservice.models import PortalDispute, PortalPlanRequest


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def plan_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    proposal = get_object_or_404(PortalPlanRequest, pk=request_id)
    get_debtor_for_user(request.user, proposal.debtor_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.plan_request_decide(actor=request.user, request=proposal, approve=approve)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        if approve:
            messages.success(request, _("The debtor's plan is approved and active."))
        else:
            messages.success(request, _("The debtor's plan is declined."))
    return _back(request, "approvals")


@login_required
@require_POST
def links_revoke(request: HttpRequest, debtor_id: int) -> HttpResponse:
    debtor = get_debtor_for_user(request.user, debtor_id)
    services.links_revoke(actor=request.user, debtor=debtor)
    messages.success(request, _("Every self-service link of this debtor is revoked."))
    return _back(request, "home")


@login_required
@require_GET
def dispute_document(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = get_object_or_404(PortalDispute, pk=dispute_id)
    get_debtor_for_user(request.user, dispute.debtor_id)
    return file_response(dispute.document, download_name=f"dispute-{dispute.pk}")
