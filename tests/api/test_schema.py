"""The served OpenAPI schema, and the API checked against it with generated requests.

schemathesis reads ``/api/schema/`` from the running application (WSGI, in this process)
and sends a bounded number of generated requests to every operation, as a supervisor with a
small portfolio: no request may end in a server error, and every response must match the
schema.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.factories import make_case, make_contact_point, make_debtor, make_loan

application = get_wsgi_application()
# The served schema needs a login; the same document is generated here, in this process.
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
)
schema.app = application

MAX_EXAMPLES = 5


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
def supervisor_token(db, _keep_the_test_connection, supervisor, collector, monkeypatch):
    # Uploads would start Celery jobs; here the upload is enough.
    monkeypatch.setattr("imports.tasks.run_import.delay", lambda job_id: None)
    debtor = make_debtor()
    make_case(debtor, collector)
    make_contact_point(debtor)
    make_loan(debtor)
    token, _created = Token.objects.get_or_create(user=supervisor)
    return token.key


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_responses_match_the_schema(case, supervisor_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {supervisor_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
