"""Stolen passwords and tokens: the login lockout (pages and the token endpoint alike), a
supervisor's unlock, API throttles, tokens that end, sessions that end."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import LoginUnlock
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db
PASSWORD = "test-pass-123"  # noqa: S105 - the fixtures' password


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def _token(client: APIClient, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


# --- The lockout ------------------------------------------------------------------------------


def test_ten_failures_lock_the_username_from_that_address_even_for_the_right_password(
    collector, supervisor
):
    client = Client()
    for _ in range(10):
        assert _login(client, "alice", "wrong").status_code in (200, 429)
    locked = _login(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same username from another address is not locked, nor another user from this one.
    assert _login(Client(), "alice", PASSWORD, address="10.0.0.2").status_code == 302
    assert _login(Client(), "sam", PASSWORD).status_code == 302

    # A supervisor unlocks it, and the unlock is recorded.
    boss = Client()
    boss.force_login(supervisor)
    page = boss.get("/lockouts/")
    assert page.status_code == 200 and "alice" in page.content.decode()
    [attempt] = page.context["locked"]
    assert boss.post(f"/lockouts/{attempt.pk}/unlock/").status_code == 302
    unlock = LoginUnlock.objects.get()
    assert (unlock.username, unlock.unlocked_by) == ("alice", supervisor)
    assert unlock.failures >= 10  # the refused right password counts too
    assert _login(Client(), "alice", PASSWORD).status_code == 302


def test_a_collector_cannot_unlock(collector, other_collector):
    client = Client()
    client.force_login(other_collector)
    assert client.get("/lockouts/").status_code == 403


def test_the_token_endpoint_locks_the_same_way(collector):
    client = APIClient()
    for _ in range(10):
        assert _token(client, "alice", "wrong").status_code in (400, 429)
    locked = _token(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert "token" not in locked.json()
    # The pages count the same failures.
    assert _login(Client(), "alice", PASSWORD).status_code == 429


def test_the_lockout_ends_by_itself(collector, settings):
    client = Client()
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        for _ in range(10):
            _login(client, "alice", "wrong")
        assert _login(client, "alice", PASSWORD).status_code == 429
    later = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC) + settings.AXES_COOLOFF_TIME
    with time_machine.travel(later + dt.timedelta(minutes=1), tick=False):
        assert _login(Client(), "alice", PASSWORD).status_code == 302


# --- Throttles --------------------------------------------------------------------------------


def test_the_api_throttles_per_user(collector, settings):
    settings.API_THROTTLE_RATES = {"user": "20/min", "address": "100000/min"}
    client = token_client(collector)
    statuses = [client.get("/api/v1/cases/").status_code for _ in range(25)]
    assert statuses[:20] == [200] * 20
    assert set(statuses[20:]) == {429}
    # Another user is not held back by the first.
    other = User.objects.create_user("carol", password=PASSWORD)
    assert token_client(other).get("/api/v1/strategies/").status_code in (200, 403)


def test_the_api_throttles_per_address_before_sign_in(collector, settings):
    settings.API_THROTTLE_RATES = {"user": "100000/min", "address": "5/min"}
    client = APIClient()
    statuses = [_token(client, "nobody", "x", address="10.9.9.9").status_code for _ in range(7)]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]
    assert _token(client, "nobody", "x", address="10.9.9.8").status_code == 400


# --- Tokens -----------------------------------------------------------------------------------


def test_delete_revokes_the_callers_token(collector):
    client = token_client(collector)
    assert client.get("/api/v1/cases/").status_code == 200
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert not Token.objects.filter(user=collector).exists()
    assert client.get("/api/v1/cases/").status_code == 401
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401


def test_a_token_expires_after_its_lifetime(collector, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    made = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(made, tick=False):
        key = _token(APIClient(), "alice", PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with time_machine.travel(made + dt.timedelta(days=29), tick=False):
        assert client.get("/api/v1/cases/").status_code == 200
    with time_machine.travel(made + dt.timedelta(days=30, seconds=1), tick=False):
        assert client.get("/api/v1/cases/").status_code == 401
        fresh = _token(APIClient(), "alice", PASSWORD).json()["token"]
    assert fresh != key


@pytest.mark.parametrize("change", ["password", "deactivation", "sign-out"])
def test_a_password_change_a_deactivation_or_a_sign_out_revoke_tokens(collector, change):
    client = token_client(collector)
    assert client.get("/api/v1/cases/").status_code == 200
    if change == "password":
        collector.set_password("a-new-long-password-42")
        collector.save()
    elif change == "deactivation":
        collector.is_active = False
        collector.save(update_fields=["is_active"])
    else:
        browser = Client()
        browser.force_login(collector)
        browser.post("/accounts/logout/")
    assert not Token.objects.filter(user=collector).exists()
    assert client.get("/api/v1/cases/").status_code == 401


def test_a_last_login_update_keeps_the_token(collector):
    client = token_client(collector)
    assert Client().login(username="alice", password=PASSWORD)
    assert client.get("/api/v1/cases/").status_code == 200


# --- Sessions ---------------------------------------------------------------------------------


def test_a_staff_session_ends_after_thirty_idle_minutes_and_twelve_hours_in_all(collector):
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    client = Client()
    with time_machine.travel(start, tick=False):
        assert _login(client, "alice", PASSWORD).status_code == 302
        assert client.get("/").status_code == 200
    # Active every 20 minutes: still signed in after 11 hours...
    moment = start
    while moment < start + dt.timedelta(hours=11, minutes=40):
        moment += dt.timedelta(minutes=20)
        with time_machine.travel(moment, tick=False):
            assert client.get("/").status_code == 200, moment
    # ...but not past twelve hours in all.
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/").status_code == 302
    # Idle for 31 minutes: signed out.
    other = Client()
    with time_machine.travel(start, tick=False):
        _login(other, "alice", PASSWORD)
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert other.get("/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=61), tick=False):
        response = other.get("/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
