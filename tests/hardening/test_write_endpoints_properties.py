"""Every write endpoint of the API, driven by hypothesis with one hostile value at a time: no
server error, and a refused request leaves no row behind.

The endpoints are the schema's POST, PUT, PATCH and DELETE operations, so a new one is covered
the day it is added. Each starts from a request the API accepts (``VALID_REQUESTS``; for an
endpoint not listed yet, one built from the schema's required fields) and gets one of its inputs
(a body field at any depth, a header or a path parameter) replaced by a hostile value: a date
or instant at the edges (``tests.hostile``), an amount that is not a number (``NaN`` as a JSON
literal too), a string with a NUL, a lone surrogate, a spreadsheet formula, right-to-left text,
ten and a hundred thousand characters, an integer beyond 64 bits, a value of the wrong JSON
type.

Hypothesis draws the input and the value (``WRITE_PROPERTY_EXAMPLES`` requests an endpoint,
25 by default); besides, every input gets the first value of each kind (``WORST``), which a
short random run may miss. The answer must be below 500; when it is a refusal (4xx), every
table of the project's apps has as many rows as before. Each request runs in a savepoint that
is rolled back afterwards, so every one starts from the same data (a plan proposed once does
not refuse the next).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from urllib.parse import quote

import django
import pytest
import time_machine
from axes.models import AccessAttempt
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Note
from compliance.presets import DEFAULT_RULES
from tests import hostile
from tests.api.conftest import token_client
from tests.factories import ONE_OF_EACH_ID, make_one_of_each
from tests.openapi import api_schema, body_fields, resolve

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
SEEDED_ID = ONE_OF_EACH_ID
PASSWORD = "test-pass-123"  # tests/conftest.py's
# Requests per endpoint, each one hostile value in one input (more: a longer search).
EXAMPLES = int(os.environ.get("WRITE_PROPERTY_EXAMPLES", "25"))

SCHEMA = api_schema()
WRITE_METHODS = ("post", "put", "patch", "delete")
WRITES = sorted(
    f"{method.upper()} {path}"
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in WRITE_METHODS
)

CSV = b"external_ref,full_name,country\nD-1,Jane Roe,CN\n"

# A request each endpoint accepts, on the objects ``make_one_of_each`` made (the path's ids
# are ``SEEDED_ID``, its slug the default policy's). Bodies only: headers are listed apart.
VALID_REQUESTS: dict[str, dict] = {
    "POST /api/v1/assignment-rules/": {
        "name": "Shanghai",
        "collectors": ["collector"],
        "method": "round_robin",
        "conditions": {"country": ["CN"], "min_outstanding": "100.00"},
    },
    "PATCH /api/v1/assignment-rules/{id}/": {
        "name": "Renamed",
        "order": 2,
        "collectors": ["collector"],
    },
    "DELETE /api/v1/assignment-rules/{id}/": {},
    "POST /api/v1/assignment-rules/apply/": {},
    "POST /api/v1/auth/token/": {"username": "ada", "password": PASSWORD},
    "DELETE /api/v1/auth/token/": {},
    "PATCH /api/v1/cases/{id}/": {"assigned_to": "collector"},
    "POST /api/v1/cases/{id}/close/": {"reason": "withdrawn", "note": "The lender withdrew it."},
    "POST /api/v1/cases/next/": {},
    "POST /api/v1/consents/": {
        "debtor": SEEDED_ID,
        "channel": "sms",
        "contact_point": SEEDED_ID,
        "given_at": "2026-03-01T10:00:00+08:00",
        "source": "loan agreement §7",
        "expires_at": "2027-03-01T10:00:00+08:00",
    },
    "POST /api/v1/contact-attempts/": {
        "debtor": SEEDED_ID,
        "loan": SEEDED_ID,
        "contact_point": SEEDED_ID,
        "channel": "call",
        "direction": "outbound",
        "outcome": "no_answer",
        "occurred_at": "2026-03-02T09:30:00+08:00",
    },
    "POST /api/v1/contact-points/": {
        "debtor": SEEDED_ID,
        "kind": "email",
        "value": "jane@example.com",
        "label": "work",
        "country": "CN",
        "timezone": "Asia/Shanghai",
    },
    "PATCH /api/v1/contact-points/{id}/": {"status": "invalid"},
    "POST /api/v1/contact-policies/": {
        "slug": "fr-default",
        "name": "France",
        "country": "FR",
        "rules": DEFAULT_RULES,
        "source": "Code de la consommation",
    },
    "PUT /api/v1/contact-policies/{slug}/": {
        "name": "Default",
        "is_default": True,
        "rules": DEFAULT_RULES,
        "notes": "Reviewed.",
    },
    "POST /api/v1/debtors/": {
        "external_ref": "D-NEW",
        "full_name": "Jane Roe",
        "country": "CN",
        "timezone": "Asia/Shanghai",
        "preferred_language": "zh-hans",
        "national_id": "110101199003070011",
        "date_of_birth": "1990-03-07",
        "contact_points": [{"kind": "mobile", "value": "+8613800138001"}],
    },
    "PATCH /api/v1/debtors/{debtor_id}/": {
        "dispute": True,
        "hardship_pause_until": "2026-04-01",
        "opt_outs": ["sms"],
    },
    "POST /api/v1/debtors/{debtor_id}/contact-permits/": {
        "channel": "call",
        "loan": SEEDED_ID,
        "contact_point": SEEDED_ID,
    },
    "POST /api/v1/debtors/{debtor_id}/reveal/": {
        "field": "contact_point",
        "contact_point": SEEDED_ID,
    },
    "POST /api/v1/imports/": {"kind": "debtors", "file": CSV, "dry_run": "true"},
    "POST /api/v1/loans/": {
        "external_ref": "L-NEW",
        "debtor": SEEDED_ID,
        "product": "cash",
        "currency": "CNY",
        "principal": "300.00",
        "opened_on": "2026-01-01",
        "installments": [
            {"due_date": "2026-04-15", "amount": "150.00"},
            {"due_date": "2026-05-15", "amount": "150.00"},
        ],
    },
    "POST /api/v1/notes/": {"debtor": SEEDED_ID, "body": "Promised to call back."},
    "POST /api/v1/payments/": {
        "loan": SEEDED_ID,
        "amount": "50.00",
        "received_at": "2026-03-01T10:00:00+08:00",
        "method": "bank_transfer",
        "external_ref": "TX-NEW",
        "source": "bank",
    },
    "POST /api/v1/plans/": {
        "loan": SEEDED_ID,
        "count": 3,
        "first_date": "2026-04-01",
        "frequency": "monthly",
        "discount_amount": "10.00",
        "discount_reason": "Hardship",
    },
    "POST /api/v1/promises/": {"loan": SEEDED_ID, "amount": "50.00", "promised_date": "2026-03-20"},
}
VALID_HEADERS = {"POST /api/v1/payments/": {"Idempotency-Key": "key-1"}}
# Who calls: the admin (who may call every write), but for the collectors' own.
CALLERS = {"POST /api/v1/cases/next/": "collector"}
PATH_VALUES = {"slug": "default"}  # every other path parameter is an id

# A kind first, then a value of it: each kind comes up about as often as the others.
HOSTILE_VALUES = st.one_of(
    st.sampled_from(hostile.NUL_STRINGS),
    st.sampled_from(hostile.LONE_SURROGATES),
    st.sampled_from(hostile.LONG_STRINGS),
    st.sampled_from(hostile.ODD_STRINGS),
    st.sampled_from(hostile.DATES),
    st.sampled_from(hostile.INSTANTS),
    st.sampled_from(hostile.AMOUNTS),
    st.sampled_from(hostile.INTEGERS),
    st.sampled_from(hostile.JSON_VALUES),
    st.text(st.characters(codec="utf-8") | st.just("\x00"), max_size=20),
    st.dates().map(dt.date.isoformat),
    st.builds(
        "{}T{:02}:{:02}:00{}{:02}:{:02}".format,
        st.dates().map(dt.date.isoformat),
        st.integers(0, 23),
        st.integers(0, 59),
        st.sampled_from("+-"),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(2**70), max_value=2**70),
)


# --- The schema: operations, inputs, a request built from the required fields ----------------


def operation(write: str) -> dict:
    method, path = write.split(" ", 1)
    return SCHEMA["paths"][path][method.lower()]


def media_type(write: str) -> str | None:
    """JSON where the endpoint takes it, else its form (the upload)."""
    content = operation(write).get("requestBody", {}).get("content", {})
    for candidate in ("application/json", "multipart/form-data"):
        if candidate in content:
            return candidate
    return None


def body_schema(write: str) -> dict:
    kind = media_type(write)
    if kind is None:
        return {}
    return resolve(SCHEMA, operation(write)["requestBody"]["content"][kind]["schema"])


def inputs(write: str) -> list[tuple[str, object]]:
    """What a hostile value can replace: ``("body", path)``, ``("header", name)``,
    ``("path", name)``."""
    found: list[tuple[str, object]] = [
        ("body", path) for path in body_fields(SCHEMA, body_schema(write))
    ]
    for parameter in operation(write).get("parameters", []):
        if parameter["in"] in ("header", "path"):
            found.append((parameter["in"], parameter["name"]))
    return found


def example_value(schema: dict):
    """A plain value of a field's type, for an endpoint with no ``VALID_REQUESTS`` entry."""
    schema = resolve(SCHEMA, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return SEEDED_ID
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object" or "properties" in schema:
        return {}
    return {"date": "2026-03-20", "date-time": "2026-03-02T10:00:00+08:00", "decimal": "1.00"}.get(
        schema.get("format"), "x"
    )


def valid_body(write: str) -> dict:
    if write in VALID_REQUESTS:
        return copy.deepcopy(VALID_REQUESTS[write])
    schema = body_schema(write)
    return {
        name: example_value(field)
        for name, field in schema.get("properties", {}).items()
        if name in schema.get("required", [])
    }


# --- Putting a value in, sending, counting ---------------------------------------------------


def replaced(body, path: tuple, value):
    """``body`` with ``value`` at ``path`` (``*``: in every item of that list; a missing
    optional field, or an empty list, gets one)."""
    if not path:
        return value
    head, *rest = path
    if head == "*":
        items = body if isinstance(body, list) and body else [{} if rest else None]
        return [replaced(item, tuple(rest), value) for item in items]
    body = dict(body) if isinstance(body, dict) else {}
    body[head] = replaced(body.get(head, [] if rest[:1] == ["*"] else {}), tuple(rest), value)
    return body


def send(client, write: str, body, headers: dict, path_values: dict):
    """The request as a client's bytes would make it: text that is no UTF-8 (a lone surrogate)
    goes as the bytes Python would write for it, in the URL, a form or a header; JSON escapes
    it (``\\ud800``), and writes ``NaN`` and ``Infinity`` as the literals."""
    method, template = write.split(" ", 1)
    url = template.format(
        **{name: quote(str(v), safe="", errors="surrogatepass") for name, v in path_values.items()}
    )
    # A WSGI server hands headers over as Latin-1.
    headers = {name: as_bytes(str(value)).decode("latin-1") for name, value in headers.items()}
    if media_type(write) == "multipart/form-data":
        form = {name: form_value(value) for name, value in body.items() if value is not None}
        data, content_type = encode_multipart(BOUNDARY, form), MULTIPART_CONTENT
    else:
        data = json.dumps(body) if media_type(write) else ""
        content_type = "application/json"
    return client.generic(method, url, data=data, content_type=content_type, headers=headers)


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def form_value(value):
    """A form field: the upload's bytes as a file, anything not text as its JSON. Text that is
    no UTF-8 becomes what Django makes of its bytes (replacement characters)."""
    if isinstance(value, bytes):
        return SimpleUploadedFile("portfolio.csv", value)
    if isinstance(value, list):
        return [form_value(item) for item in value]
    text = value if isinstance(value, str) else json.dumps(value)
    return as_bytes(text).decode("utf-8", "replace")


SITE_PACKAGES = Path(django.__file__).resolve().parents[1]


def project_tables() -> list[str]:
    """The tables of the project's own apps (not the installed packages': sessions, tokens,
    the login lockout's attempts)."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and not Path(model._meta.app_config.path).resolve().is_relative_to(SITE_PACKAGES)
    )


def row_counts(tables: list[str]) -> dict[str, int]:
    # One statement for every table; the names come from the models, quoted.
    quote_name = connection.ops.quote_name
    counts = ", ".join(f"(SELECT count(*) FROM {quote_name(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")  # noqa: S608
        return dict(zip(tables, cursor.fetchone(), strict=True))


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(fast_password_hashing, admin_user, collector, monkeypatch):
    """The objects the requests name, and the admin's client (the role that may call every
    write)."""
    # Uploads would start Celery jobs; here the upload is enough.
    monkeypatch.setattr("imports.tasks.run_import.delay", lambda job_id: None)
    make_one_of_each(collector)
    return {
        "clients": {"admin": token_client(admin_user), "collector": token_client(collector)},
        "users": {"collector": collector.pk},
    }


@pytest.fixture
def rows(world) -> dict[str, int]:
    """Every project table's rows before a request: the same before each, as each request's
    writes are rolled back."""
    return row_counts(project_tables())


def client_for(write: str, world: dict):
    return world["clients"][CALLERS.get(write, "admin")]


def request_parts(write: str, world: dict) -> tuple[dict, dict, dict]:
    body = valid_body(write)
    # Users are named by the fixture's ids, not fixed ones.
    for name in ("collectors", "assigned_to"):
        if name in body:
            value = body[name]
            users = world["users"]
            body[name] = [users[v] for v in value] if isinstance(value, list) else users[value]
    headers = dict(VALID_HEADERS.get(write, {}))
    path_values = {
        p["name"]: PATH_VALUES.get(p["name"], SEEDED_ID)
        for p in operation(write).get("parameters", [])
        if p["in"] == "path"
    }
    return body, headers, path_values


def with_value(write: str, world: dict, place: tuple, value) -> tuple[dict, dict, dict]:
    """The valid request with ``value`` in one input (``("body", path)``, ``("header", name)``
    or ``("path", name)``)."""
    body, headers, path_values = request_parts(write, world)
    where, name = place
    if where == "body":
        body = replaced(body, name, value)
    elif where == "header":
        headers[name] = value
    else:
        path_values[name] = value
    return body, headers, path_values


def assert_refused_cleanly_or_taken(world, rows, write, body, headers, path_values, label=None):
    """Below 500; a refusal leaves every table as it was. The request's writes are rolled
    back, so the next one starts from ``rows`` again."""
    with transaction.atomic():
        response = send(client_for(write, world), write, body, headers, path_values)
        assert response.status_code < 500, (label, response.content[:500])
        if 400 <= response.status_code < 500:
            after = row_counts(list(rows))
            changed = {t: (rows[t], after[t]) for t in rows if rows[t] != after[t]}
            assert not changed, (label, response.status_code, response.content[:300], changed)
        transaction.set_rollback(True)


# --- Tests ------------------------------------------------------------------------------------


def test_there_are_write_endpoints_and_each_has_a_valid_request():
    """The list comes from the schema; a new endpoint needs a request it accepts here (the
    property test runs on it meanwhile, from its required fields)."""
    assert len(WRITES) > 20, WRITES
    assert sorted(VALID_REQUESTS) == WRITES


def test_the_row_count_sees_a_write_and_the_lockout_is_left_out(world, rows):
    """The refusal check is not vacuous: a note the API adds shows in it. The login lockout's
    attempts (an installed package's table) are not the project's: a refused sign-in records
    one, by design."""
    write = "POST /api/v1/notes/"
    response = send(client_for(write, world), write, *request_parts(write, world))
    assert response.status_code == 201
    assert row_counts(list(rows))[Note._meta.db_table] == rows[Note._meta.db_table] + 1
    assert AccessAttempt._meta.db_table not in rows


@pytest.mark.parametrize("write", WRITES)
def test_the_valid_request_is_accepted(world, write):
    """What the hostile values are put into is a request the API takes, so a refusal is the
    hostile value's doing."""
    body, headers, path_values = request_parts(write, world)
    response = send(client_for(write, world), write, body, headers, path_values)
    # A permit the gate refuses (409) is an answer to a valid request.
    assert response.status_code < 400 or response.status_code == 409, (
        write,
        response.status_code,
        response.content[:500],
    )


@pytest.mark.parametrize("write", WRITES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_one_hostile_value_never_fails_and_a_refusal_writes_nothing(world, rows, write, data):
    places = inputs(write)
    if not places:
        assert_refused_cleanly_or_taken(world, rows, write, *request_parts(write, world))
        return
    place = data.draw(st.sampled_from(places), label="input")
    value = data.draw(HOSTILE_VALUES, label="value")
    assert_refused_cleanly_or_taken(world, rows, write, *with_value(write, world, place, value))


# The first of each kind: what the random search above may not draw in a short run.
WORST = [
    hostile.NUL_STRINGS[0],
    hostile.LONE_SURROGATES[0],
    hostile.LONG_STRINGS[0],
    hostile.DATES[0],
    hostile.INSTANTS[0],
    hostile.AMOUNTS[0],
    hostile.INTEGERS[0],
]


@pytest.mark.parametrize("write", WRITES)
def test_every_input_takes_the_worst_of_each_kind(world, rows, write):
    for place in inputs(write):
        for value in WORST:
            parts = with_value(write, world, place, value)
            assert_refused_cleanly_or_taken(world, rows, write, *parts, label=(place, value))
