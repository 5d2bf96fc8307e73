"""Benchmark: the provider webhooks answer within a second, under a burst, on the portfolio.

Takes the seeded portfolio (seeding ``--loans`` first when run alone on an empty database),
picks ``BENCH_WEBHOOKS_DEBTORS`` (300) debtors with a Chinese mobile and an email, and gives
each an SMS "sent" through Twilio and one through Alibaba Cloud. Then it starts gunicorn on
127.0.0.1 (the project's ``gunicorn.conf.py``), a private ``redis-server`` on a free loopback
port and one Celery worker, and posts, from ``BENCH_WEBHOOKS_CONCURRENCY`` (8) senders at once
and as fast as the server answers, five requests per debtor in a shuffled order:

* Twilio ``sms/``: a reply ("I will pay on Friday"), stored as the debtor's inbound contact;
* Twilio ``status/``: ``delivered`` for the debtor's Twilio message;
* Alibaba Cloud ``sms-report/``: a permanent failure for the Alibaba message (``out_id``);
* a STOP: ``STOP`` through Twilio (answered in the TwiML, its permit spent) for half of the
  debtors, ``TD`` through Alibaba Cloud (the confirmation queued for the worker) for the rest;
* ``email/inbound/``: an RFC 3464 bounce (5.1.1) for the debtor's email address.

Each request is signed as its provider signs it. It reports each endpoint's latency (p50,
p95, p99, slowest) against the one-second answer the providers expect, checks in the
database that every change was made, and waits for the worker to send every Alibaba
confirmation. Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from .context import ROOT, Context, Result
from .pages import ensure_portfolio, free_port, server_size, start_server, stop

NAME = "webhooks"
TITLE = "Provider webhooks: replies, STOP, delivery reports and bounces under a burst"
DESCRIPTION = (
    "Signed Twilio and Alibaba Cloud webhooks and raw RFC 3464 bounces, 5 per debtor for 300 "
    "debtors of the seeded portfolio, posted by 8 senders at once as fast as gunicorn (the "
    "project's gunicorn.conf.py, on 127.0.0.1) answers: replies, STOP through each provider "
    "(Twilio answered in the TwiML, Alibaba Cloud's confirmation sent by a Celery worker on a "
    "private Redis), delivery reports and bounces. Each change is checked in the database."
)
TARGET_MS = 1000.0
TWILIO_TOKEN = "bench-twilio-auth-token"  # noqa: S105 - a benchmark secret on loopback
PUSH_TOKEN = "bench-aliyun-push-token"  # noqa: S105
MAIL_TOKEN = "bench-mail-token"  # noqa: S105
ENDPOINTS = (
    "twilio sms: reply",
    "twilio sms: STOP",
    "twilio status",
    "aliyun sms-up: TD",
    "aliyun sms-report",
    "email bounce",
)

SETUP = """
import json
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from compliance.models import ContactAttempt
from debtors.models import ContactPoint
from messaging.models import SentMessage

usable = ["unverified", "verified"]
# Debtors with an email and a Chinese mobile, read a thousand debtors at a time until enough;
# one debtor per number or address: a number shared by two chosen debtors would make two
# replies of one.
mobiles, emails, taken, chosen, after = {}, {}, set(), [], 0
started = timezone.now()
while len(chosen) < count:
    ids = list(
        ContactPoint.objects.filter(kind="email", status__in=usable, debtor_id__gt=after)
        .order_by("debtor_id").values_list("debtor_id", flat=True).distinct()[:1000]
    )
    if not ids:
        break
    after = ids[-1]
    for debtor_id, kind, value in (
        ContactPoint.objects.filter(debtor_id__in=ids, status__in=usable)
        .filter(Q(kind="email") | Q(kind="mobile", value__startswith="+86"))
        .order_by("debtor_id", "pk").values_list("debtor_id", "kind", "value")
    ):
        found = emails if kind == "email" else mobiles
        if debtor_id not in found and value not in taken:
            found[debtor_id] = value
            taken.add(value)
    # Not a debtor another benchmark contacted at a pinned future instant (the reminders'
    # dispatch): a message "sent" after a STOP rightly blocks the STOP's confirmation.
    contacted_later = set(
        ContactAttempt.objects.filter(debtor_id__in=ids, occurred_at__gt=started)
        .values_list("debtor_id", flat=True)
    )
    chosen += [d for d in ids if d in emails and d in mobiles and d not in contacted_later]
