"""Error answers: their bodies are the schema's error components, and a URL under /api/ that
matches no route answers the API's JSON 404."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft7Validator
from rest_framework.test import APIClient

from debtors.models import Payment
from tests.factories import make_case, make_debtor, make_loan

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


def documented(method: str, path: str, code: int) -> Draft7Validator:
    """The schema the API documents for that answer (its components reachable)."""
    response = SCHEMA["paths"][path][method]["responses"][str(code)]
    schema = response["content"]["application/json"]["schema"]
    return Draft7Validator({**schema, "components": SCHEMA["components"]})


def assert_documented(response, method: str, path: str) -> None:
    validator = documented(method, path, response.status_code)
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert errors == [], (response.status_code, response.json())


@pytest.fixture
def loan(collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    return make_loan(debtor)


def test_field_errors_nested_ones_too(as_supervisor, loan):
    body = {
        "external_ref": "L-X",
        "debtor": loan.debtor_id,
        "currency": "CNY",
        "principal": "1.00",
        "installments": [{"due_date": "2026-04-15", "amount": "1.00"}, None, {"amount": "x"}],
    }
    response = as_supervisor.post("/api/v1/loans/", body, format="json")
    assert response.status_code == 400
    # One entry per item: none, the messages of an item that is no object, an item's fields.
    first, second, third = response.json()["installments"]
    assert first == {} and isinstance(second, list) and set(third) == {"due_date", "amount"}
    assert_documented(response, "post", "/api/v1/loans/")


def test_a_body_that_is_not_json(as_supervisor):
    response = as_supervisor.post("/api/v1/notes/", "{", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert_documented(response, "post", "/api/v1/notes/")


def test_not_signed_in_not_allowed_not_found(as_collector, loan):
    anonymous = APIClient().get("/api/v1/loans/")
    assert anonymous.status_code == 401
    assert_documented(anonymous, "get", "/api/v1/loans/")
    refused = as_collector.post("/api/v1/loans/", {}, format="json")
    assert refused.status_code == 403
    assert_documented(refused, "post", "/api/v1/loans/")
    missing = as_collector.get("/api/v1/loans/0/")
    assert missing.status_code == 404
    assert_documented(missing, "get", "/api/v1/loans/{loan_id}/")
    bad_cursor = as_collector.get("/api/v1/loans/?cursor=nonsense")
    assert bad_cursor.status_code == 404
    assert_documented(bad_cursor, "get", "/api/v1/loans/")


def test_a_body_of_a_type_not_read(as_supervisor):
    response = as_supervisor.post("/api/v1/notes/", "body", content_type="text/plain")
    assert response.status_code == 415
    assert_documented(response, "post", "/api/v1/notes/")


def test_a_reference_of_another_payment(as_supervisor, loan):
    payment = {
        "loan": loan.pk,
        "amount": "10.00",
        "received_at": "2026-01-20T10:00:00+08:00",
        "method": "bank_transfer",
        "external_ref": "TX-1",
    }
    assert as_supervisor.post("/api/v1/payments/", payment, format="json").status_code == 201
    response = as_supervisor.post(
        "/api/v1/payments/", {**payment, "amount": "20.00"}, format="json"
    )
    assert response.status_code == 409
    assert_documented(response, "post", "/api/v1/payments/")
    assert Payment.objects.count() == 1


def test_the_comparison_is_meaningful():
    """A body of the other shape fails the check: it is not vacuous."""
    field_errors = documented("post", "/api/v1/payments/", 409)
    assert not field_errors.is_valid({"detail": "Not found."})
    assert not field_errors.is_valid({"amount": "not a list"})
    error = documented("get", "/api/v1/loans/", 401)
    assert not error.is_valid({"amount": ["Required."]})


@pytest.mark.parametrize(
    "url", ["/api/v1/debtors/abc/", "/api/v1/contact-policies/%00/", "/api/v1/nothing/"]
)
def test_an_unknown_api_url_answers_the_api_error(as_supervisor, url):
    response = as_supervisor.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_the_site_page(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_missing_slash_is_still_added(as_supervisor):
    assert as_supervisor.get("/api/v1/debtors").status_code == 301
