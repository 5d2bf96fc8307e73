from __future__ import annotations

import copy

import pytest

from compliance.models import ContactPolicy
from compliance.presets import DEFAULT_RULES

from .conftest import MONDAY_10_NY

pytestmark = pytest.mark.django_db

URL = "/api/v1/contact-policies/"


def policy_payload(**overrides) -> dict:
    payload = {
        "slug": "uk-fca-conc",
        "name": "United Kingdom: FCA CONC 7.9",
        "country": "GB",
        "rules": copy.deepcopy(DEFAULT_RULES),
        "source": "FCA Handbook CONC 7.9",
    }
    payload.update(overrides)
    return payload


@pytest.mark.parametrize("role", ["as_collector", "as_supervisor"])
def test_only_admins_reach_policies(request, role):
    client = request.getfixturevalue(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, policy_payload(), format="json").status_code == 403
    assert client.get(f"{URL}us-reg-f/").status_code == 403
    assert client.put(f"{URL}us-reg-f/", policy_payload(), format="json").status_code == 403
    assert not ContactPolicy.objects.filter(slug="uk-fca-conc").exists()
    assert ContactPolicy.objects.filter(slug="us-reg-f").count() == 1


def test_admin_lists_the_current_policies(as_admin):
    body = as_admin.get(URL).json()
    slugs = {row["slug"] for row in body["results"]}
    assert {"us-reg-f", "cn-gbt-45251", "default"} <= slugs
    assert all(row["is_current"] for row in body["results"])


def test_admin_creates_a_policy(as_admin):
    response = as_admin.post(URL, policy_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["version"], body["is_current"]) == ("uk-fca-conc", 1, True)
    assert body["created_by_label"] == "ada"
    assert body["rules"]["call"]["hours"][0]["from"] == "08:00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"rules": {"call": {"hours": [{"days": ["mon"], "from": "25:00", "to": "21:00"}]}}},
            "rules",
        ),
        ({"rules": {"pigeon": {}}}, "rules"),
        ({"rules": ["call"]}, "rules"),
        ({"slug": "not a slug"}, "slug"),
        ({"slug": "us-reg-f"}, "slug"),
        ({"country": ""}, "country"),
        ({"country": "XX"}, "country"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_policies_are_named(as_admin, overrides, field):
    before = ContactPolicy.objects.count()
    response = as_admin.post(URL, policy_payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert ContactPolicy.objects.count() == before


def test_put_writes_a_new_version_used_by_the_gate(as_admin, as_collector, us_debtor):
    current = as_admin.get(f"{URL}us-reg-f/").json()
    changed = {key: current[key] for key in ("name", "country", "region", "rules", "source")}
    changed["rules"]["call"]["hours"] = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}
    ]

    response = as_admin.put(f"{URL}us-reg-f/", changed, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["version"], response.json()["is_current"]) == (2, True)
    versions = as_admin.get(URL, {"slug": "us-reg-f", "versions": "all"}).json()["results"]
    assert sorted((row["version"], row["is_current"]) for row in versions) == [
        (1, False),
        (2, True),
    ]
    eligibility = as_collector.get(
        f"/api/v1/debtors/{us_debtor.pk}/contact-eligibility",
        {"channel": "call", "at": MONDAY_10_NY.replace(hour=8, minute=30).isoformat()},
    ).json()
    assert eligibility["policy_version"] == 2
    assert eligibility["reasons"] == ["outside_contact_hours"]


def test_put_with_bad_rules_keeps_the_current_version(as_admin):
    response = as_admin.put(
        f"{URL}us-reg-f/", policy_payload(country="US", rules={"call": {"max": 3}}), format="json"
    )
    assert response.status_code == 400
    assert "rules" in response.json()
    assert ContactPolicy.objects.get(slug="us-reg-f", is_current=True).version == 1


def test_put_clashing_with_another_jurisdiction_is_a_400(as_admin):
    as_admin.post(URL, policy_payload(), format="json")
    response = as_admin.put(f"{URL}uk-fca-conc/", policy_payload(country="US"), format="json")
    assert response.status_code == 400
    assert ContactPolicy.objects.get(slug="uk-fca-conc", is_current=True).country == "GB"


def test_unknown_policy_is_not_found(as_admin):
    assert as_admin.get(f"{URL}nope/").status_code == 404
    assert as_admin.put(f"{URL}nope/", policy_payload(), format="json").status_code == 404
