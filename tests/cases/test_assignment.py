"""Assignment rules: conditions, both methods, when they run, the inactive collector, the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied

from cases.assignment import assignment_rule_save, cases_assign, cases_assign_apply
from cases.models import AssignmentRule, Case
from cases.roles import COLLECTOR
from cases.services import debtor_create_with_case
from tests.api.conftest import token_client
from tests.factories import make_case, make_debtor, make_loan
from tests.imports.conftest import run_import


def _collector(name: str) -> User:
    user = User.objects.create_user(username=name, password="test-pass-123")
    user.groups.add(Group.objects.get(name=COLLECTOR))
    return user


@pytest.fixture
def pool(db):
    return [_collector(f"c{n}") for n in range(3)]


def _rule(admin_user, pool, **fields) -> AssignmentRule:
    fields.setdefault("name", "All")
    fields.setdefault("method", AssignmentRule.Method.ROUND_ROBIN)
    return assignment_rule_save(actor=admin_user, collectors=pool, **fields)


def _unassigned(n: int, **debtor_fields) -> list[Case]:
    cases = []
    for _ in range(n):
        debtor = make_debtor(**debtor_fields)
        make_loan(debtor)
        cases.append(make_case(debtor))
    return cases


def test_round_robin_deals_in_turn_and_carries_the_turn_on(admin_user, pool):
    _rule(admin_user, pool)
    cases = _unassigned(4)
    assert cases_assign() == 4
    owners = [Case.objects.get(pk=c.pk).assigned_to_id for c in cases]
    assert owners == [pool[0].pk, pool[1].pk, pool[2].pk, pool[0].pk]
    more = _unassigned(2)
    cases_assign()
    assert [Case.objects.get(pk=c.pk).assigned_to_id for c in more] == [pool[1].pk, pool[2].pk]


def test_least_loaded_fills_the_emptiest_first(admin_user, pool):
    # c0 already has two open cases and a closed one (which does not count).
    for _ in range(2):
        make_case(make_debtor(), pool[0])
    make_case(make_debtor(), pool[0], status="closed", closed_reason="paid")
    make_case(make_debtor(), pool[1])
    _rule(admin_user, pool, method=AssignmentRule.Method.LEAST_LOADED)
    cases = _unassigned(4)
    cases_assign()
    owners = [Case.objects.get(pk=c.pk).assigned_to_id for c in cases]
    # Loads 2, 1, 0: c2, c1 (tie 1-1, lower id), c2, then 2-2-2 -> c0.
    assert owners == [pool[2].pk, pool[1].pk, pool[2].pk, pool[0].pk]


def test_first_matching_rule_by_order_wins_and_empty_conditions_match_anything(admin_user, pool):
    _rule(admin_user, [pool[2]], name="Everyone else", order=20)
    _rule(admin_user, [pool[0]], name="US", order=10, countries=["US"])
    _rule(admin_user, [pool[1]], name="Chinese speakers", order=15, languages=["zh-hans"])
    us = _unassigned(1, country="US", timezone="America/New_York")[0]
    zh = _unassigned(1, preferred_language="zh-hans")[0]
    other = _unassigned(1, preferred_language="en")[0]
    cases_assign()
    assert Case.objects.get(pk=us.pk).assigned_to == pool[0]
    assert Case.objects.get(pk=zh.pk).assigned_to == pool[1]
    assert Case.objects.get(pk=other.pk).assigned_to == pool[2]


def test_product_risk_band_days_past_due_and_balance_conditions(admin_user, pool):
    rule = _rule(
        admin_user,
        [pool[0]],
        products=["wallet-credit"],
        risk_bands=["high"],
        min_days_past_due=30,
        max_days_past_due=90,
        min_outstanding=Decimal("100"),
        max_outstanding=Decimal("1000"),
    )
    match = make_case(make_debtor(), max_days_past_due=45, total_outstanding=Decimal("300"))
    make_loan(match.debtor, product="wallet-credit", risk_band="high")
    wrong_product = make_case(make_debtor(), max_days_past_due=45, total_outstanding=Decimal("300"))
    make_loan(wrong_product.debtor, product="card", risk_band="high")
    too_late = make_case(make_debtor(), max_days_past_due=120, total_outstanding=Decimal("300"))
    make_loan(too_late.debtor, product="wallet-credit", risk_band="high")
    too_much = make_case(make_debtor(), max_days_past_due=45, total_outstanding=Decimal("5000"))
    make_loan(too_much.debtor, product="wallet-credit", risk_band="high")
    assert cases_assign() == 1
    assert Case.objects.get(pk=match.pk).assigned_to == pool[0]
    assert not Case.objects.filter(assigned_to__isnull=False).exclude(pk=match.pk).exists()
    assert rule.collectors.count() == 1


def test_an_inactive_collector_s_cases_are_dealt_again(admin_user, pool):
    _rule(admin_user, pool[1:], method=AssignmentRule.Method.LEAST_LOADED)
    theirs = [make_case(make_debtor(), pool[0]) for _ in range(3)]
    pool[0].is_active = False
    pool[0].save()
    owners = {Case.objects.get(pk=c.pk).assigned_to_id for c in theirs}
    assert owners == {pool[1].pk, pool[2].pk}
    entry = Case.objects.get(pk=theirs[0].pk).history.order_by("-history_id").first()
    assert entry.history_change_reason == "assignment rule All"


def test_a_new_case_is_assigned_in_its_own_transaction(admin_user, pool, supervisor):
    _rule(admin_user, pool)
    debtor = debtor_create_with_case(
        actor=supervisor,
        external_ref="D-NEW",
        full_name="New Debtor",
        country="CN",
        timezone="Asia/Shanghai",
    )
    assert Case.objects.get(debtor=debtor).assigned_to == pool[0]


def test_imported_debtors_arrive_assigned(admin_user, pool):
    _rule(admin_user, pool)
    job = run_import(
        "debtors",
        "external_ref,full_name,country,timezone\n"
        "D-A,Ann,CN,Asia/Shanghai\nD-B,Ben,CN,Asia/Shanghai\n",
    )
    assert job.status == "done", job.error
    owners = sorted(Case.objects.values_list("assigned_to_id", flat=True))
    assert owners == sorted([pool[0].pk, pool[1].pk])


def test_no_rule_no_collector_leaves_the_case_for_a_supervisor(admin_user, pool):
    case = _unassigned(1)[0]
    assert cases_assign() == 0
    _rule(admin_user, [pool[0]], countries=["US"])
    assert cases_assign() == 0
    assert Case.objects.get(pk=case.pk).assigned_to is None


def test_apply_is_for_supervisors(collector):
    with pytest.raises(PermissionDenied):
        cases_assign_apply(actor=collector)


# --- The API --------------------------------------------------------------------------------


def test_rules_api_create_read_change_delete(admin_user, supervisor, pool):
    client = token_client(admin_user)
    body = {
        "name": "Late and large",
        "order": 5,
        "conditions": {"country": ["cn"], "min_days_past_due": 30, "max_outstanding": "5000"},
        "collectors": [pool[0].pk, pool[1].pk],
        "method": "least_loaded",
    }
    created = client.post("/api/v1/assignment-rules/", body, format="json")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["conditions"]["country"] == ["CN"]
    assert rule["conditions"]["language"] == []
    assert rule["conditions"]["min_days_past_due"] == 30
    assert sorted(rule["collectors"]) == [pool[0].pk, pool[1].pk]

    url = f"/api/v1/assignment-rules/{rule['id']}/"
    changed = client.patch(
        url, {"method": "round_robin", "collectors": [pool[2].pk]}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["method"] == "round_robin"
    assert changed.json()["collectors"] == [pool[2].pk]
    assert changed.json()["conditions"]["min_days_past_due"] == 30

    listed = token_client(supervisor).get("/api/v1/assignment-rules/")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()] == [rule["id"]]
    assert token_client(supervisor).patch(url, {"order": 1}, format="json").status_code == 403
    assert client.delete(url).status_code == 204
    assert not AssignmentRule.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "collectors": [], "method": "round_robin"},
        {"name": "x", "collectors": [999999], "method": "round_robin"},
        {"name": "x", "collectors": "COLLECTOR", "method": "fastest"},
        {
            "name": "x",
            "collectors": "COLLECTOR",
            "method": "round_robin",
            "conditions": {"min_days_past_due": 90, "max_days_past_due": 30},
        },
        {
            "name": "x",
            "collectors": "COLLECTOR",
            "method": "round_robin",
            "conditions": {"min_outstanding": "-5"},
        },
        {"name": "x", "collectors": "SUPERVISOR", "method": "round_robin"},
    ],
)
def test_rules_api_refuses_bad_rules(admin_user, supervisor, pool, body):
    ids = {"COLLECTOR": [pool[0].pk], "SUPERVISOR": [supervisor.pk]}
    if isinstance(body["collectors"], str):
        body = {**body, "collectors": ids[body["collectors"]]}
    answer = token_client(admin_user).post("/api/v1/assignment-rules/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert not AssignmentRule.objects.exists()


def test_apply_endpoint(admin_user, supervisor, collector, pool):
    _rule(admin_user, pool)
    _unassigned(3)
    assert token_client(collector).post("/api/v1/assignment-rules/apply/").status_code == 403
    answer = token_client(supervisor).post("/api/v1/assignment-rules/apply/")
    assert answer.status_code == 200
    assert answer.json() == {"assigned": 3}
    assert token_client(supervisor).post("/api/v1/assignment-rules/apply/").json() == {
        "assigned": 0
    }
