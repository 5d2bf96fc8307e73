"""The case page and its actions. Each action calls one service and returns to the page, where
the timeline already shows it; a form with errors is shown again with what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from cases import lifecycle, services
from cases.access import get_case_for_user
from cases.roles import is_supervisor
from cases.selectors import contactability
from compliance.gate import ContactBlocked, GateInputError, InvalidPermit
from compliance.models import ContactAttempt
from compliance.selectors import NoPolicy
from debtors import services as ledger
from debtors.models import Channel, ContactPoint
from debtors.selectors import debtor_loans
from debtors.validators import apply_errors
from messaging.channels.base import OutcomeUnknown, PermanentError, TransientError, get_backend
from messaging.models import MessageTemplate
from workspace.forms import (
    CallbackForm,
    CloseCaseForm,
    ContactPointStatusForm,
    HoldForm,
    MessageForm,
    NoteForm,
    OutcomeForm,
    PlaceCallForm,
    PlanForm,
    PromiseForm,
)
from workspace.selectors.case_page import open_callbacks
from workspace.selectors.timeline import timeline
from workspace.views.common import guard_ids


def _templates_for_messages():
    """(key, label) of the SMS and email templates."""
    keys = (
        MessageTemplate.objects.filter(channel__in=["sms", "email"])
        .values_list("key", flat=True)
        .distinct()
        .order_by("key")
    )
    return [(k, k) for k in keys]


# A transport that failed: the attempt stays recorded; the collector is told and may retry.
TransportError = (InvalidPermit, TransientError, PermanentError, OutcomeUnknown)

PANELS = (
    # name, element id, title
    ("call", "panel-call", _lazy("Place a call")),
    ("outcome", "outcome", _lazy("Log a call outcome")),
    ("promise", "panel-promise", _lazy("Record a promise to pay")),
    ("plan", "panel-plan", _lazy("Set up a repayment plan")),
    ("note", "panel-note", _lazy("Add a note")),
    ("callback", "panel-callback", _lazy("Schedule a callback")),
    ("message", "panel-message", _lazy("Send an SMS or email")),
    ("hold", "panel-hold", _lazy("Dispute, hardship or cease request")),
    ("close", "panel-close", _lazy("Close the case")),
)
# Panels only a supervisor sees.
SUPERVISOR_PANELS = ("close",)
PANEL_NAMES = tuple(name for name, _id, _title in PANELS)


def _panel_form(name: str, debtor, pending, contact_points=None):
    """A fresh form for one action panel (``contact_points``: the debtor's, when already read)."""
    if name == "call":
        return PlaceCallForm(debtor=debtor, contact_points=contact_points)
    if name == "outcome":
        return OutcomeForm(initial={"attempt": pending[0].pk} if pending else None)
    if name == "promise":
        return PromiseForm(debtor=debtor)
    if name == "plan":
        return PlanForm(debtor=debtor, initial={"first_date": timezone.localdate()})
    if name == "note":
        return NoteForm()
    if name == "callback":
        return CallbackForm()
    if name == "message":
        return MessageForm(debtor=debtor, templates=_templates_for_messages())
    if name == "close":
        return CloseCaseForm()
    return HoldForm()


def _case_page(request: HttpRequest, case, *, status: int = 200, **overrides) -> HttpResponse:
    """The case page. Only the open action panels are rendered with it; the others load
    their form when opened (htmx), which keeps the page light for a collector's every click."""
    debtor = case.debtor
    now = timezone.now()
    pending = list(services.pending_calls(actor=request.user, debtor=debtor)[:5])
    contact_points = list(debtor.contact_points.order_by("kind", "-is_primary", "id"))
    open_panel = overrides.get("open_panel", "")
    panels = []
    for name, element_id, title in PANELS:
        if name in SUPERVISOR_PANELS and (
            not is_supervisor(request.user) or case.status == case.Status.CLOSED
        ):
            continue
        bound = overrides.get(f"{name}_form")
        is_open = (
            bound is not None
            or open_panel == name
            or (name == "call" and not pending)
            or (name == "outcome" and bool(pending))
        )
        form = bound or (_panel_form(name, debtor, pending, contact_points) if is_open else None)
        panels.append(
            {
                "name": name,
                "id": element_id,
                "title": title,
                "open": is_open,
                "form": form,
                "template": f"workspace/panels/{name}.html",
            }
        )
    loans = debtor_loans(debtor)
    totals: dict[str, object] = {}
    for loan in loans:
        if not loan.is_closed:
            totals[loan.currency] = totals.get(loan.currency, 0) + loan.outstanding
    context = {
        "case": case,
        "debtor": debtor,
        "contact_points": contact_points,
        "loans": loans,
        "totals": sorted(totals.items()),
        "callbacks": open_callbacks(debtor),
        "pending_calls": pending,
        "timeline": timeline(debtor, loans=loans),
        "call_now": contactability([debtor], channel=Channel.CALL, at=now).get(debtor.pk),
        "blocked": overrides.get("blocked"),
        "debtor_zone": _debtor_zone(debtor, overrides.get("blocked")),
        "viewer_zone": timezone.get_current_timezone_name(),
        "can_approve": is_supervisor(request.user),
        "collectors": services.collectors() if is_supervisor(request.user) else [],
        "panels": panels,
        "forms": {p["name"]: p["form"] for p in panels},
    }
    return render(request, "workspace/case.html", context, status=status)


@login_required
@require_GET
def panel(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    """One action panel's form, loaded when the collector opens it."""
    case = get_case_for_user(request.user, case_id)
    if name not in PANEL_NAMES or (name in SUPERVISOR_PANELS and not is_supervisor(request.user)):
        raise Http404
    pending = list(services.pending_calls(actor=request.user, debtor=case.debtor)[:5])
    return render(
        request,
        f"workspace/panels/{name}.html",
        {
            "case": case,
            "debtor": case.debtor,
            "form": _panel_form(name, case.debtor, pending),
            "pending_calls": pending,
        },
    )


def _debtor_zone(debtor, blocked) -> str:
    if blocked is not None and blocked.timezones:
        return blocked.timezones[0]
    return debtor.timezone or ""


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    return _case_page(request, case)


def _back(case) -> HttpResponse:
    return redirect("case-detail", case_id=case.pk)


@login_required
@require_POST
def note_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(actor=request.user, debtor=case.debtor, body=form.cleaned_data["body"])
        messages.success(request, _("Note added."))
        return _back(case)
    return _case_page(request, case, status=400, note_form=form, open_panel="note")


@login_required
@require_POST
def callback_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            services.callback_schedule(
                actor=request.user,
                debtor=case.debtor,
                due_at=form.cleaned_data["due_at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Callback scheduled."))
            return _back(case)
    return _case_page(request, case, status=400, callback_form=form, open_panel="callback")


@login_required
@require_POST
def call_place(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"contact_point": debtor.contact_points.all()})
    form = PlaceCallForm(request.POST, debtor=debtor)
    if not form.is_valid():
        return _case_page(request, case, status=400, call_form=form, open_panel="call")
    point = form.cleaned_data["contact_point"]
    try:
        attempt = services.call_place(actor=request.user, debtor=debtor, contact_point=point)
    except ContactBlocked as blocked:
        return _case_page(request, case, call_form=form, blocked=blocked.decision)
    except (ValidationError, GateInputError, NoPolicy) as exc:
        form.add_error(None, getattr(exc, "messages", [str(exc)]))
        return _case_page(request, case, status=400, call_form=form, open_panel="call")
    messages.success(
        request,
        _("The gate allowed the call. Dial %(number)s now, then log the outcome.")
        % {"number": point.value},
    )
    response = _back(case)
    response["Location"] += f"?call={attempt.pk}#outcome"
    return response


@login_required
@require_POST
def outcome_log(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    own_calls = ContactAttempt.objects.filter(debtor=debtor, channel=Channel.CALL)
    guard_ids(request.POST, {"attempt": own_calls})
    form = OutcomeForm(request.POST)
    if form.is_valid():
        attempt = None
        if form.cleaned_data.get("attempt"):
            attempt = own_calls.get(pk=form.cleaned_data["attempt"])
        try:
            services.call_outcome_log(
                actor=request.user,
                debtor=debtor,
                code=form.cleaned_data["code"],
                note=form.cleaned_data["note"],
                attempt=attempt,
                direction="outbound" if attempt else "inbound",
            )
        except (ValidationError, GateInputError) as exc:
            form.add_error(None, getattr(exc, "messages", [str(exc)]))
        else:
            messages.success(request, _("Call outcome logged."))
            return _back(case)
    return _case_page(request, case, status=400, outcome_form=form, open_panel="outcome")


@login_required
@require_POST
def promise_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"loan": debtor.loans.all()})
    form = PromiseForm(request.POST, debtor=debtor)
    if form.is_valid():
        try:
            services.promise_record(
                actor=request.user,
                loan=form.cleaned_data["loan"],
                amount=form.cleaned_data["amount"],
                promised_date=form.cleaned_data["promised_date"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Promise to pay recorded."))
            return _back(case)
    return _case_page(request, case, status=400, promise_form=form, open_panel="promise")


@login_required
@require_POST
def plan_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"loan": debtor.loans.all()})
    form = PlanForm(request.POST, debtor=debtor)
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_propose(
                actor=request.user,
                loan=data["loan"],
                count=data["count"],
                first_date=data["first_date"],
                frequency=data["frequency"],
                discount_amount=data["discount_amount"],
                discount_reason=data["discount_reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if plan.needs_discount_approval:
                messages.success(
                    request, _("Plan proposed; the discount waits for a supervisor's approval.")
                )
            else:
                messages.success(request, _("Repayment plan set up and active."))
            return _back(case)
    return _case_page(request, case, status=400, plan_form=form, open_panel="plan")


@login_required
@require_POST
def plan_preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """The plan calculator: the schedule the inputs would give, without saving anything."""
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"loan": debtor.loans.all()})
    form = PlanForm(request.POST, debtor=debtor)
    schedule, total, loan = [], None, None
    if form.is_valid():
        data = form.cleaned_data
        loan = data["loan"]
        try:
            schedule = ledger.plan_schedule(
                total=loan.outstanding - data["discount_amount"],
                count=data["count"],
                first_date=data["first_date"],
                frequency=data["frequency"],
                currency=loan.currency,
            )
            total = sum(amount for _due, amount in schedule)
        except ValidationError as exc:
            apply_errors(form, exc)
    return render(
        request,
        "workspace/_plan_preview.html",
        {"form": form, "schedule": schedule, "total": total, "loan": loan},
    )


