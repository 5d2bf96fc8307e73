"""How the web process serves pages: gunicorn's settings and where sessions are read from."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"


def _config(monkeypatch, **env: str) -> dict:
    for name in ("WEB_WORKERS", "WEB_THREADS", "WEB_KEEPALIVE", "WEB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_threads_and_a_keep_alive_longer_than_a_pause_between_clicks(monkeypatch):
    config = _config(monkeypatch)
    assert config["worker_class"] == "gthread"
    assert config["workers"] >= 2
    assert config["threads"] == 4
    # The pages benchmark's collectors pause up to 4 s between clicks on one connection.
    assert config["keepalive"] > 4


def test_sizes_come_from_the_environment_and_bad_values_are_refused(monkeypatch):
    config = _config(monkeypatch, WEB_WORKERS="3", WEB_THREADS="8")
    assert (config["workers"], config["threads"]) == (3, 8)
    for bad in ("two", "0"):
        with pytest.raises(SystemExit, match="WEB_WORKERS"):
            _config(monkeypatch, WEB_WORKERS=bad)


def test_the_image_and_compose_leave_the_sizes_to_the_config_file():
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    command = " ".join(web["command"])
    assert "--workers" not in command and "--threads" not in command
    assert "--workers" not in (ROOT / "Dockerfile").read_text()
    assert "gunicorn.conf.py" not in (ROOT / ".dockerignore").read_text()


def test_sessions_are_read_from_the_cache_when_redis_is_configured():
    expected = "cached_db" if settings.REDIS_URL else "db"
    engine = settings.SESSION_ENGINE
    assert engine.rsplit(".", 1)[1] == expected


def test_a_process_loads_its_views_before_serving_and_connects_to_nothing(tmp_path):
    """The WSGI module warms the process (a webhook's first answer must not wait half a
    second for the views to import) without connecting: with the broker down it still starts."""
    script = (
        "import socket, sys\n"
        "def refuse(*a, **k):\n"
        "    raise AssertionError('warm-up connected to ' + repr(a))\n"
        "socket.create_connection = refuse\n"
        "socket.socket.connect = refuse\n"
        "import collections_app.wsgi\n"
        "assert 'messaging.webhooks' in sys.modules and 'workspace.views' in sys.modules\n"
        "assert 'kombu.transport.redis' in sys.modules\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "DJANGO_SETTINGS_MODULE": "collections_app.settings",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
