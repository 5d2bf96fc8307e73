"""The debtor's pages under ``/p/``: HTTP in, a service call, a page out.

The link (``/p/<token>/``) is exchanged at once for the portal's own session and a redirect to
``/p/``, so the token appears in one request only (and is masked in its log lines). Every page
then reads the link from the session and checks it again: revoked or expired ends the session.
Nothing here reads ``request.user`` or the back office's session.
"""

from __future__ import annotations

import zoneinfo
from functools import wraps

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance.models import DebtorContactPreference
from debtors.files import file_response
from debtors.models import PromiseToPay, RepaymentPlan
from debtors.selectors import debtor_loans
from debtors.validators import apply_errors
from messaging import inbound
from messaging.templating import company_name
from portal import forms, ratelimit
from portal.session import clear_cookie, session_load, session_start, set_cookie
from selfservice import services
from selfservice.links import LinkInvalid, link_is_usable, link_resolve, token_digest
from selfservice.models import (
    PortalEvent,
    PortalFeedback,
    PortalLink,
    PortalPlanRequest,
    PortalSettings,
)
from selfservice.selectors import debtor_disputes

# Each language offered in its own words, whatever the page's language.
LANGUAGE_NAMES = [("en", "English"), ("zh-hans", "简体中文")]


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _bilingual(template: str, status: int) -> HttpResponse:
    """A page shown the same to everyone, in both languages: no debtor, no language known,
    nothing of the request (not even the back office's user) goes into it."""
    parts = []
    for code in ("en", "zh-hans"):
        with translation.override(code):
            parts.append(render_to_string(template, {"code": code}))
    with translation.override("en"):
        body = render_to_string(
            "portal/bilingual.html", {"parts": parts, "company": company_name()}
        )
    return _private(HttpResponse(body, status=status))


def invalid_link(request: HttpRequest) -> HttpResponse:
    """The one answer to a forged, altered, expired, revoked or unknown link."""
    return _bilingual("portal/_invalid.html", status=404)


def too_many(request: HttpRequest) -> HttpResponse:
    response = _bilingual("portal/_too_many.html", status=429)
    response["Retry-After"] = str(ratelimit.WINDOW_SECONDS)
    return response


