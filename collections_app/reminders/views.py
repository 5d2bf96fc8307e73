"""Pages about reminders: today's run (supervisors), template previews (admins), and the
SMS provider's signed delivery reports."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from collections_app.access import get_debtor_for_user
from collections_app.channels.sms import verify_callback_signature
from collections_app.models import MessageTemplate, Reminder
from collections_app.roles import is_admin, is_supervisor
from compliance.models import ContactAttempt

from . import selectors, services, templating
from .messages import context_for


@require_GET
@login_required
def run_today(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied
    day = timezone.now().astimezone(dt.UTC).date()
    if request.GET.get("day"):
        try:
            day = dt.date.fromisoformat(request.GET["day"])
        except ValueError as exc:
            raise Http404("Bad day.") from exc
    summary = selectors.run_summary(day=day)
    return render(
        request,
        "reminders/today.html",
        {
            "summary": summary,
            "columns": selectors.COLUMNS,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "reason_text": selectors.reason_text,
        },
    )


@require_POST
@login_required
def run_dispatch(request: HttpRequest) -> HttpResponse:
    """A dispatcher pass on demand (in-process in the demo, on a worker elsewhere)."""
    if not is_supervisor(request.user):
        raise PermissionDenied
    from collections_app.tasks import dispatch_reminders

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


@csrf_exempt
@require_POST
def sms_delivery_report(request: HttpRequest) -> JsonResponse:
    """A delivery report from the SMS provider, signed with ``SMS_CALLBACK_SECRET``."""
    body = request.body
    if not verify_callback_signature(body, request.headers.get("X-Signature", "")):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        report = json.loads(body)
        key, status = str(report["idempotency_key"]), str(report["status"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad report"}, status=400)
    reminder = Reminder.objects.filter(pk=_reminder_id(key)).first() if _reminder_id(key) else None
    if reminder is None or reminder.contact_attempt_id is None:
        return JsonResponse({"error": "unknown message"}, status=404)
    attempt = ContactAttempt.objects.get(pk=reminder.contact_attempt_id)
    changed = services.attempt_delivery_status_set(attempt=attempt, status=status)
    return JsonResponse({"updated": changed})


def _reminder_id(key: str) -> int | None:
    prefix = "reminder-"
    if key.startswith(prefix) and key[len(prefix) :].isdigit():
        return int(key[len(prefix) :])
    return None
