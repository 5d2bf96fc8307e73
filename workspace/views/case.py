"""The case page and its actions. Each action calls one service and returns to the page, where
the timeline already shows it; a form with errors is shown again with what was typed, each
error next to its field.

A collector's call runs as one flow: the call bar (always in view) asks the gate and shows the
number to dial; the wrap-up records the outcome and what was agreed (a promise, a plan, a
callback or just a note) in one form, and its "Save and next case" goes to the next case. The
page's forms post through htmx and the page is redrawn in place, so nothing typed or scrolled
to is lost; without JavaScript they post and redirect as plain forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
from messaging.inbound import lost_contact
from messaging.models import MessageTemplate
from reminders.defaults import template_label
from scoring.selectors import score_of_case
from workspace.forms import (
    CloseCaseForm,
    ContactPointStatusForm,
    HoldForm,
    MessageForm,
    NoteForm,
    PlaceCallForm,
    PlanForm,
    WrapUp,
)
from workspace.selectors.case_page import call_bar, open_callbacks
from workspace.selectors.replies import replies_read
from workspace.selectors.timeline import timeline
from workspace.views.common import guard_ids, to_next_case


def _templates_for_messages():
    """(key, label) of the SMS and email templates."""
    keys = (
        MessageTemplate.objects.filter(channel__in=["sms", "email"])
        .values_list("key", flat=True)
        .distinct()
        .order_by("key")
    )
    return [(k, template_label(k)) for k in keys]


# A transport that failed: the attempt stays recorded; the collector is told and may retry.
TransportError = (InvalidPermit, TransientError, PermanentError, OutcomeUnknown)

PANELS = (
    # name, element id, title, keyboard shortcut
    ("outcome", "outcome", gettext_lazy("Wrap up the call"), "o"),
    ("note", "panel-note", gettext_lazy("Add a note"), "t"),
    ("message", "panel-message", gettext_lazy("Send an SMS or email"), "m"),
    ("hold", "panel-hold", gettext_lazy("Dispute, hardship or cease request"), "h"),
    ("close", "panel-close", gettext_lazy("Close the case"), ""),
)
# Panels only a supervisor sees.
SUPERVISOR_PANELS = ("close",)
PANEL_NAMES = tuple(name for name, _id, _title, _key in PANELS)


def _panel_form(name: str, debtor, pending):
    """A fresh form for one action panel."""
    if name == "outcome":
        return WrapUp(debtor=debtor, attempt=pending[0].pk if pending else None)
    if name == "note":
        return NoteForm()
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
    pending = _pending_calls(request.user, debtor)
    contact_points = list(debtor.contact_points.order_by("kind", "-is_primary", "id"))
    open_panel = overrides.get("open_panel", "")
    panels = []
    for name, element_id, title, key in PANELS:
        if name in SUPERVISOR_PANELS and (
            not is_supervisor(request.user) or case.status == case.Status.CLOSED
        ):
            continue
        bound = overrides.get(f"{name}_form")
        is_open = bound is not None or open_panel == name or (name == "outcome" and bool(pending))
        form = bound or (_panel_form(name, debtor, pending) if is_open else None)
        panels.append(
            {
                "name": name,
                "id": element_id,
                "title": title,
                "key": key,
                "open": is_open,
                "form": form,
                "template": f"workspace/panels/{name}.html",
            }
        )
    if pending and request.GET.get("call", "") == str(pending[0].pk):
        # The gate just allowed this call: the wrap-up's outcome has the cursor, ready for it.
        wrap_up = next(p["form"] for p in panels if p["name"] == "outcome")
        wrap_up.outcome.fields["code"].widget.attrs["autofocus"] = True
    loans = debtor_loans(debtor)
    totals: dict[str, object] = {}
    for loan in loans:
        if not loan.is_closed:
            totals[loan.currency] = totals.get(loan.currency, 0) + loan.outstanding
    context = {
        "case": case,
        "debtor": debtor,
        "contact_points": contact_points,
        "lost_contact": lost_contact(contact_points),
        "loans": loans,
        "totals": sorted(totals.items()),
        "callbacks": open_callbacks(debtor),
        "pending_calls": pending,
        "call_form": overrides.get("call_form")
        or PlaceCallForm(debtor=debtor, contact_points=contact_points),
        "call_bar": call_bar(debtor, contact_points, pending=pending, now=now),
        "timeline": timeline(debtor, loans=loans),
        "call_now": contactability([debtor], channel=Channel.CALL, at=now).get(debtor.pk),
        "score": score_of_case(case),
        "blocked": overrides.get("blocked"),
        "debtor_zone": _debtor_zone(debtor, overrides.get("blocked")),
        "viewer_zone": timezone.get_current_timezone_name(),
        "can_approve": is_supervisor(request.user),
        "collectors": services.collectors() if is_supervisor(request.user) else [],
        "panels": panels,
        "forms": {p["name"]: p["form"] for p in panels},
    }
    response = render(request, "workspace/case.html", context, status=status)
    if request.htmx:
        # Redrawn in place after a form: the address stays the case's own (not the form's,
        # which answers only POST), and the browser's history gains no entry.
        response["HX-Replace-Url"] = reverse("case-detail", args=[case.pk])
    return response


@login_required
@require_GET
def panel(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    """One action panel's form, loaded when the collector opens it."""
    case = get_case_for_user(request.user, case_id)
    if name not in PANEL_NAMES or (name in SUPERVISOR_PANELS and not is_supervisor(request.user)):
        raise Http404
    pending = _pending_calls(request.user, case.debtor)
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