def _zone(debtor) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(debtor.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def portal_page(*, verified: bool = True):
    """Load the portal session and its link, count the request, speak the debtor's language.

    ``verified``: the page needs a confirmed identity (otherwise the overview is shown).
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            session = session_load(request)
            link_key = f"id:{session.link_id}" if session else ""
            if not ratelimit.allow(request, link_key=link_key):
                return too_many(request)
            link = None
            if session is not None:
                link = (
                    PortalLink.objects.select_related("debtor", "loan")
                    .filter(pk=session.link_id)
                    .first()
                )
            if session is None or link is None or not link_is_usable(link):
                if session is not None:
                    session.end()
                response = invalid_link(request)
                clear_cookie(response)
                return response
            if verified and not session.verified:
                return redirect("portal:home")
            limits = PortalSettings.current()
            language = session.language or link.debtor.preferred_language or "en"
            with translation.override(language), timezone.override(_zone(link.debtor)):
                request.portal_session, request.portal_link = session, link
                request.portal_limits = limits
                response = view(request, *args, **kwargs)
            # The view may have replaced the session (identity confirmed: a new key).
            session = request.portal_session
            if getattr(request, "portal_session_ended", False):
                clear_cookie(response)
            else:
                session.save(minutes=limits.session_minutes)
                set_cookie(response, session, minutes=limits.session_minutes)
            response["Content-Language"] = language
            return _private(response)

        return wrapped

    return decorate


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    link = request.portal_link
    context = {
        "debtor": link.debtor,
        "session": request.portal_session,
        "languages": LANGUAGE_NAMES,
        "current_language": translation.get_language(),
        "company": company_name(),
        "limits": request.portal_limits,
        **context,
    }
    return render(request, template, context, status=status)


def _done(request, message: str) -> HttpResponse:
    session = request.portal_session
    session.flash = message
    session.rate_prompt = True
    return redirect("portal:home")


# --- The link -------------------------------------------------------------------------------


@require_GET
@sensitive_variables("token")
def landing(request: HttpRequest, token: str) -> HttpResponse:
    """Open a link: check it, start the portal's session, and leave the token's URL at once."""
    if not ratelimit.allow(request, link_key=f"t:{token_digest(token)}"):
        return too_many(request)
    try:
        link = link_resolve(token)
    except LinkInvalid:
        return invalid_link(request)
    now = timezone.now()
    PortalLink.objects.filter(pk=link.pk).update(last_opened_at=now)
    services.event_record(debtor=link.debtor, kind=PortalEvent.Kind.OPENED, link=link, now=now)
    previous = session_load(request)
    if previous is not None:
        previous.end()
    session = session_start(link.pk, language=link.debtor.preferred_language or "en")
    limits = PortalSettings.current()
    session.save(minutes=limits.session_minutes)
    response = redirect("portal:home")
    set_cookie(response, session, minutes=limits.session_minutes)
    return _private(response)


# --- Overview and identity ------------------------------------------------------------------


def _account(debtor):
    """The debtor's loans with everything the page shows (a fixed number of queries)."""
    loans = debtor_loans(debtor)
    # A plan the debtor proposed stays in view after it is declined (cancelled).
    proposed = set(
        PortalPlanRequest.objects.filter(debtor=debtor)
        .order_by("-created_at")
        .values_list("plan_id", flat=True)[:20]
    )
    for loan in loans:
        loan.portal_plans = [
            p
            for p in loan.plan_list
            if p.status != RepaymentPlan.Status.CANCELLED or p.pk in proposed
        ]
        loan.active_promises = [
            p for p in loan.promise_list if p.status == PromiseToPay.Status.PENDING
        ]
    return loans


def _welcome(request, *, form, locked: bool, status: int = 200) -> HttpResponse:
    """The page that asks for the identity, with masked references of the open loans."""
    debtor = request.portal_link.debtor
    open_loans = services.open_loans(debtor)
    return _render(
        request,
        "portal/welcome.html",
        {
            "form": form,
            "loan_count": len(open_loans),
            "masked_refs": ["…" + loan.external_ref[-4:] for loan in open_loans],
            "locked": locked,
            "can_verify": services.identity_can_be_checked(debtor),
        },
        status=status,
    )


@portal_page(verified=False)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    link, session = request.portal_link, request.portal_session
    debtor = link.debtor
    if not session.verified:
        return _welcome(request, form=forms.IdentityForm(), locked=link.is_locked(timezone.now()))
    loans = _account(debtor)
    feedback_given = PortalFeedback.objects.filter(link=link).exists()
    totals: dict[str, object] = {}
    for loan in loans:
        if not loan.is_closed:
            totals[loan.currency] = totals.get(loan.currency, 0) + loan.outstanding
    return _render(
        request,
        "portal/home.html",
        {
            "loans": loans,
            "totals": sorted(totals.items()),
            "flash": session.pop_flash(),
            "ask_rating": session.rate_prompt and not feedback_given,
            "feedback_form": forms.FeedbackForm(),
            "statuses": RepaymentPlan.Status,
            "unread_inbox": inbound.inbox_messages(debtor).filter(read_at__isnull=True).count(),
        },
    )


@portal_page(verified=False)
@require_POST
@sensitive_post_parameters("date_of_birth", "id_last4")
def verify(request: HttpRequest) -> HttpResponse:
    link, session = request.portal_link, request.portal_session
    form = forms.IdentityForm(request.POST)
    locked = link.is_locked(timezone.now())
    if form.is_valid() and not locked:
        try:
            ok = services.identity_verify(
                link=link,
                date_of_birth=form.cleaned_data.get("date_of_birth"),
                id_last4=form.cleaned_data.get("id_last4") or "",
            )
        except services.LinkLocked:
            ok, locked = False, True
        if ok:
            # A new key once the identity is confirmed: a key seen before is worth nothing.
            session.end()
            fresh = session_start(link.pk, language=session.language)
            fresh.verified = True
            request.portal_session = fresh
            return redirect("portal:home")
        locked = link.is_locked(timezone.now())
        if not locked:
            form.add_error(None, _("That does not match our records. Please try again."))
    return _welcome(request, form=form, locked=locked, status=400 if form.errors else 200)


@portal_page(verified=False)
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    form = forms.LanguageForm(request.POST)
    if form.is_valid():
        request.portal_session.language = form.cleaned_data["language"]
    return redirect("portal:home")


@portal_page(verified=False)
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    request.portal_session.end()
    request.portal_session_ended = True
    return _render(request, "portal/left.html", {})


# --- The inbox ------------------------------------------------------------------------------


@portal_page()
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The debtor's in-app messages, newest first; unread ones marked."""
    messages = list(inbound.inbox_messages(request.portal_link.debtor)[:100])
    return _render(request, "portal/inbox.html", {"inbox": messages})


@portal_page()
@require_GET
def inbox_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """One message, opened: recorded as read."""
    message = inbound.inbox_messages(request.portal_link.debtor).filter(pk=message_id).first()
    if message is None:
        raise Http404(_("No such message."))
    inbound.inbox_read(message)
    return _render(request, "portal/inbox_message.html", {"message": message})


# --- Actions --------------------------------------------------------------------------------


@portal_page()
@require_http_methods(["GET", "POST"])
def promise(request: HttpRequest) -> HttpResponse:
    link = request.portal_link
    loans = services.open_loans(link.debtor)
    form = forms.PromiseForm(request.POST or None, loans=loans, initial_loan=link.loan)
    if request.method == "POST" and form.is_valid():
        loan = form.chosen_loan()
        try:
            services.portal_promise(
                link=link,
                loan=loan,
                amount=form.cleaned_data["amount"],
                promised_date=form.cleaned_data["promised_date"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, _("Thank you. Your promise to pay is recorded."))
    return _render(
        request,
        "portal/promise.html",
        {"form": form, "loans": loans},
        status=400 if form.errors else 200,
    )


@portal_page()
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest) -> HttpResponse:
    link = request.portal_link
    loans = services.open_loans(link.debtor)
    form = forms.PlanForm(request.POST or None, loans=loans, initial_loan=link.loan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.portal_plan_propose(
                link=link,
                loan=form.chosen_loan(),
                count=data["count"],
                first_date=data["first_date"],
                frequency=data["frequency"],
                note=data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if outcome.accepted:
                return _done(request, _("Your repayment plan is set up. Thank you."))
            return _done(
                request,
                _(
                    "Thank you. Your plan goes beyond what we can accept at once, so a member "
                    "of our team will review it. You will see the answer on this page."
                ),
            )
    return _render(
        request,
        "portal/plan.html",
        {"form": form, "loans": loans},
        status=400 if form.errors else 200,
    )


@portal_page()
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    link = request.portal_link
    debtor = link.debtor
    opted_out = set(
        debtor.channel_consents.filter(contact_point=None, opted_out_at__isnull=False).values_list(
            "channel", flat=True
        )
    )
    suits = DebtorContactPreference.objects.filter(
        debtor=debtor,
        source=DebtorContactPreference.Source.PORTAL,
        kind=DebtorContactPreference.Kind.PREFERRED,
    ).first()
    initial = {
        "channels": [c for c in services.PORTAL_CHANNELS if c not in opted_out],
        "suits_from": f"{suits.start_time:%H:%M}" if suits else "",
        "suits_until": f"{suits.end_time:%H:%M}" if suits else "",
    }
    form = forms.ContactForm(initial=initial)
    cease_form = forms.CeaseForm()
    if request.method == "POST" and request.POST.get("action") == "cease":
        cease_form = forms.CeaseForm(request.POST)
        if cease_form.is_valid():
            services.portal_cease_contact(link=link, note=cease_form.cleaned_data["note"])
            return _done(
                request,
                _("We have stopped all contact with you. You can still use this page."),
            )
    elif request.method == "POST":
        form = forms.ContactForm(request.POST)
        if form.is_valid():
            try:
                services.portal_contact_choices(
                    link=link,
                    allowed_channels=form.cleaned_data["channels"],
                    suits_from=form.cleaned_data["suits_from"],
                    suits_until=form.cleaned_data["suits_until"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return _done(request, _("Your contact choices are saved."))
    status = 400 if form.errors or cease_form.errors else 200
    return _render(
        request,
        "portal/contact.html",
        {"form": form, "cease_form": cease_form, "ceased": debtor.cease_communication},
        status=status,
    )


@portal_page()
@require_http_methods(["GET", "POST"])
def dispute(request: HttpRequest) -> HttpResponse:
    link = request.portal_link
    form = forms.DisputeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_dispute(
                link=link,
                reason=form.cleaned_data["reason"],
                document=form.cleaned_data.get("document") or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(
                request,
                _(
                    "Your dispute is recorded. We will not contact you about this account "
                    "until it has been looked into."
                ),
            )
    disputes = list(debtor_disputes(link.debtor)[:10])
    return _render(
        request,
        "portal/dispute.html",
        {"form": form, "disputes": disputes},
        status=400 if form.errors else 200,
    )


@portal_page()
@require_GET
def dispute_document(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """A document the debtor attached to one of their own disputes; any other is 404."""
    dispute = debtor_disputes(request.portal_link.debtor).filter(pk=dispute_id).first()
    if dispute is None:
        raise Http404(_("No such document."))
    return file_response(dispute.document, download_name=f"dispute-{dispute.pk}")


@portal_page()
@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    form = forms.FeedbackForm(request.POST)
    if form.is_valid():
        services.portal_feedback(
            link=request.portal_link,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
        request.portal_session.rate_prompt = False
        request.portal_session.flash = _("Thank you for your feedback.")
    return redirect("portal:home")
