from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from tests.factories import make_case, make_debtor

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def test_token_flow(collector):
    debtor = make_debtor()
    make_case(debtor, collector)
    client = APIClient()

    response = client.post(
        TOKEN_URL, {"username": "alice", "password": "test-pass-123"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(f"/api/v1/debtors/{debtor.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == debtor.pk


def test_the_same_user_gets_the_same_token(collector):
    client = APIClient()
    credentials = {"username": "alice", "password": "test-pass-123"}
    first = client.post(TOKEN_URL, credentials, format="json").json()["token"]
    second = client.post(TOKEN_URL, credentials, format="json").json()["token"]
    assert first == second


def test_wrong_password_gets_no_token(collector):
    response = APIClient().post(
        TOKEN_URL, {"username": "alice", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_missing_fields_are_named(db):
    response = APIClient().post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


@pytest.mark.parametrize("url", ["/api/v1/debtors/", "/api/v1/loans/", "/api/v1/debtors/1/"])
def test_anonymous_requests_are_refused(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401


def test_an_unknown_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/v1/debtors/").status_code == 401


def test_session_authentication_works_too(collector):
    client = APIClient()
    assert client.login(username="alice", password="test-pass-123")
    assert client.get("/api/v1/debtors/").status_code == 200


def test_a_username_longer_than_any_is_refused_before_the_sign_in_is_tried(collector):
    """It was a server error: the lockout records a failed sign-in's username, and its
    column holds 255 characters."""
    response = APIClient().post(
        TOKEN_URL, {"username": "é" * 10_000, "password": "test-pass-123"}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()