@login_required
@require_POST
def contact_point_status(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"contact_point": debtor.contact_points.all()})
    form = ContactPointStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to mark the contact point as."))
        return _back(case)
    point = debtor.contact_points.get(pk=form.cleaned_data["contact_point"])
    services.contact_point_mark(
        actor=request.user, contact_point=point, status=form.cleaned_data["status"]
    )
    messages.success(
        request,
        _("%(point)s marked as %(status)s.")
        % {"point": point.masked_value, "status": point.get_status_display()},
    )
    return _back(case)


@login_required
@require_POST
def hold_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            services.debtor_hold_record(
                actor=request.user,
                debtor=case.debtor,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data.get("until"),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Recorded. Contact is held as the policy requires."))
            return _back(case)
    return _case_page(request, case, status=400, hold_form=form, open_panel="hold")


@login_required
@require_POST
def message_send(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"contact_point": debtor.contact_points.all()})
    form = MessageForm(request.POST, debtor=debtor, templates=_templates_for_messages())
    if not form.is_valid():
        return _case_page(request, case, status=400, message_form=form, open_panel="message")
    point = form.cleaned_data["contact_point"]
    channel = Channel.EMAIL if point.kind == ContactPoint.Kind.EMAIL else Channel.SMS
    try:
        backend = get_backend(channel)
    except (ImportError, KeyError, LookupError):
        form.add_error(None, _("No backend is configured for this channel."))
        return _case_page(request, case, status=400, message_form=form, open_panel="message")
    subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
    try:
        if form.cleaned_data["template"] and not body.strip():
            subject, body = services.message_compose(
                debtor=debtor, template_key=form.cleaned_data["template"], channel=channel
            )
        services.message_send(
            actor=request.user,
            debtor=debtor,
            contact_point=point,
            channel=channel,
            body=body,
            subject=subject,
            backend=backend,
        )
    except ContactBlocked as blocked:
        return _case_page(request, case, message_form=form, blocked=blocked.decision)
    except (ValidationError, GateInputError, NoPolicy, TransportError) as exc:
        form.add_error(None, getattr(exc, "messages", [str(exc)]))
        return _case_page(request, case, status=400, message_form=form, open_panel="message")
    messages.success(request, _("Message sent."))
    return _back(case)


