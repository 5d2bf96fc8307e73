"""Supervisors: team view, reassignment, audit history, decision log, ledger check, approvals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse

from cases import services
from cases.models import Case
from cases.services import call_place, plan_propose, promise_record
from compliance.gate import ContactBlocked
from compliance.ledger import seal
from compliance.models import ContactDecision
from debtors.models import RepaymentPlan
from debtors.services import loan_create, payment_post
from workspace.selectors.audit import schedule_writes

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
    assert stats["alice"].today.attempts == 1
    assert stats["alice"].today.promises == 1
    assert stats["alice"].today.promised == {"CNY": Decimal("20")}


def test_team_view_runs_a_bounded_number_of_queries(
    sup, work, other_collector, django_assert_max_num_queries
):
    # The collectors' figures (six), the reassign list (four) and the menus (two).
    with django_assert_max_num_queries(16):
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


# --- The audit page: kinds of change, actors, schedules written in one go ------------------


def _audit(sup, debtor, **query):
    response = sup.get(reverse("audit-debtor", args=[debtor.pk]), query)
    assert response.status_code == 200
    return response


def _loan_with_schedule(actor, debtor):
    return loan_create(
        actor=actor,
        debtor=debtor,
        external_ref="L-SCHEDULE",
        currency="CNY",
        principal=Decimal("300"),
        installments=[(dt.date(2026, m, 15), Decimal("100")) for m in (4, 5, 6)],
    )


def test_a_schedule_written_in_one_go_is_one_entry(sup, supervisor, work):
    _loan_with_schedule(supervisor, work.debtor)
    changes = _audit(sup, work.debtor).context["changes"]
    schedules = [c for c in changes if "schedule" in c.kinds]
    assert len(schedules) == 1
    assert schedules[0].object_label == "Installment schedule of loan L-SCHEDULE"
    assert schedules[0].summary == "3 installments, total CN¥300.00"
    assert schedules[0].actor == "sam"
    assert not [c for c in changes if c.object_label.startswith("Installment #")]
    body = _audit(sup, work.debtor).content.decode()
    assert "Installment schedule of loan L-SCHEDULE written" in body
    assert "3 installments, total CN¥300.00" in body


def test_a_plans_schedule_is_one_entry_and_later_payments_still_show(sup, collector, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        plan = plan_propose(
            actor=collector,
            loan=loan,
            count=3,
            first_date=dt.date(2026, 3, 10),
            frequency="monthly",
        )
        payment_post(
            actor=collector,
            loan=loan,
            amount=Decimal("100"),
            received_at=DAYTIME,
            method="cash",
            external_ref="P-AUDIT",
        )
    changes = sup.get(reverse("audit-plan", args=[plan.pk])).context["changes"]
    written = [c for c in changes if "schedule" in c.kinds]
    assert [c.summary for c in written] == ["3 installments, total CN¥300.00"]
    paid = [c for c in changes if c.object_label.startswith("Plan installment #")]
    assert paid and all(c.action == "changed" for c in paid)
    assert any(label == "amount paid" for c in paid for label, _old, _new in c.diffs)


def test_schedules_of_other_loans_actors_or_moments_are_separate():
    start = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)

    def row(loan_id, actor, seconds, history_id):
        return SimpleNamespace(
            loan_id=loan_id,
            actor_label=actor,
            history_date=start + dt.timedelta(seconds=seconds),
            history_id=history_id,
            history_type="+",
        )

    rows = [
        row(1, "sam", 0, 1),
        row(1, "sam", 0.01, 2),
        row(1, "sam", 0.02, 3),
        row(1, "ada", 0.03, 4),  # another actor
        row(2, "sam", 0.04, 5),  # another loan
        row(1, "sam", 600, 6),  # ten minutes later: another write
    ]
    groups = schedule_writes(rows, "loan_id")
    assert sorted(sorted(r.history_id for r in g) for g in groups) == [[1, 2, 3], [4], [5], [6]]


def test_the_audit_is_narrowed_to_a_kind_of_change(sup, supervisor, work, other_collector):
    services.cases_reassign(actor=supervisor, case_ids=[work.pk], to_user=other_collector)
    _loan_with_schedule(supervisor, work.debtor)
    everything = _audit(sup, work.debtor).context["changes"]
    assignment = _audit(sup, work.debtor, kind="assignment").context["changes"]
    # The case made with its collector, then given to another.
    assert len(assignment) == 2 < len(everything)
    assert all(c.object_label.startswith("Case #") for c in assignment)
    assert [label for label, _old, _new in assignment[0].diffs] == ["assigned collector"]
    schedules = _audit(sup, work.debtor, kind="schedule").context["changes"]
    assert [c.summary for c in schedules] == ["3 installments, total CN¥300.00"]
    loans = _audit(sup, work.debtor, kind="loan").context["changes"]
    assert schedules[0] in loans and all("loan" in c.kinds for c in loans)
    kinds = dict(_audit(sup, work.debtor).context["form"].fields["kind"].choices)
    assert {"assignment", "schedule", "loan", "case", "debtor"} <= set(kinds)


def test_the_audit_is_narrowed_to_an_actor(sup, supervisor, collector, other_collector, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        promise_record(
            actor=collector, loan=loan, amount=Decimal("20"), promised_date=dt.date(2026, 3, 5)
        )
    services.cases_reassign(actor=supervisor, case_ids=[work.pk], to_user=other_collector)
    response = _audit(sup, work.debtor, actor="alice")
    changes = response.context["changes"]
    assert changes and {c.actor for c in changes} == {"alice"}
    actors = dict(response.context["form"].fields["actor"].choices)
    assert {"alice", "sam"} <= set(actors)
    both = _audit(sup, work.debtor, actor="sam", kind="assignment").context["changes"]
    assert len(both) == 1 and both[0].actor == "sam"


@pytest.mark.parametrize(
    "query", [{"kind": "nonsense"}, {"actor": "nobody"}, {"kind": "policy"}, {"kind": ""}]
)
def test_an_unknown_kind_or_actor_is_a_form_error_and_everything_shows(sup, work, query):
    everything = _audit(sup, work.debtor).context["changes"]
    response = _audit(sup, work.debtor, **query)
    assert response.context["changes"] == everything
    assert set(response.context["form"].errors) == {k for k, v in query.items() if v}


def test_the_other_audit_pages_filter_too(sup, supervisor, work, loan):
    _loan_with_schedule(supervisor, work.debtor)
    loan_page = sup.get(reverse("audit-loan", args=[loan.pk]), {"kind": "nope"})
    assert loan_page.status_code == 200 and loan_page.context["form"].errors["kind"]
    policy = sup.get(reverse("audit-policy", args=["cn-gbt-45251"]), {"kind": "policy"})
    assert policy.status_code == 200
    assert all("policy" in c.kinds for c in policy.context["changes"])


def test_the_decision_log_links_the_contact_ledger_of_its_days(sup):
    plain = sup.get(reverse("decisions")).content.decode()
    assert f'href="{reverse("export-contact-ledger")}"' in plain
    dated = sup.get(reverse("decisions"), {"date_from": "2026-03-01", "date_to": "2026-03-02"})
    assert (
        f"{reverse('export-contact-ledger')}?since=2026-03-01&amp;until=2026-03-02&amp;tz=UTC"
        in dated.content.decode()
    )
