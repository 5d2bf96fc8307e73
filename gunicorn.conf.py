"""Gunicorn settings of the web process.

``gunicorn`` reads this file from its working directory: the image's ``/app`` (Dockerfile and
docker-compose.yml) and the repository root (``bench/pages.py``), so all three serve the pages
the same way. Options given on the command line win over these.

* Threads (``gthread``): a page spends part of its time waiting for PostgreSQL; the threads of
  one process overlap those waits, while one process per core keeps the CPU busy without
  processes fighting over it. ``WEB_WORKERS`` (default: the number of cores, at least 2) and
  ``WEB_THREADS`` (default 4) change it.
* Keep-alive longer than a collector's pause between two clicks (``WEB_KEEPALIVE``, 10 s): a
  connection the server closes just as the browser reuses it is a request lost without an
  answer.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number (got {value!r}).") from None
    if number < 1:
        raise SystemExit(f"{name} must be at least 1 (got {number}).")
    return number


worker_class = "gthread"
workers = _int("WEB_WORKERS", max(2, os.cpu_count() or 1))
threads = _int("WEB_THREADS", 4)
keepalive = _int("WEB_KEEPALIVE", 10)
# A worker silent this long is restarted (it is stuck: no page takes seconds).
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = 30
# Self-service tokens are masked in gunicorn's own access and error logs.
logger_class = "portal.gunicorn_logger.TokenMaskingLogger"