@login_required
@require_POST
def reveal(request: HttpRequest, case_id: int, what: str) -> HttpResponse:
    """Unmask the national id or one phone number; the reveal is logged before it is shown."""
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    if what == "national-id":
        value = services.national_id_reveal(actor=request.user, debtor=debtor)
    elif what == "contact-point":
        guard_ids(request.POST, {"contact_point": debtor.contact_points.all()})
        try:
            point = debtor.contact_points.get(pk=int(request.POST.get("contact_point", "")))
        except (ValueError, ContactPoint.DoesNotExist) as exc:
            raise Http404 from exc
        value = services.contact_point_reveal(actor=request.user, contact_point=point)
    else:
        raise Http404
    if request.htmx:
        return render(request, "workspace/_revealed.html", {"value": value})
    messages.info(request, _("Revealed: %(value)s (this was logged).") % {"value": value})
    return _back(case)


@login_required
@require_POST
def callback_done(request: HttpRequest, case_id: int, callback_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    callback = case.debtor.callbacks.filter(pk=callback_id).first()
    if callback is None:
        raise Http404
    try:
        services.callback_close(actor=request.user, callback=callback)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        raise
    return _back(case)


@login_required
@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    """A supervisor closes the case (charged off, deceased, bankrupt, withdrawn)."""
    case = get_case_for_user(request.user, case_id)
    if not is_supervisor(request.user):
        raise PermissionDenied
    form = CloseCaseForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.case_close(
                actor=request.user,
                case=case,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The case is closed; its pending reminders are stopped."))
            return _back(case)
    return _case_page(request, case, status=400, close_form=form, open_panel="close")
