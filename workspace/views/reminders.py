"""Pages about reminders: today's run and a dispatcher pass on demand (supervisors), template
previews (admins)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.access import get_debtor_for_user
from cases.roles import is_admin, is_supervisor
from messaging import templating
from messaging.models import MessageTemplate
from reminders import selectors
from reminders.messages import context_for
from reminders.models import Reminder
from reminders.tasks import dispatch_reminders


@require_GET
@login_required
def run_today(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied
    day = timezone.now().astimezone(dt.UTC).date()
    if request.GET.get("day"):
        try:
            day = dt.date.fromisoformat(request.GET["day"])
        except ValueError:
            return HttpResponseBadRequest(
                _("day: %(value)s is not a date (expected YYYY-MM-DD).")
                % {"value": request.GET["day"][:40]},
                content_type="text/plain; charset=utf-8",
            )
    summary = selectors.run_summary(day=day)
    return render(
        request,
        "reminders/today.html",
        {
            "summary": summary,
            "columns": selectors.COLUMNS,
            # No link past the calendar's ends.
            "previous_day": day - dt.timedelta(days=1) if day > dt.date.min else None,
            "next_day": day + dt.timedelta(days=1) if day < dt.date.max else None,
            "reason_text": selectors.reason_text,
        },
    )


@require_POST
@login_required
def run_dispatch(request: HttpRequest) -> HttpResponse:
    """A dispatcher pass on demand (in-process in the demo, on a worker elsewhere)."""
    if not is_supervisor(request.user):
        raise PermissionDenied
    transaction.on_commit(dispatch_reminders.delay)
    messages.success(request, _("A dispatcher pass was started."))
    return redirect("reminders-today")


@require_GET
@login_required
def template_preview(request: HttpRequest, template_id: int) -> HttpResponse:
    """A template rendered for a sample debtor, or for a real one (``?debtor=<id>``)."""
    if not is_admin(request.user):
        raise PermissionDenied
    template = get_object_or_404(MessageTemplate, pk=template_id)
    debtor = None
    context = templating.sample_context(template.channel, template.language)
    if request.GET.get("debtor"):
        debtor = get_debtor_for_user(request.user, request.GET["debtor"])
        reminder = (
            Reminder.objects.filter(debtor=debtor)
            .select_related("loan", "debtor", "installment", "plan_installment", "stage")
            .order_by("-id")
            .first()
        )
        if reminder is not None:
            context = context_for(
                reminder,
                language=template.language,
                channel=template.channel,
                on=timezone.localdate(),
            )
    error = ""
    try:
        rendered = templating.render(
            channel=template.channel, subject=template.subject, body=template.body, context=context
        )
    except Exception as exc:  # noqa: BLE001 - shown to the admin, who is fixing the template
        rendered, error = None, "; ".join(getattr(exc, "messages", [str(exc)]))
    return render(
        request,
        "reminders/preview.html",
        {
            "template": template,
            "debtor": debtor,
            "rendered": rendered,
            "error": error,
            "max_segments": templating.sms_max_segments(),
            "variables": templating.VARIABLES,
        },
    )
