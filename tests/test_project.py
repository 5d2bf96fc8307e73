"""The project's operational contract: the compose file, migrations, and the two open URLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
STACK = ("web", "worker", "beat", "postgres", "redis")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_file_validates_against_the_compose_specification():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_five_services_each_with_a_health_check(compose):
    services = compose["services"]
    for name in STACK:
        assert name in services, f"{name} is missing"
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_compose_app_services_run_in_production_and_require_their_secret(compose):
    services = compose["services"]
    commands = {name: " ".join(services[name]["command"]) for name in ("web", "worker", "beat")}
    assert commands["web"].startswith("gunicorn collections_app.wsgi")
    assert commands["worker"].startswith("celery -A collections_app worker")
    assert commands["beat"].startswith("celery -A collections_app beat")
    for name in ("migrate", "web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["APP_ENV"] == "production"
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert "ALLOWED_HOSTS" in environment
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_models_and_migrations_agree(db):
    # Exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz"])
def test_open_pages_answer(db, client, url):
    assert client.get(url).status_code == 200


def test_web_and_worker_share_the_uploaded_import_files(compose):
    """web saves an upload under MEDIA_ROOT; the worker that imports it must read the same."""
    services = compose["services"]
    media_root = {name: services[name]["environment"]["MEDIA_ROOT"] for name in ("web", "worker")}
    assert media_root["web"] == media_root["worker"]

    def volume_holding(name: str, path: str) -> str | None:
        for mount in services[name].get("volumes", []):
            source, target = mount.split(":")[:2]
            if (path + "/").startswith(target.rstrip("/") + "/"):
                return source
        return None

    shared = volume_holding("web", media_root["web"])
    assert shared is not None, "web keeps its uploads inside the container"
    assert shared in compose["volumes"], "a named volume, not a path on one host"
    assert volume_holding("worker", media_root["worker"]) == shared


def test_compose_runs_the_application_as_a_role_that_owns_nothing(compose):
    """migrate alone connects as the tables' owner; web, worker and beat as the role the
    postgres service's init script creates, which is no superuser and owns nothing."""
    services = compose["services"]

    def role(url: str) -> str:
        return url.split("://", 1)[1].split(":", 1)[0]

    owner = role(services["migrate"]["environment"]["DATABASE_OWNER_URL"])
    assert owner == services["postgres"]["environment"]["POSTGRES_USER"]
    for name in ("migrate", "web", "worker", "beat"):
        application = role(services[name]["environment"]["DATABASE_URL"])
        assert application != owner
        if name != "migrate":
            assert "DATABASE_OWNER_URL" not in services[name]["environment"]
    init = ROOT / "docker" / "postgres-init" / "10-application-role.sh"
    assert "/docker-entrypoint-initdb.d" in " ".join(services["postgres"]["volumes"])
    assert f"CREATE ROLE {application} LOGIN" in init.read_text()
    assert "NOSUPERUSER" in init.read_text()
