"""Admins: policies (each save a new version) with the simulator, queue weights, users and
roles, holidays, strategies and templates."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from compliance.models import ContactPolicy


@pytest.fixture
def adm(client, admin_user):
    client.force_login(admin_user)
    return client


def _policy_post(policy, **changes):
    data = {
        "name": policy.name,
        "is_active": "on" if policy.is_active else "",
        "rules": json.dumps(policy.rules),
        "source": policy.source,
        "notes": policy.notes,
    }
    data.update(changes)
    return data


def test_policy_list_and_edit_writes_a_new_version(adm):
    body = adm.get(reverse("policies")).content.decode()
    policy = ContactPolicy.objects.get(slug="cn-gbt-45251", is_current=True)
    assert policy.name in body
    rules = dict(policy.rules)
    rules["call"] = {**rules["call"], "hours": [{"days": ["mon"], "from": "09:00", "to": "10:00"}]}
    response = adm.post(
        reverse("policy-edit", args=[policy.slug]), _policy_post(policy, rules=json.dumps(rules))
    )
    assert response.status_code == 302
    current = ContactPolicy.objects.get(slug=policy.slug, is_current=True)
    assert current.version == policy.version + 1
    assert current.created_by_label == "ada"
    versions = adm.get(reverse("audit-policy", args=[policy.slug])).content.decode()
    assert "rules: Call" in versions


def test_invalid_rules_are_refused_and_kept(adm):
    policy = ContactPolicy.objects.get(slug="cn-gbt-45251", is_current=True)
    bad = '{"call": {"hours": [{"days": ["mon"], "from": "25:00", "to": "10:00"}]}}'
    response = adm.post(reverse("policy-edit", args=[policy.slug]), _policy_post(policy, rules=bad))
    assert response.status_code == 400
    assert "25:00" in response.content.decode()
    assert response.context["form"].errors
    broken = adm.post(reverse("policy-edit", args=[policy.slug]), _policy_post(policy, rules="{"))
    assert "not valid JSON" in broken.content.decode()
    assert ContactPolicy.objects.get(slug=policy.slug, is_current=True).version == policy.version


def test_simulator_reflects_a_policy_change(adm, debtor):
    query = {
        "debtor": debtor.external_ref,
        "channel": "call",
        "at": "2026-03-02T10:00",
        "zone": "Asia/Shanghai",
    }
    before = adm.get(reverse("simulator"), query)
    assert before.context["decision"].allowed is True
    policy = ContactPolicy.objects.get(slug="cn-gbt-45251", is_current=True)
    rules = dict(policy.rules)
    rules["call"] = {**rules["call"], "hours": [{"days": ["mon"], "from": "11:00", "to": "12:00"}]}
    adm.post(
        reverse("policy-edit", args=[policy.slug]), _policy_post(policy, rules=json.dumps(rules))
    )
    after = adm.get(reverse("simulator"), query)
    decision = after.context["decision"]
    assert decision.allowed is False
    assert decision.reasons == ["outside_contact_hours"]
    assert decision.policy_version == policy.version + 1
    assert "11:00" in after.content.decode()


def test_simulator_reports_an_unknown_debtor(adm, db):
    response = adm.get(
        reverse("simulator"), {"debtor": "nobody", "channel": "call", "at": "2026-03-02T10:00"}
    )
    assert "No debtor has this reference." in response.content.decode()


def test_queue_weights_are_validated_and_saved(adm):
    fields = {
        "days_past_due": 5,
        "balance": 1,
        "promise_due_today": 10,
        "broken_promise": 1,
        "callback_due": 1,
        "call_task_due": 1,
        "since_contact": 1,
    }
    bad = adm.post(reverse("queue-weights"), {**fields, "balance": -1})
    assert bad.context["form"].errors["balance"]
    adm.post(reverse("queue-weights"), fields)
    from cases.models import QueueWeights

    assert QueueWeights.current().days_past_due == 5


def test_create_and_edit_a_user_with_a_role(adm):
    response = adm.post(
        reverse("user-new"),
        {
            "username": "carol",
            "email": "c@example.com",
            "role": "supervisor",
            "is_active": "on",
            "password": "a-long-pass-phrase-42",
        },
    )
    assert response.status_code == 302
    carol = User.objects.get(username="carol")
    assert list(carol.groups.values_list("name", flat=True)) == ["supervisor"]
    adm.post(
        reverse("user-edit", args=[carol.pk]),
        {"username": "carol", "email": "c@example.com", "role": "collector", "password": ""},
    )
    carol.refresh_from_db()
    assert list(carol.groups.values_list("name", flat=True)) == ["collector"]
    assert carol.is_active is False
    assert carol.check_password("a-long-pass-phrase-42")


def test_weak_password_and_taken_name_are_refused(adm, collector):
    response = adm.post(
        reverse("user-new"), {"username": "alice", "role": "collector", "password": "123"}
    )
    errors = response.context["form"].errors
    assert "username" in errors and "password" in errors
    assert 'value="alice"' in response.content.decode()


def test_holidays_page(adm):
    response = adm.get(reverse("holidays"), {"country": "CN", "year": 2026})
    assert response.status_code == 200
    assert len(response.context["rows"]) > 5
    bad = adm.get(reverse("holidays"), {"country": "XX", "year": 2026})
    assert bad.context["form"].errors


def test_strategies_page_lists_strategies_and_templates(adm):
    response = adm.get(reverse("strategies"))
    assert response.status_code == 200
