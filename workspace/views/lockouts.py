"""Supervisors: usernames locked after too many failed sign-ins, and their unlock."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.lockouts import lockouts_current, login_unlock
from cases.models import LoginUnlock
from workspace.views.common import supervisor_required


@require_GET
@supervisor_required
def lockouts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workspace/lockouts.html",
        {
            "locked": list(lockouts_current()[:200]),
            "unlocks": list(
                LoginUnlock.objects.select_related("unlocked_by").order_by("-unlocked_at")[:50]
            ),
        },
    )


@require_POST
@supervisor_required
def unlock(request: HttpRequest, attempt_id: int) -> HttpResponse:
    done = login_unlock(actor=request.user, attempt_id=attempt_id)
    if done is None:
        messages.info(request, _("That lockout had already ended."))
    else:
        messages.success(
            request, _("%(username)s can sign in again.") % {"username": done.username}
        )
    return redirect("lockouts")
