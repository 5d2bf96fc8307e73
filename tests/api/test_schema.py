"""The served OpenAPI schema, and the API checked against it with generated requests.

schemathesis reads the schema that ``/api/schema/`` serves (generated here, in this process)
and sends generated requests to every operation through WSGI, as an admin (the role that may
call every operation): no request may end in a server error, and every response must have a
documented status code, content type and body.

Each operation gets schemathesis's coverage phase (boundary values, and requests that break
the schema on purpose) and ``SCHEMATHESIS_EXAMPLES`` random requests, valid and invalid alike
(its positive and negative modes). So that the random ones reach the code behind the
validation, the generator is steered two ways:

- every object it may name exists under one id (``tests.factories.make_one_of_each``: a
  debtor, their loan, case, contact point, payment, promise, plan, note; an assignment rule,
  an import, a strategy, a template): an id parameter or field is that id half the time;
- every other parameter and body field is, half the time, one of the first ``tests.hostile``
  values of each kind that fits it (or, for a request meant to be invalid, one that does not):
  NUL bytes, far dates, offsets PostgreSQL refuses, amounts that are not numbers.

With the default of 30 random requests, run against the code before the hostile-dates fixes,
it finds the server errors of ``?received_after=...+19:12``, a payment received at such an
instant, the eligibility check at such an instant and a plan starting 9999-12-31; the file
takes about two minutes on two cores. ``SCHEMATHESIS_EXAMPLES=300`` looks harder. Requests
that put one hostile value in one field of an otherwise valid write are the job of
``tests/hardening/test_write_endpoints_properties.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import hostile
from tests.factories import ONE_OF_EACH_ID, make_one_of_each
from tests.openapi import api_schema, body_fields

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))

# The parameters and body fields that name an object by id.
ID_PARAMETERS = [
    "path.id",
    "path.debtor_id",
    "path.loan_id",
    "query.debtor",
    "query.loan",
    "query.contact_point",
]
ID_FIELDS = ["debtor", "loan", "contact_point"]
# A contact policy every migrated database has (``compliance.presets``).
POLICY_SLUG = "default"

SCHEMA = api_schema()


def bound_inputs(document: dict) -> set[str]:
    """Every parameter and body field of every operation, as schemathesis names them:
    ``query.received_after``, ``path.debtor_id``, ``body.installments[*].due_date``."""
    names = set()
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                names.add(f"{parameter['in']}.{parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for path in body_fields(document, content["schema"]):
                    names.add("body." + ".".join(path).replace(".*", "[*]"))
    return names


def generation_config() -> schemathesis.Config:
    # Bound by name rather than by type: schemathesis binds a type's values only to parameters
    # whose schema names one type, which leaves out every nullable one (``?at=``).
    hostile_values = {"dictionary": "hostile", "probability": 0.5}
    seeded = {"dictionary": "seeded", "probability": 0.5}
    parameters = dict.fromkeys(bound_inputs(SCHEMA), hostile_values)
    parameters.update(dict.fromkeys(ID_PARAMETERS, seeded))
    parameters.update({f"body.{field}": seeded for field in ID_FIELDS})
    parameters["path.slug"] = {"dictionary": "policy", "probability": 0.5}
    return schemathesis.Config.from_dict(
        {
            "dictionaries": {
                "hostile": {"values": hostile.interleaved(per_kind=2)},
                # Path parameters matched by a pattern are strings.
                "seeded": {"values": [ONE_OF_EACH_ID, str(ONE_OF_EACH_ID)]},
                "policy": {"values": [POLICY_SLUG]},
            },
            "generation": {
                # The requests carry the admin's token; a generated session cookie would only
                # test the web pages' sessions, which are not part of this schema.
                "with-security-parameters": False,
            },
            "parameters": parameters,
        }
    )


application = get_wsgi_application()
schema = schemathesis.openapi.from_dict(SCHEMA, config=generation_config())
schema.app = application


def test_the_schema_and_swagger_ui_are_served_from_vendored_files_to_users_only(client, collector):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)
    client.force_login(collector)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/payments/" in response.content
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page
    # Its start-up script is a file of its own: the page has no inline script.
    assert "<script>" not in page.replace(" ", "")
    assert client.get("/api/docs/?script=").status_code == 200


def test_every_operation_documents_its_errors():
    """400 where it takes input, 401 and 403 everywhere, 404 where it names an object, 409 where
    the domain refuses, 415 where it reads a body; 4xx bodies are the shared error components."""
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            label = f"{method.upper()} {path}"
            assert {"401", "403"} <= set(responses), label
            takes_input = "requestBody" in operation or any(
                p["in"] in ("query", "header") and p["name"] not in ("cursor", "page_size")
                for p in operation.get("parameters", [])
            )
            assert ("400" in responses) == takes_input, label
            assert ("415" in responses) == ("requestBody" in operation), label
            if "{" in path:
                assert "404" in responses, label
            for code, response in responses.items():
                if code >= "400":
                    assert "application/json" in response["content"], (label, code)
    responses = SCHEMA["paths"]["/api/v1/payments/"]["post"]["responses"]
    assert responses["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FieldErrors"
    }
    permits = SCHEMA["paths"]["/api/v1/debtors/{debtor_id}/contact-permits/"]["post"]
    assert permits["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Decision"
    }


def test_the_generator_is_steered_to_seeded_objects_and_hostile_values():
    """The configuration does what the module says: ids, body fields and parameters are
    bound (a renamed field or a schemathesis upgrade that drops the bindings fails here)."""
    parameters = schema.config.parameters
    for name in (
        "body.loan",
        "body.first_date",
        "body.promised_date",
        "body.installments[*].due_date",
        "path.debtor_id",
        "query.at",
        "query.external_ref",
    ):
        assert name in parameters, name


@pytest.fixture
def _keep_the_test_connection():
    """Django closes the database connection after each request; the test client switches
    that off, and so must requests sent through WSGI, or the test's transaction is lost."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(
    db, fast_password_hashing, _keep_the_test_connection, admin_user, collector, monkeypatch
):
    # Uploads would start Celery jobs; here the upload is enough.
    monkeypatch.setattr("imports.tasks.run_import.delay", lambda job_id: None)
    make_one_of_each(collector)
    token, _created = Token.objects.get_or_create(user=admin_user)
    return token.key


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_responses_match_the_schema(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            content_type_conformance,
        ],
    )
