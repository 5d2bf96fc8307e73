"""Container health checks for docker-compose: ``python scripts/healthcheck.py web|worker|beat``.

* web: ``GET /healthz`` answers 200 (the view runs ``SELECT 1``). The request names the first
  of ``ALLOWED_HOSTS`` and says it came over HTTPS, as the TLS proxy in front would, so
  neither the host check nor the HTTPS redirect turns it away.
* worker: this container's Celery worker answers a ping through the broker.
* beat: the broker answers and beat has written its schedule file.

Exits 0 when healthy, 1 otherwise, with the reason on stderr.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path

BEAT_SCHEDULE_FILE = Path("/tmp/celerybeat-schedule")  # noqa: S108 - matches the beat command


def first_allowed_host() -> str:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0] if hosts else "localhost"
    if host == "*":
        return "localhost"
    return host.lstrip(".")


def check_web() -> str | None:
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on this container
        "http://127.0.0.1:8000/healthz",
        headers={"Host": first_allowed_host(), "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            if response.status != 200:
                return f"/healthz answered {response.status}"
    except OSError as exc:
        return f"/healthz failed: {exc}"
    return None


def check_worker() -> str | None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collections_app.settings")
    from collections_app.celery import app

    node = f"celery@{socket.gethostname()}"
    replies = app.control.ping(destination=[node], timeout=5)
    if not any(node in reply for reply in replies):
        return f"{node} did not answer a ping"
    return None


def check_beat() -> str | None:
    import redis

    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
    except (KeyError, redis.RedisError) as exc:
        return f"broker unreachable: {exc!r}"
    if not any(BEAT_SCHEDULE_FILE.parent.glob(BEAT_SCHEDULE_FILE.name + "*")):
        return "beat has not written its schedule file"
    return None


CHECKS = {"web": check_web, "worker": check_worker, "beat": check_beat}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in CHECKS:
        print(f"usage: healthcheck.py {'|'.join(CHECKS)}", file=sys.stderr)
        return 2
    problem = CHECKS[argv[1]]()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