chosen = chosen[:count]
now = timezone.now()
with transaction.atomic():
    rows = []
    for n, debtor_id in enumerate(chosen):
        for provider in ("twilio", "aliyun"):
            rows.append(ContactAttempt(
                debtor_id=debtor_id, channel="sms", direction="outbound", outcome="sent",
                occurred_at=now, completed_at=now, actor_label="bench: webhooks",
            ))
    ContactAttempt.objects.bulk_create(rows)
    sent = []
    for n, debtor_id in enumerate(chosen):
        twilio_attempt, aliyun_attempt = rows[2 * n], rows[2 * n + 1]
        sent.append(SentMessage(
            attempt=twilio_attempt, debtor_id=debtor_id, channel="sms", body="Payment due.",
            to=mobiles[debtor_id], provider="twilio", provider_ref=f"SM{tag}{n:024d}",
        ))
        sent.append(SentMessage(
            attempt=aliyun_attempt, debtor_id=debtor_id, channel="sms", body="还款提醒。",
            to=mobiles[debtor_id], provider="aliyun", provider_ref=f"{tag}{n:012d}^0",
            idempotency_key=f"bench-{tag}-{n}",
        ))
    SentMessage.objects.bulk_create(sent)
print("DEBTORS=" + json.dumps([[d, mobiles[d], emails[d]] for d in chosen]))
"""

CHECK = """
import json
from debtors.models import ChannelConsent, ContactPoint
from messaging.models import InboundMessage, ReceivedMessage, SentMessage
debtors = json.loads(debtors)
ids = [d for d, _m, _e in debtors]
emails = [e for _d, _m, e in debtors]
mobiles = [m for _d, m, _e in debtors]
print("CHECK=" + json.dumps({
    "replies": ReceivedMessage.objects.filter(debtor_id__in=ids, body=reply).count(),
    "opted_out": ChannelConsent.objects.filter(
        contact_point__value__in=mobiles, channel="sms", opted_out_at__isnull=False
    ).values("contact_point__value").distinct().count(),
    "delivered": SentMessage.objects.filter(
        provider="twilio", provider_ref__startswith=f"SM{tag}", delivery_status="delivered"
    ).count(),
    "failed": SentMessage.objects.filter(
        provider="aliyun", idempotency_key__startswith=f"bench-{tag}-", delivery_status="failed"
    ).count(),
    "bounced": ContactPoint.objects.filter(
        kind="email", debtor_id__in=ids, value__in=emails, status="invalid"
    ).count(),
    "aliyun_answered": InboundMessage.objects.filter(
        provider="aliyun", provider_ref__startswith=f"{tag}-", answered_at__isnull=False
    ).count(),
    "aliyun_sent": SentMessage.objects.filter(
        provider="file", to__in=mobiles, idempotency_key__startswith="answer-"
    ).count(),
    "twilio_sent": SentMessage.objects.filter(
        provider="twilio", to__in=mobiles, idempotency_key__startswith="answer-"
    ).count(),
}))
"""

REPLY = "I will pay on Friday"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _log(message: str) -> None:
    print(f"  [webhooks] {message}", flush=True)


# --- The private Redis and the worker ------------------------------------------------------


def _start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a private redis-server on loopback
        [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(workdir)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("the private redis-server did not answer within 30 s")


def _start_worker(ctx: Context, env: dict[str, str], log: Path) -> subprocess.Popen:
    celery = Path(sys.executable).with_name("celery")
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own worker, on the private Redis
            [str(celery), "-A", "collections_app", "worker", "-P", "solo", "-l", "INFO"]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=ctx.env(**env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if b"ready." in log.read_bytes():
            return process
        if process.poll() is not None:
            raise RuntimeError("the worker exited:\n" + log.read_text(errors="replace")[-2000:])
        time.sleep(0.3)
    stop(process)
    raise RuntimeError("the worker did not start within 60 s")


# --- What the providers post -----------------------------------------------------------------


def _bounce(recipient: str, n: int) -> bytes:
    """An RFC 3464 bounce as an MTA writes it: 5.1.1 for ``recipient``."""
    boundary = f"bench-dsn-{n}"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: bounces@collections.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bench-{n}@mx.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message to {recipient} could not be delivered.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def _requests(debtors, base: str, tag: str, seed: int):
    """(endpoint, path, body, headers) for each request, shuffled."""
    validator = RequestValidator(TWILIO_TOKEN)
    out = []

    def twilio(name: str, path: str, params: dict[str, str]):
        signature = validator.compute_signature(base + path, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        out.append((name, path, urlencode(params).encode(), headers))

    for n, (_debtor, mobile, email) in enumerate(debtors):
        sid = f"SM{tag}{n:024d}"
        twilio(
            "twilio sms: reply",
            "/webhooks/twilio/sms/",
            {"MessageSid": f"SM{tag}r{n:023d}", "From": mobile, "To": "+1500", "Body": REPLY},
        )
        twilio(
            "twilio status",
            "/webhooks/twilio/status/",
            {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32},
        )
        report = [
            {
                "phone_number": mobile.removeprefix("+86"),
                "success": False,
                "err_code": "MOBILE_NOT_ON_SERVICE",
                "biz_id": f"{tag}{n:012d}^0",
                "out_id": f"bench-{tag}-{n}",
                "report_time": "2026-01-01 10:00:00",
            }
        ]
        out.append(
            (
                "aliyun sms-report",
                f"/webhooks/aliyun/sms-report/?token={PUSH_TOKEN}",
                json.dumps(report).encode(),
                {"Content-Type": "application/json"},
            )
        )
        if n % 2 == 0:
            twilio(
                "twilio sms: STOP",
                "/webhooks/twilio/sms/",
                {"MessageSid": f"SM{tag}s{n:023d}", "From": mobile, "To": "+1500", "Body": "STOP"},
            )
        else:
            up = [
                {
                    "phone_number": mobile.removeprefix("+86"),
                    # China time, a minute ago (Alibaba Cloud's clock).
                    "send_time": time.strftime(
                        "%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 8 * 3600 - 60)
                    ),
                    "content": "TD",
                    "sign_name": "示例",
                    "dest_code": "1234",
                    "sequence_id": f"{tag}-{n}",
                }
            ]
            out.append(
                (
                    "aliyun sms-up: TD",
                    f"/webhooks/aliyun/sms-up/?token={PUSH_TOKEN}",
                    json.dumps(up).encode(),
                    {"Content-Type": "application/json"},
                )
            )
        out.append(
            (
                "email bounce",
                "/webhooks/email/inbound/",
                _bounce(email, n),
                {"Content-Type": "message/rfc822", "X-Webhook-Token": MAIL_TOKEN},
            )
        )
    random.Random(seed).shuffle(out)
    return out


def _post_all(port: int, requests, concurrency: int):
    """Post every request from ``concurrency`` senders; (endpoint, ms, status) per request."""
    pending = list(reversed(requests))
    lock = threading.Lock()
    timings: list[tuple[str, float, int]] = []

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not pending:
                    break
                name, path, body, headers = pending.pop()
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                timings.append((name, elapsed, status))
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _check(ctx: Context, debtors, tag: str) -> dict:
    script = f"debtors, tag, reply = {json.dumps(debtors)!r}, {tag!r}, {REPLY!r}\n" + CHECK
    lines = ctx.manage("shell", "-c", script).stdout.splitlines()
    return json.loads(next(line for line in lines if line.startswith("CHECK=")).split("=", 1)[1])


def run(ctx: Context) -> list[Result]:
    count = _int("BENCH_WEBHOOKS_DEBTORS", 300)
    concurrency = _int("BENCH_WEBHOOKS_CONCURRENCY", 8)
    ensure_portfolio(ctx, _log)
    tag = f"{os.getpid() % 100000:05d}"
    script = f"count, tag = {count}, {tag!r}\n" + SETUP
    lines = ctx.manage("shell", "-c", script).stdout.splitlines()
    debtors = json.loads(
        next(line for line in lines if line.startswith("DEBTORS=")).split("=", 1)[1]
    )
    if not debtors:
        return [Result("debtors", "none with a Chinese mobile and an email", "", False)]
    _log(f"{len(debtors)} debtors, each with a Twilio and an Alibaba Cloud message sent")

    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    port = free_port()
    workers, threads = server_size()
    redis, server, worker = None, None, None
    try:
        redis, redis_url = _start_redis(workdir)
        env = {
            "REDIS_URL": redis_url,
            "SMS_BACKEND": "file",
            "REMINDER_OUTBOX_DIR": str(workdir / "outbox"),
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "ALIYUN_SMS_PUSH_TOKEN": PUSH_TOKEN,
            "EMAIL_INBOUND_TOKEN": MAIL_TOKEN,
            "WEBHOOK_BASE_URL": f"http://127.0.0.1:{port}",
        }
        worker = _start_worker(ctx, env, workdir / "worker.log")
        server = start_server(ctx, port, workers, threads, **env)
        requests = _requests(debtors, f"http://127.0.0.1:{port}", tag, ctx.options.get("seed", 1))
        _log(f"{len(requests)} requests from {concurrency} senders to 127.0.0.1:{port}")
        started = time.monotonic()
        timings = _post_all(port, requests, concurrency)
        seconds = time.monotonic() - started
        # The worker sends Alibaba Cloud's confirmations after the webhooks answered.
        expected = len(debtors) // 2
        deadline = time.monotonic() + 120
        checked = _check(ctx, debtors, tag)
        while checked["aliyun_sent"] < expected and time.monotonic() < deadline:
            time.sleep(2)
            checked = _check(ctx, debtors, tag)
        drained = time.monotonic() - started - seconds
    finally:
        for process in (server, worker, redis):
            if process is not None:
                stop(process)
        shutil.rmtree(workdir, ignore_errors=True)

    by_endpoint: dict[str, list[float]] = defaultdict(list)
    errors = 0
    for name, ms, status in timings:
        by_endpoint[name].append(ms)
        errors += status != 200
    results = []
    for name in ENDPOINTS:
        values = by_endpoint.get(name, [])
        if not values:
            results.append(
                Result(f"{name}: slowest", "no requests", f"< {TARGET_MS:.0f} ms", False)
            )
            continue
        slowest = max(values)
        results.append(
            Result(
                f"{name}: slowest answer",
                f"{slowest:.0f} ms",
                f"< {TARGET_MS:.0f} ms",
                slowest < TARGET_MS,
                f"{len(values)} requests, p50 {statistics.median(values):.0f} ms, "
                f"p95 {_percentile(values, 95):.0f} ms, p99 {_percentile(values, 99):.0f} ms",
            )
        )
    results.append(
        Result(
            "errors",
            f"{errors} of {len(timings):,} requests",
            "0",
            errors == 0 and len(timings) == len(requests),
            f"{workers} gunicorn processes x {threads} threads, {concurrency} senders, "
            f"{len(timings) / seconds:.0f} requests/s over {seconds:.1f} s",
        )
    )
    n, half = len(debtors), len(debtors) // 2
    wanted = {
        "replies": n,
        "opted_out": n,
        "delivered": n,
        "failed": n,
        "bounced": n,
        "twilio_sent": n - half,
        "aliyun_sent": half,
    }
    missing = {k: f"{checked.get(k)} of {v}" for k, v in wanted.items() if checked.get(k) != v}
    results.append(
        Result(
            "changes made",
            "all" if not missing else "; ".join(f"{k} {v}" for k, v in missing.items()),
            "all",
            not missing,
            f"{n} replies stored, {n} numbers opted out, {n} delivery reports applied to "
            f"Twilio messages and {n} to Alibaba Cloud messages, {n} addresses bounced",
        )
    )
    results.append(
        Result(
            "Alibaba Cloud STOP confirmations sent by the worker",
            f"{checked['aliyun_sent']} of {half}",
            "",
            None,
            f"the last {drained:.1f} s after the burst ended (one solo worker)",
        )
    )
    return results
