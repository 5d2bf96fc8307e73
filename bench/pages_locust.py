"""Locust scenario for ``bench/pages.py``: collectors working their queue and their cases.

Each simulated collector starts signed in (one of the sessions in ``BENCH_PAGES_SESSIONS``,
made by the benchmark beforehand), then loops: open the queue, open the next case, open one
more case from the queue, and now and then the queue's second page. The host is given on
locust's command line and is always a loopback address.
"""

from __future__ import annotations

import itertools
import os
import random
import re

from locust import HttpUser, between, events, task

SESSIONS = [key for key in os.environ.get("BENCH_PAGES_SESSIONS", "").split(",") if key]
CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
NEXT_PAGE = re.compile(r'hx-get="\?(?:[^"]*&amp;)?after=([0-9.\-]+)"')
_numbers = itertools.count(1)


@events.test_start.add_listener
def _refuse_remote_hosts(environment, **_kwargs):
    host = environment.host or ""
    if not re.match(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/?$", host):
        raise SystemExit(f"Refusing to load anything but this machine (got {host!r}).")


class Collector(HttpUser):
    # A collector reads, dials and talks between clicks: a few seconds each time.
    wait_time = between(1, 4)

    def on_start(self):
        if not SESSIONS:
            raise RuntimeError("BENCH_PAGES_SESSIONS is empty")
        key = SESSIONS[(next(_numbers) - 1) % len(SESSIONS)]
        self.client.cookies.set("sessionid", key, domain="127.0.0.1", path="/")
        self.case_ids: list[str] = []
        self.next_cursor = ""

    @task(3)
    def queue(self):
        with self.client.get("/", name="queue", catch_response=True) as response:
            if response.status_code != 200 or "queue-rows" not in response.text:
                response.failure(f"queue answered {response.status_code}")
                return
            self.case_ids = CASE_LINK.findall(response.text)
            found = NEXT_PAGE.search(response.text)
            self.next_cursor = found.group(1) if found else ""

    @task(3)
    def next_case(self):
        with self.client.get("/queue/next/", name="next case", catch_response=True) as response:
            if response.status_code != 200 or "timeline" not in response.text:
                response.failure(f"next case answered {response.status_code}")

    @task(4)
    def case(self):
        if not self.case_ids:
            self.queue()
            if not self.case_ids:
                return
        case_id = random.choice(self.case_ids)  # noqa: S311 - load, not secrets
        with self.client.get(f"/cases/{case_id}/", name="case", catch_response=True) as response:
            if response.status_code != 200 or "timeline" not in response.text:
                response.failure(f"case answered {response.status_code}")

    @task(1)
    def queue_second_page(self):
        if not self.next_cursor:
            return
        with self.client.get(
            f"/?after={self.next_cursor}",
            name="queue page 2",
            headers={"HX-Request": "true"},
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"queue page 2 answered {response.status_code}")
