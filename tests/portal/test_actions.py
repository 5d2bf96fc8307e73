"""What the debtor does on the portal, through the domain services, attributed to the portal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Case
from compliance.models import DebtorContactPreference
from debtors.audit import PORTAL_ACTOR
from debtors.models import ChannelConsent, PromiseToPay, RepaymentPlan
from selfservice import services
from selfservice.models import (
    PortalDispute,
    PortalEvent,
    PortalFeedback,
    PortalPlanRequest,
    PortalSettings,
)
from tests.portal.conftest import local_today
from workspace.selectors.audit import debtor_audit
from workspace.selectors.timeline import timeline

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _today():
    return local_today()


def test_a_promise_within_the_limits_is_recorded_for_the_debtor(portal):
    portal.signed_in()
    loan = portal.debtor.loans.get()
    when = _today() + dt.timedelta(days=10)
    response = portal.client.post(
        "/p/promise/", {"loan": loan.pk, "amount": "150.00", "promised_date": when.isoformat()}
    )
    assert response.status_code == 302
    promise = PromiseToPay.objects.get(loan=loan)
    assert promise.amount == Decimal("150.00") and promise.promised_date == when
    assert promise.created_by is None
    assert promise.history.get().actor_label == PORTAL_ACTOR
    page = portal.client.get("/p/").content.decode()
    assert "Your promise to pay is recorded" in page and 'id="rating-form"' in page


def test_a_promise_beyond_the_balance_or_the_days_is_refused(portal):
    portal.signed_in()
    loan = portal.debtor.loans.get()
    limits = PortalSettings.current()
    too_late = _today() + dt.timedelta(days=limits.promise_max_days + 1)
    cases = [
        {"amount": "600.01", "promised_date": (_today() + dt.timedelta(days=1)).isoformat()},
        {"amount": "0", "promised_date": (_today() + dt.timedelta(days=1)).isoformat()},
        {"amount": "10", "promised_date": too_late.isoformat()},
        {"amount": "10", "promised_date": (_today() - dt.timedelta(days=1)).isoformat()},
    ]
    for data in cases:
        response = portal.client.post("/p/promise/", {"loan": loan.pk, **data})
        assert response.status_code == 400, data
    assert not PromiseToPay.objects.exists()


def test_another_debtors_loan_cannot_be_named(portal, owing):
    from .conftest import owing_debtor

    _other, other_loan = owing_debtor()
    portal.signed_in()
    response = portal.client.post(
        "/p/promise/",
        {
            "loan": other_loan.pk,
            "amount": "10",
            "promised_date": (_today() + dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert not PromiseToPay.objects.exists()


def test_a_plan_inside_the_limits_starts_at_once(portal):
    portal.signed_in()
    loan = portal.debtor.loans.get()
    response = portal.client.post(
        "/p/plan/",
        {
            "loan": loan.pk,
            "count": "6",
            "frequency": "monthly",
            "first_date": (_today() + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    plan = RepaymentPlan.objects.get(loan=loan)
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert plan.installments.count() == 6
    assert PortalPlanRequest.objects.get(plan=plan).within_limits
    assert Case.objects.get(debtor=portal.debtor).status == Case.Status.IN_PLAN
    assert {h.actor_label for h in plan.history.all()} == {PORTAL_ACTOR}


def test_a_plan_outside_the_limits_waits_for_review_and_the_debtor_sees_the_outcome(
    portal, supervisor, collector
):
    portal.signed_in()
    loan = portal.debtor.loans.get()
    data = {
        "loan": loan.pk,
        "count": "24",
        "frequency": "weekly",
        "first_date": (_today() + dt.timedelta(days=3)).isoformat(),
    }
    assert portal.client.post("/p/plan/", data).status_code == 302
    plan = RepaymentPlan.objects.get(loan=loan)
    assert plan.status == RepaymentPlan.Status.PROPOSED
    proposal = PortalPlanRequest.objects.get(plan=plan)
    assert set(proposal.outside_limits) == {"installments", "minimum"}
    assert "Waiting for our review" in portal.client.get("/p/").content.decode()

    # Visible on the supervisors' approvals page; a collector without the case cannot decide.
    from django.test import Client

    staff = Client()
    staff.force_login(supervisor)
    assert f"/portal/plans/{proposal.pk}/decide/" in staff.get("/approvals/").content.decode()
    outsider = Client()
    outsider.force_login(collector)
    assert (
        outsider.post(f"/portal/plans/{proposal.pk}/decide/", {"decision": "approve"}).status_code
        == 404
    )
    staff.post(f"/portal/plans/{proposal.pk}/decide/", {"decision": "decline"})
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.CANCELLED
    assert "Not accepted" in portal.client.get("/p/").content.decode()
    assert PortalEvent.objects.get(kind=PortalEvent.Kind.PLAN_DECLINED).actor_label == "sam"


def test_an_approved_proposal_becomes_the_active_plan(portal, supervisor):
    portal.signed_in()
    loan = portal.debtor.loans.get()
    outcome = services.portal_plan_propose(
        link=portal_link(portal),
        loan=loan,
        count=20,
        first_date=_today() + dt.timedelta(days=3),
        frequency="monthly",
    )
    assert not outcome.accepted
    assert Case.objects.get(debtor=portal.debtor).status != Case.Status.IN_PLAN
    plan = services.plan_request_decide(
        actor=supervisor, request=outcome.plan.portal_request, approve=True
    )
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert Case.objects.get(debtor=portal.debtor).status == Case.Status.IN_PLAN
    assert "Plan active" in portal.client.get("/p/").content.decode()


def portal_link(portal):
    from selfservice.models import PortalLink

    return PortalLink.objects.get(debtor=portal.debtor)


def test_contact_choices_become_opt_outs_and_inconvenient_times(portal):
    portal.signed_in()
    response = portal.client.post(
        "/p/contact/",
        {
            "action": "choices",
            "channels": ["email", "letter"],
            "suits_from": "18:00",
            "suits_until": "21:00",
        },
    )
    assert response.status_code == 302
    opted_out = set(
        ChannelConsent.objects.filter(debtor=portal.debtor, opted_out_at__isnull=False).values_list(
            "channel", flat=True
        )
    )
    assert opted_out == {"call", "sms", "in_app"}
    assert set(
        ChannelConsent.objects.filter(debtor=portal.debtor).values_list("opt_out_source", flat=True)
    ) == {"portal"}
    blocked = DebtorContactPreference.objects.get(debtor=portal.debtor, kind="inconvenient")
    assert (blocked.start_time, blocked.end_time) == (dt.time(21), dt.time(18))
    # Saving again replaces the hours; ticking everything lifts the opt-outs.
    portal.client.post(
        "/p/contact/",
        {"action": "choices", "channels": ["call", "sms", "email", "in_app", "letter"]},
    )
    assert not ChannelConsent.objects.filter(opted_out_at__isnull=False).exists()
    assert not DebtorContactPreference.objects.filter(debtor=portal.debtor).exists()


def test_asking_to_stop_all_contact_puts_a_cease_hold(portal):
    portal.signed_in()
    assert portal.client.post("/p/contact/", {"action": "cease"}).status_code == 400
    response = portal.client.post("/p/contact/", {"action": "cease", "confirm": "on"})
    assert response.status_code == 302
    portal.debtor.refresh_from_db()
    assert portal.debtor.cease_communication
    assert portal.debtor.history.first().actor_label == PORTAL_ACTOR


def test_a_dispute_with_a_document_puts_the_account_on_hold(portal, media):
    portal.signed_in()
    upload = SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf")
    response = portal.client.post(
        "/p/dispute/", {"reason": "I paid this in full last year", "document": upload}
    )
    assert response.status_code == 302
    portal.debtor.refresh_from_db()
    assert portal.debtor.dispute and "paid this in full" in portal.debtor.dispute_reason
    dispute = PortalDispute.objects.get()
    assert dispute.document_type == "application/pdf" and dispute.document_size == len(PDF)
    assert "letter" not in dispute.document.name
    assert Case.objects.get(debtor=portal.debtor).status == Case.Status.ON_HOLD


def test_a_document_is_judged_by_its_content_and_its_size(portal, media):
    portal.signed_in()
    fake = SimpleUploadedFile(
        "invoice.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = portal.client.post("/p/dispute/", {"reason": "Not mine at all", "document": fake})
    assert response.status_code == 400
    big = SimpleUploadedFile(
        "scan.png", PNG + b"\x00" * (5 * 1024 * 1024), content_type="image/png"
    )
    response = portal.client.post("/p/dispute/", {"reason": "Not mine at all", "document": big})
    assert response.status_code == 400
    portal.debtor.refresh_from_db()
    assert not portal.debtor.dispute and not PortalDispute.objects.exists()
    ok = SimpleUploadedFile("scan.txt", PNG, content_type="text/plain")
    assert (
        portal.client.post("/p/dispute/", {"reason": "Not mine", "document": ok}).status_code == 302
    )
    assert PortalDispute.objects.get().document_type == "image/png"


def test_the_dispute_document_is_served_to_staff_in_scope_only(
    portal, media, supervisor, collector
):
    from django.test import Client

    portal.signed_in()
    portal.client.post(
        "/p/dispute/",
        {"reason": "Wrong amount", "document": SimpleUploadedFile("a.png", PNG)},
    )
    dispute = PortalDispute.objects.get()
    staff, outsider = Client(), Client()
    staff.force_login(supervisor)
    outsider.force_login(collector)
    response = staff.get(f"/portal/disputes/{dispute.pk}/document/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert outsider.get(f"/portal/disputes/{dispute.pk}/document/").status_code == 404


def test_a_rating_shows_on_the_supervisors_dashboard(portal, supervisor):
    from django.test import Client

    portal.signed_in()
    portal.client.post("/p/rate/", {"score": "4", "comment": "Clear and quick"})
    assert PortalFeedback.objects.get().score == 4
    assert portal.client.post("/p/rate/", {"score": "9"}).status_code == 302
    assert PortalFeedback.objects.get().score == 4
    other = services.portal_feedback(link=portal_link(portal), score=2)
    assert other.score == 2 and PortalFeedback.objects.count() == 1
    staff = Client()
    staff.force_login(supervisor)
    figure = staff.get("/dashboards/").content.decode()
    assert 'id="portal-rating"' in figure and "2.0 out of 5 from 1 rating" in figure


def test_every_action_is_in_the_timeline_and_the_audit_history(portal, media):
    start = timezone.now()
    portal.signed_in()
    loan = portal.debtor.loans.get()
    portal.client.post(
        "/p/promise/",
        {
            "loan": loan.pk,
            "amount": "10",
            "promised_date": (_today() + dt.timedelta(days=1)).isoformat(),
        },
    )
    portal.client.post("/p/contact/", {"action": "choices", "channels": ["email"]})
    portal.client.post("/p/dispute/", {"reason": "Not my loan"})
    portal.client.post("/p/rate/", {"score": "5"})
    kinds = {e.kind for e in PortalEvent.objects.filter(debtor=portal.debtor)}
    assert {"opened", "verified", "promise", "contact", "dispute", "feedback"} <= kinds
    entries = timeline(portal.debtor)
    portal_entries = [e for e in entries if e.kind == "portal"]
    assert {e.actor for e in portal_entries} == {PORTAL_ACTOR}
    assert any(e.title == "Dispute raised on the portal" for e in portal_entries)
    audit = debtor_audit(portal.debtor)
    assert PORTAL_ACTOR in {c.actor for c in audit}
    assert {c.actor for c in audit if c.at >= start} == {PORTAL_ACTOR}


def test_a_plan_from_the_year_9999_is_refused(portal):
    portal.signed_in()
    loan = portal.debtor.loans.get()
    response = portal.client.post(
        "/p/plan/",
        {"loan": loan.pk, "count": "120", "frequency": "monthly", "first_date": "9999-01-01"},
    )
    assert response.status_code == 400
    assert not RepaymentPlan.objects.exists()