def _pending_calls(user, debtor) -> list:
    """The user's calls to the debtor awaiting an outcome, newest first, with their numbers."""
    return list(
        services.pending_calls(actor=user, debtor=debtor).select_related("contact_point")[:5]
    )


def _debtor_zone(debtor, blocked) -> str:
    if blocked is not None and blocked.timezones:
        return blocked.timezones[0]
    return debtor.timezone or ""


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    replies_read(request.user, case)
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
def call_place(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"contact_point": debtor.contact_points.all()})
    form = PlaceCallForm(request.POST, debtor=debtor)
    if not form.is_valid():
        return _case_page(request, case, status=400, call_form=form)
    point = form.cleaned_data["contact_point"]
    try:
        attempt = services.call_place(actor=request.user, debtor=debtor, contact_point=point)
    except ContactBlocked as blocked:
        return _case_page(request, case, call_form=form, blocked=blocked.decision)
    except (ValidationError, GateInputError, NoPolicy) as exc:
        form.add_error(None, getattr(exc, "messages", [str(exc)]))
        return _case_page(request, case, status=400, call_form=form)
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
def wrap_up(request: HttpRequest, case_id: int) -> HttpResponse:
    """The end of a call: its outcome and note, and what was agreed (a promise, a plan or a
    callback), recorded together or not at all. "Save and next case" then goes on to the
    collector's next case."""
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    own_calls = ContactAttempt.objects.filter(debtor=debtor, channel=Channel.CALL)
    loans = debtor.loans.all()
    guard_ids(request.POST, {"attempt": own_calls, "promise-loan": loans, "plan-loan": loans})
    wrap = WrapUp(request.POST, debtor=debtor)
    if wrap.is_valid():
        try:
            with transaction.atomic():
                done = _wrap_up_record(request.user, debtor, wrap, own_calls)
        except WrapUpRefused:
            pass  # every write rolled back; the errors are on the forms
        else:
            messages.success(request, done)
            if request.POST.get("then") == "next":
                return to_next_case(request)
            return _back(case)
    return _case_page(request, case, status=400, outcome_form=wrap, open_panel="outcome")


class WrapUpRefused(Exception):
    """A service refused part of a wrap-up; its errors are on the form that part came from."""


def _wrap_up_record(user, debtor, wrap: WrapUp, own_calls) -> str:
    """Record a valid wrap-up, every part or (``WrapUpRefused``) none: the caller's
    transaction is rolled back. Returns what to tell the collector."""
    outcome = wrap.outcome.cleaned_data
    attempt = own_calls.get(pk=outcome["attempt"]) if outcome.get("attempt") else None
    try:
        services.call_outcome_log(
            actor=user,
            debtor=debtor,
            code=outcome["code"],
            note=outcome["note"],
            attempt=attempt,
            direction="outbound" if attempt else "inbound",
        )
    except ValidationError as exc:
        apply_errors(wrap.outcome, exc)
        raise WrapUpRefused from exc
    except GateInputError as exc:
        wrap.outcome.add_error(None, str(exc))
        raise WrapUpRefused from exc
    try:
        return _follow_up_record(user, debtor, wrap, outcome["note"])
    except ValidationError as exc:
        apply_errors(wrap.chosen, exc)
        raise WrapUpRefused from exc


def _follow_up_record(user, debtor, wrap: WrapUp, note: str) -> str:
    data = wrap.chosen.cleaned_data if wrap.chosen is not None else {}
    if wrap.follow_up == "promise":
        services.promise_record(
            actor=user,
            loan=data["loan"],
            amount=data["amount"],
            promised_date=data["promised_date"],
        )
        return _("Call outcome and promise to pay recorded.")
    if wrap.follow_up == "plan":
        plan = services.plan_propose(
            actor=user,
            loan=data["loan"],
            count=data["count"],
            first_date=data["first_date"],
            frequency=data["frequency"],
            discount_amount=data["discount_amount"],
            discount_reason=data["discount_reason"],
        )
        if plan.needs_discount_approval:
            return _(
                "Call outcome recorded; the plan's discount waits for a supervisor's approval."
            )
        return _("Call outcome recorded; the repayment plan is active.")
    if wrap.follow_up == "callback":
        services.callback_schedule(
            actor=user, debtor=debtor, due_at=data["due_at"], note=data["note"] or note
        )
        return _("Call outcome recorded and callback scheduled.")
    return _("Call outcome logged.")


@login_required
@require_POST
def plan_preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """The plan calculator: the schedule the inputs would give, without saving anything."""
    case = get_case_for_user(request.user, case_id)
    debtor = case.debtor
    guard_ids(request.POST, {"plan-loan": debtor.loans.all()})
    form = PlanForm(request.POST, debtor=debtor, prefix="plan")
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
        backend = get_backend(channel, to=point.value)
    except (ImportError, KeyError, LookupError, PermanentError):
        form.add_error(None, _("No backend is configured for this channel."))
        return _case_page(request, case, status=400, message_form=form, open_panel="message")
    subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
    metadata = {}
    try:
        if form.cleaned_data["template"] and not body.strip():
            subject, body, metadata = services.message_compose(
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
            metadata=metadata,
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
    # A page of its own, never a message: messages wait in the session, in the database.
    return render(request, "workspace/revealed.html", {"value": value, "case": case})


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
