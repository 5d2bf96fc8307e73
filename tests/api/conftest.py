"""API clients authenticated as each role, by token (the way integrations call the API)."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_collector(collector) -> APIClient:
    return token_client(collector)


@pytest.fixture
def as_other_collector(other_collector) -> APIClient:
    return token_client(other_collector)


@pytest.fixture
def as_supervisor(supervisor) -> APIClient:
    return token_client(supervisor)


@pytest.fixture
def as_admin(admin_user) -> APIClient:
    return token_client(admin_user)
