"""Supervisors: team view, reassignment, audit history, decision log, ledger check, approvals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from cases.models import Case
from cases.services import call_place, plan_propose, promise_record
from compliance.gate import ContactBlocked
from compliance.ledger import seal
from compliance.models import ContactDecision
from debtors.models import RepaymentPlan

from .conftest import DAYTIME, NIGHT


@pytest.fixture
def sup(client, supervisor):
    client.force_login(supervisor)
    return client


def test_team_view_counts_each_collectors_work(sup, collector, work, phone, loan):
    with time_machine.travel(DAYTIME, tick=False):
        call_place(actor=collector, debtor=work.debtor, contact_point=phone)
        promise_record(
            actor=collector, loan=loan, amount=Decimal("20"), promised_date=dt.date(2026, 3, 5)
        )
        response = sup.get(reverse("team"))
    stats = {s.user.username: s for s in response.context["stats"]}
    assert stats["alice"].queue_size == 1
    assert stats["alice"].contacts_today == 1
    assert stats["alice"].promises_today == 1


def test_team_view_runs_a_bounded_number_of_queries(
    sup, work, other_collector, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        sup.get(reverse("team"))


def test_bulk_reassign(sup, work, others_case, other_collector, supervisor):
    response = sup.post(
        reverse("reassign"),
        {"cases": [work.pk, others_case.pk], "to_user": other_collector.pk, "next": "/team/"},
    )
    assert response.status_code == 302
    assert set(Case.objects.values_list("assigned_to", flat=True)) == {other_collector.pk}
    assert Case.history.filter(id=work.pk).first().actor_label == supervisor.username


def test_reassign_to_a_non_collector_is_refused(sup, work, supervisor):
    sup.post(reverse("reassign"), {"cases": [work.pk], "to_user": supervisor.pk})
    work.refresh_from_db()
    assert work.assigned_to.username == "alice"


def test_audit_history_shows_field_by_field_changes(sup, collector, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        plan = plan_propose(
            actor=collector,
            loan=loan,
            count=2,
            first_date=dt.date(2026, 3, 10),
            frequency="monthly",
            discount_amount=Decimal("50"),
            discount_reason="hardship",
        )
    body = sup.get(reverse("audit-debtor", args=[work.debtor_id])).content.decode()
    assert "discount reason" in body and "hardship" in body
    assert "alice" in body
    plan_page = sup.get(reverse("audit-plan", args=[plan.pk])).content.decode()
    assert "hardship" in plan_page
    loan_page = sup.get(reverse("audit-loan", args=[loan.pk]))
    assert loan_page.status_code == 200


def test_decision_log_filters_and_ledger_check(sup, collector, work, phone):
    with time_machine.travel(NIGHT, tick=False), pytest.raises(ContactBlocked):
        call_place(actor=collector, debtor=work.debtor, contact_point=phone)
    with time_machine.travel(DAYTIME, tick=False):
        call_place(actor=collector, debtor=work.debtor, contact_point=phone)
    blocked = sup.get(
        reverse("decisions"), {"reason": "outside_contact_hours", "verdict": "blocked"}
    )
    assert len(blocked.context["rows"]) == 1
    by_collector = sup.get(reverse("decisions"), {"collector": collector.pk})
    assert len(by_collector.context["rows"]) == 2
    seal()
    response = sup.post(reverse("verify-ledger"), follow=True)
    assert "The ledger is intact." in response.content.decode()
    assert ContactDecision.objects.filter(row_hash__isnull=False).count() == 2


def test_approve_a_discount_activates_the_plan(sup, collector, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        plan = plan_propose(
            actor=collector,
            loan=loan,
            count=2,
            first_date=dt.date(2026, 3, 10),
            frequency="monthly",
            discount_amount=Decimal("50"),
            discount_reason="hardship",
        )
        listing = sup.get(reverse("approvals")).content.decode()
        assert "hardship" in listing
        sup.post(reverse("approval-decide", args=[plan.pk]), {"decision": "approve"})
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert plan.discount_approved_by.username == "sam"


def test_reject_a_discount_cancels_the_plan(sup, collector, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        plan = plan_propose(
            actor=collector,
            loan=loan,
            count=2,
            first_date=dt.date(2026, 3, 10),
            frequency="monthly",
            discount_amount=Decimal("50"),
            discount_reason="hardship",
        )
        sup.post(reverse("approval-decide", args=[plan.pk]), {"decision": "reject"})
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.CANCELLED


def test_supervisor_queue_shows_everyone_and_filters_by_collector(
    sup, work, others_case, collector
):
    everyone = sup.get(reverse("home")).context["page"].rows
    assert {c.pk for c in everyone} == {work.pk, others_case.pk}
    alice = sup.get(reverse("home"), {"collector": collector.pk}).context["page"].rows
    assert [c.pk for c in alice] == [work.pk]


def test_breaches_page_lists_breaching_attempts(sup, collector, work, phone):
    from compliance.services import contact_attempt_record

    contact_attempt_record(
        actor=collector,
        debtor=work.debtor,
        channel="call",
        direction="outbound",
        outcome="no_answer",
        occurred_at=NIGHT,
        contact_point=phone,
    )
    body = sup.get(reverse("breaches")).content.decode()
    assert work.debtor.external_ref in body
    assert "Outside the contact hours" in body


def test_reassign_one_case_from_its_page(sup, work, other_collector):
    page = sup.get(reverse("case-detail", args=[work.pk])).content.decode()
    assert 'id="reassign-one"' in page
    response = sup.post(
        reverse("reassign"),
        {"cases": [work.pk], "to_user": other_collector.pk, "next": f"/cases/{work.pk}/"},
    )
    assert response.url == f"/cases/{work.pk}/"
    work.refresh_from_db()
    assert work.assigned_to == other_collector


def test_reassign_never_redirects_off_site(sup, work, other_collector):
    response = sup.post(
        reverse("reassign"),
        {"cases": [work.pk], "to_user": other_collector.pk, "next": "https://evil.example/"},
    )
    assert response.url == reverse("home")
