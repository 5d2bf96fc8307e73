"""Manage > Assignment: admins keep the rules in forms; collectors cannot reach the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AssignmentRule

pytestmark = pytest.mark.django_db


def test_an_admin_adds_edits_and_applies_rules_in_forms(client, admin_user, collector):
    client.force_login(admin_user)
    assert client.get(reverse("assignment-rules")).status_code == 200
    assert client.get(reverse("assignment-rule-new")).status_code == 200
    saved = client.post(
        reverse("assignment-rule-new"),
        {
            "name": "China and US",
            "order": 1,
            "is_active": "on",
            "countries": "cn, us",
            "collectors": [collector.pk],
            "method": "round_robin",
        },
    )
    assert saved.status_code == 302
    rule = AssignmentRule.objects.get()
    assert rule.countries == ["CN", "US"]
    assert list(rule.collectors.all()) == [collector]
    assert client.get(reverse("assignment-rule-edit", args=[rule.pk])).status_code == 200

    refused = client.post(
        reverse("assignment-rule-new"),
        {
            "name": "Backwards",
            "order": 2,
            "min_days_past_due": 90,
            "max_days_past_due": 30,
            "collectors": [collector.pk],
            "method": "round_robin",
        },
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors["max_days_past_due"]
    assert AssignmentRule.objects.count() == 1
    assert client.post(reverse("assignment-rules")).status_code == 302


def test_collectors_cannot_reach_the_rules(client, collector):
    client.force_login(collector)
    assert client.get(reverse("assignment-rules")).status_code in (403, 404)
