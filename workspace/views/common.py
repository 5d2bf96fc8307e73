"""What every workspace view shares: role checks, scoped lookups, rendering helpers."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _

from cases import selectors
from cases.roles import is_admin, is_supervisor


def supervisor_required(view):
    """Supervisors and admins only; a collector gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_supervisor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def admin_required(view):
    """Admins only; anyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def guard_ids(data, scoped: dict) -> None:
    """Refuse (404) any id in ``data`` that is not in its scoped queryset.

    A form that names another case's loan, contact point or call is answered exactly as a URL
    that names another case: it does not exist for this user.
    """
    for name, queryset in scoped.items():
        raw = data.get(name)
        if raw in (None, ""):
            continue
        try:
            pk = int(raw)
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not queryset.filter(pk=pk).exists():
            raise Http404


def to_next_case(request: HttpRequest) -> HttpResponse:
    """Go to the collector's next case (``cases.selectors.next_case``), or back to the queue
    saying why there is none. From an htmx request the browser is told to go there itself:
    the next case is a new page, with its own address."""
    case = selectors.next_case(request.user)
    if case is None:
        messages.info(
            request,
            _(
                "No case can be worked now: nothing is due, and the rest were worked within the hour, are on hold, or may not be called at this time."
            ),
        )
        target = resolve_url("home")
    else:
        target = resolve_url("case-detail", case_id=case.pk)
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = target
        return response
    return redirect(target)
