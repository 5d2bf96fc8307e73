"""Who may open what: a collector reaches only their own cases, by URL or by form, and no
supervisor or admin page. Anonymous visitors are sent to the login page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.models import ContactAttempt
from debtors.models import RepaymentPlan

CASE_ACTIONS = [
    ("case-detail", "get", {}),
    ("case-panel-plan", "get", {}),
    ("case-note", "post", {"body": "x"}),
    ("case-call", "post", {}),
    ("case-outcome", "post", {}),
    ("case-plan-preview", "post", {}),
    ("case-contact-point", "post", {}),
    ("case-hold", "post", {"kind": "dispute", "reason": "x"}),
    ("case-message", "post", {}),
]

SUPERVISOR_PAGES = [
    ("team", [], "get"),
    ("reassign", [], "post"),
    ("decisions", [], "get"),
    ("breaches", [], "get"),
    ("verify-ledger", [], "post"),
    ("approvals", [], "get"),
    ("approval-decide", [1], "post"),
    ("audit-debtor", [1], "get"),
    ("audit-loan", [1], "get"),
    ("audit-plan", [1], "get"),
    ("audit-policy", ["cn-gbt-45251"], "get"),
    ("dashboards", [], "get"),
    ("dashboard-csv", ["recovery"], "get"),
]

ADMIN_PAGES = [
    ("policies", [], "get"),
    ("policy-edit", ["cn-gbt-45251"], "get"),
    ("simulator", [], "get"),
    ("queue-weights", [], "get"),
    ("users", [], "get"),
    ("user-new", [], "get"),
    ("holidays", [], "get"),
]


@pytest.mark.parametrize(("name", "method", "data"), CASE_ACTIONS)
def test_collector_gets_404_for_another_collectors_case(
    client, collector, others_case, name, method, data
):
    client.force_login(collector)
    if name == "case-panel-plan":
        target = reverse("case-panel", args=[others_case.pk, "plan"])
    else:
        target = reverse(name, args=[others_case.pk])
    response = getattr(client, method)(target, data)
    assert response.status_code == 404


@pytest.mark.parametrize("what", ["national-id", "contact-point"])
def test_collector_cannot_reveal_on_another_case(client, collector, others_case, what):
    client.force_login(collector)
    point = others_case.debtor.contact_points.first()
    response = client.post(
        reverse("case-reveal", args=[others_case.pk, what]), {"contact_point": point.pk}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("case-outcome", "promise-loan"),
        ("case-outcome", "plan-loan"),
        ("case-plan-preview", "plan-loan"),
        ("case-call", "contact_point"),
        ("case-contact-point", "contact_point"),
        ("case-message", "contact_point"),
        ("case-reveal-cp", "contact_point"),
    ],
)
def test_a_form_naming_another_cases_object_is_refused(
    client, collector, work, others_case, name, field
):
    client.force_login(collector)
    other = others_case.debtor
    loan, point = other.loans.first().pk, other.contact_points.first().pk
    foreign = {"promise-loan": loan, "plan-loan": loan, "contact_point": point}
    data = {
        field: foreign[field],
        "follow_up": field.split("-")[0],
        "promise-amount": "10",
        "promise-promised_date": "2030-01-01",
        "plan-count": 2,
        "plan-frequency": "monthly",
        "plan-first_date": "2030-01-01",
        "status": "invalid",
        "body": "hi",
    }
    if name == "case-reveal-cp":
        target = reverse("case-reveal", args=[work.pk, "contact-point"])
    else:
        target = reverse(name, args=[work.pk])
    response = client.post(target, data)
    assert response.status_code == 404
    other.refresh_from_db()
    assert not RepaymentPlan.objects.filter(loan__debtor=other).exists()
    assert other.contact_points.first().status == "valid"


def test_an_outcome_for_another_debtors_call_is_refused(client, collector, work, others_case):
    attempt = ContactAttempt.objects.create(
        debtor=others_case.debtor,
        channel="call",
        direction="outbound",
        outcome="pending",
        occurred_at="2026-03-02T02:00Z",
    )
    client.force_login(collector)
    response = client.post(reverse("case-outcome", args=[work.pk]), {"attempt": attempt.pk})
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "args", "method"), SUPERVISOR_PAGES + ADMIN_PAGES)
def test_collector_gets_403_on_supervisor_and_admin_pages(client, collector, name, args, method):
    client.force_login(collector)
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "args", "method"), ADMIN_PAGES)
def test_supervisor_gets_403_on_admin_pages(client, supervisor, name, args, method):
    client.force_login(supervisor)
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "args"), [("home", []), ("queue-next", []), ("team", []), ("policies", [])]
)
def test_anonymous_visitors_are_sent_to_log_in(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_supervisor_opens_any_case(client, supervisor, others_case):
    client.force_login(supervisor)
    assert client.get(reverse("case-detail", args=[others_case.pk])).status_code == 200
