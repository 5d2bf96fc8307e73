from __future__ import annotations

import datetime as dt

import pytest

from cases.models import Case
from debtors.models import ChannelConsent, ContactPoint, Debtor
from tests.factories import make_case, make_contact_point, make_debtor

pytestmark = pytest.mark.django_db

URL = "/api/v1/debtors/"


def debtor_payload(**overrides) -> dict:
    payload = {
        "external_ref": "EXT-1",
        "full_name": "Wang Fang",
        "country": "CN",
        "timezone": "Asia/Shanghai",
        "contact_points": [
            {"kind": "mobile", "value": "138 0013 8000"},
            {"kind": "email", "value": "wang.fang@Example.COM", "owner": "self"},
            {"kind": "landline", "value": "+86 10 6552 9988", "owner": "reference"},
        ],
    }
    payload.update(overrides)
    return payload


# --- Creating -------------------------------------------------------------------------------


def test_supervisor_creates_a_debtor_with_its_contact_points_and_case(as_supervisor, supervisor):
    response = as_supervisor.post(URL, debtor_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    debtor = Debtor.objects.get(pk=body["id"])
    assert debtor.external_ref == "EXT-1"
    assert [point["id"] for point in body["contact_points"]] == sorted(
        debtor.contact_points.values_list("id", flat=True)
    )
    values = {point["kind"]: point["value"] for point in body["contact_points"]}
    assert values["mobile"] == "+8613800138000"
    assert values["email"] == "wang.fang@example.com"
    case = Case.objects.get(debtor=debtor)
    assert case.assigned_to is None
    assert debtor.history.get().history_user == supervisor


def test_admin_creates_a_debtor(as_admin):
    response = as_admin.post(URL, debtor_payload(contact_points=[]), format="json")
    assert response.status_code == 201
    assert Case.objects.filter(debtor_id=response.json()["id"]).exists()


def test_timezone_may_be_left_out(as_supervisor):
    payload = debtor_payload()
    del payload["timezone"]
    response = as_supervisor.post(URL, payload, format="json")
    assert response.status_code == 201
    assert response.json()["timezone"] == ""


def test_collector_may_not_create_debtors(as_collector):
    response = as_collector.post(URL, debtor_payload(), format="json")
    assert response.status_code == 403
    assert not Debtor.objects.exists()


def test_unknown_time_zone_is_named(as_supervisor):
    response = as_supervisor.post(URL, debtor_payload(timezone="Mars/Base"), format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["timezone"]
    assert "Mars/Base" in body["timezone"][0]
    assert not Debtor.objects.exists()


def test_invalid_phone_is_named_with_its_position(as_supervisor):
    payload = debtor_payload()
    payload["contact_points"][0]["value"] = "12345"
    response = as_supervisor.post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["contact_points"]
    assert "12345" in body["contact_points"][0]["value"][0]
    assert body["contact_points"][1] == {}
    assert not Debtor.objects.exists()
    assert not Case.objects.exists()


def test_invalid_email_is_named(as_supervisor):
    payload = debtor_payload()
    payload["contact_points"][1]["value"] = "not-an-email"
    response = as_supervisor.post(URL, payload, format="json")
    assert response.status_code == 400
    assert "value" in response.json()["contact_points"][1]


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"kind": "pager", "value": "1"}, "kind"),
        ({"kind": "mobile"}, "value"),
        ({"kind": "mobile", "value": "+8613800138000", "owner": "neighbour"}, "owner"),
        ({"kind": "address", "value": "1 Main St", "timezone": "Nowhere/Land"}, "timezone"),
    ],
)
def test_bad_contact_point_fields_are_named(as_supervisor, point, field):
    response = as_supervisor.post(URL, debtor_payload(contact_points=[point]), format="json")
    assert response.status_code == 400
    assert field in response.json()["contact_points"][0]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"full_name": ""}, "full_name"),
        ({"external_ref": None}, "external_ref"),
        ({"contact_points": "+8613800138000"}, "contact_points"),
        ({"preferred_language": "fr"}, "preferred_language"),
        ({"date_of_birth": "1990-13-40"}, "date_of_birth"),
    ],
)
def test_bad_debtor_fields_are_named(as_supervisor, overrides, field):
    response = as_supervisor.post(URL, debtor_payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_duplicate_external_ref_is_named(as_supervisor):
    make_debtor(external_ref="EXT-1")
    response = as_supervisor.post(URL, debtor_payload(), format="json")
    assert response.status_code == 400
    assert "external_ref" in response.json()


def test_a_body_that_is_not_json_is_a_400(as_supervisor):
    response = as_supervisor.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400


# --- Reading --------------------------------------------------------------------------------


def test_collector_reads_own_debtor(as_collector, collector):
    debtor = make_debtor(national_id="110101199003071234")
    make_case(debtor, collector)
    make_contact_point(debtor)

    response = as_collector.get(f"{URL}{debtor.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["external_ref"] == debtor.external_ref
    assert body["national_id"] == "**************1234"
    assert len(body["contact_points"]) == 1


def test_another_collectors_debtor_is_not_found(as_collector, other_collector):
    debtor = make_debtor()
    make_case(debtor, other_collector)
    missing = as_collector.get(f"{URL}999999/")
    hidden = as_collector.get(f"{URL}{debtor.pk}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_unassigned_debtor_is_not_found_for_a_collector(as_collector):
    debtor = make_debtor()
    make_case(debtor, None)
    assert as_collector.get(f"{URL}{debtor.pk}/").status_code == 404


def test_supervisor_reads_any_debtor(as_supervisor, other_collector):
    debtor = make_debtor()
    make_case(debtor, other_collector)
    assert as_supervisor.get(f"{URL}{debtor.pk}/").status_code == 200


def test_list_shows_only_own_debtors_and_no_count(as_collector, collector, other_collector):
    mine = make_debtor()
    make_case(mine, collector)
    for _ in range(3):
        make_case(make_debtor(), other_collector)

    body = as_collector.get(URL).json()

    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert "count" not in body


def test_list_filter_by_external_ref_stays_scoped(as_collector, other_collector):
    theirs = make_debtor(external_ref="THEIRS")
    make_case(theirs, other_collector)
    body = as_collector.get(URL, {"external_ref": "THEIRS"}).json()
    assert body["results"] == []


def test_list_is_paginated_by_cursor(as_supervisor):
    for _ in range(3):
        make_case(make_debtor())
    first = as_supervisor.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = as_supervisor.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None


def test_list_query_count_does_not_grow_with_rows(as_supervisor, django_assert_max_num_queries):
    for _ in range(20):
        debtor = make_debtor()
        make_case(debtor)
        make_contact_point(debtor)
    with django_assert_max_num_queries(8):
        response = as_supervisor.get(URL)
    assert len(response.json()["results"]) == 20


# --- Holds ----------------------------------------------------------------------------------


@pytest.fixture
def my_debtor(collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    return debtor


@pytest.mark.parametrize("flag", ["dispute", "bankruptcy", "deceased", "cease_communication"])
def test_patch_sets_a_hold_in_the_history_of_the_api_user(as_collector, collector, my_debtor, flag):
    response = as_collector.patch(f"{URL}{my_debtor.pk}/", {flag: True}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()[flag] is True
    my_debtor.refresh_from_db()
    assert getattr(my_debtor, flag) is True
    latest = my_debtor.history.latest()
    assert getattr(latest, flag) is True
    assert latest.history_user == collector
    assert latest.actor_label == "alice"


def test_patch_lifts_a_hold(as_supervisor, my_debtor):
    as_supervisor.patch(f"{URL}{my_debtor.pk}/", {"dispute": True}, format="json")
    response = as_supervisor.patch(f"{URL}{my_debtor.pk}/", {"dispute": False}, format="json")
    assert response.json()["dispute"] is False
    assert [row.dispute for row in my_debtor.history.order_by("history_id")][-2:] == [True, False]


def test_patch_hardship_pause(as_collector, collector, my_debtor):
    response = as_collector.patch(
        f"{URL}{my_debtor.pk}/", {"hardship_pause_until": "2026-06-30"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["hardship_pause_until"] == "2026-06-30"
    my_debtor.refresh_from_db()
    assert my_debtor.hardship_pause_until == dt.date(2026, 6, 30)
    assert my_debtor.history.latest().history_user == collector

    response = as_collector.patch(
        f"{URL}{my_debtor.pk}/", {"hardship_pause_until": None}, format="json"
    )
    assert response.json()["hardship_pause_until"] is None


def test_patch_opt_outs_is_the_complete_set(as_collector, collector, my_debtor):
    response = as_collector.patch(
        f"{URL}{my_debtor.pk}/", {"opt_outs": ["sms", "email"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["opt_outs"] == ["email", "sms"]

    response = as_collector.patch(f"{URL}{my_debtor.pk}/", {"opt_outs": ["sms"]}, format="json")
    assert response.json()["opt_outs"] == ["sms"]
    email = ChannelConsent.objects.get(debtor=my_debtor, channel="email", contact_point=None)
    assert email.opted_out_at is None
    assert {row.history_user for row in email.history.all()} == {collector}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dispute": "perhaps"}, "dispute"),
        ({"hardship_pause_until": "next week"}, "hardship_pause_until"),
        ({"opt_outs": ["pigeon"]}, "opt_outs"),
        ({"opt_outs": "sms"}, "opt_outs"),
        ({"full_name": "Someone Else"}, "full_name"),
    ],
)
def test_patch_bad_input_is_named_and_changes_nothing(as_collector, my_debtor, body, field):
    history_before = my_debtor.history.count()
    response = as_collector.patch(f"{URL}{my_debtor.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert my_debtor.history.count() == history_before


def test_patch_another_collectors_debtor_is_not_found(as_other_collector, my_debtor):
    response = as_other_collector.patch(f"{URL}{my_debtor.pk}/", {"dispute": True}, format="json")
    assert response.status_code == 404
    my_debtor.refresh_from_db()
    assert my_debtor.dispute is False


def test_contact_point_ids_are_returned_in_order(as_supervisor):
    response = as_supervisor.post(URL, debtor_payload(), format="json")
    ids = [point["id"] for point in response.json()["contact_points"]]
    kinds = dict(ContactPoint.objects.filter(pk__in=ids).values_list("pk", "kind"))
    assert [kinds[pk] for pk in ids] == ["mobile", "email", "landline"]
