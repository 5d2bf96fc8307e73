"""Twilio Programmable Messaging (REST API 2010-04-01), as a local HTTP server for tests.

The Message resource, as Twilio documents it:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded, HTTP Basic
  ``AccountSid:AuthToken``: ``To``, ``Body`` and ``From`` or ``MessagingServiceSid`` are
  required; the answer is 201 and the Message resource (status ``queued``, or ``accepted``
  through a Messaging Service). ``StatusCallback`` is kept with the message.
* ``GET .../Messages.json``: the list page, newest first, filtered by ``To``, ``From``,
  ``DateSent`` (that day), ``DateSent<`` (on or before), ``DateSent>`` (on or after), paged by
  ``PageSize`` (default 50) and ``Page``.
* ``GET .../Messages/{Sid}.json``: one message.

Errors are Twilio's JSON ``{"code", "message", "more_info", "status"}``: 401/20003 for bad
credentials, 404/20404 for an unknown resource, 405/20004 for another method, 400 with 21604
(no ``To``), 21603 (no sender), 21602 (no ``Body``), 21211 (``To`` is not E.164) or 21617 (a
body over 1,600 characters).

Where it differs from Twilio, on purpose: a created message has ``date_sent`` at once (Twilio
fills it when the carrier takes the message), so the ``DateSent`` filters find it straight
away. A ``DateSent`` bound written as a day (``YYYY-MM-DD``, as documented) compares days; one
with a time of day (the SDK serialises datetimes as ``YYYY-MM-DDTHH:MM:SSZ``) compares
instants. Statuses move only when a test calls ``status_callback_request``.

Point the official SDK at it with ``client.api.base_url = standin.base_url``: the SDK builds
every Message URL from the Api domain's ``base_url`` (``twilio.base.domain.Domain``). Leave
``TWILIO_REGION``/``TWILIO_EDGE`` unset: with either, the SDK rewrites the host name.

Webhooks back to the application are returned rather than sent, signed as Twilio signs them
(``signature``), so a test can post them through Django's test client or, with ``post``, to a
live server.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler

import phonenumbers

from messaging.templating import sms_length
from tests.messaging.standins.loopback import LoopbackServer

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "5e7a1d" * 5 + "00"
DEFAULT_AUTH_TOKEN = "stand-in-auth-token"
# The number a Messaging Service picks when a message names no "From".
SERVICE_NUMBER = "+15005550006"
MAX_BODY = 1600
MAX_PAGE_SIZE = 1000

Params = Mapping[str, str] | Iterable[tuple[str, str]]

_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_LIST_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")
_ITEM_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json")
# Plain urllib, never an environment proxy: the targets are on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def signature(auth_token: str, url: str, params: Params) -> str:
    """The ``X-Twilio-Signature`` of a webhook, as Twilio's webhook-security page describes it.

    Base64 of HMAC-SHA1, keyed with the auth token, over the full URL Twilio requested (query
    string included) followed by each POST parameter's name and value, sorted by name
    (case-sensitive); a name sent more than once adds each of its values, sorted.
    """
    data = url + "".join(name + value for name, value in sorted(_pairs(params)))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def post(
    url: str, params: Params, headers: Mapping[str, str], *, timeout: float = 10
) -> tuple[int, str]:
    """POST ``params`` form-encoded to a live ``url``: the HTTP status and the answer's text."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"Not an HTTP URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=urllib.parse.urlencode(list(_pairs(params))).encode(),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class TwilioStandIn(LoopbackServer):
    """A Twilio account on loopback: ``with TwilioStandIn() as twilio: ... twilio.base_url``.

    ``messages`` holds every message created, as the Message resource plus its
    ``status_callback``; ``requests`` every authenticated request (method, path, parameters);
    ``inbound`` the inbound messages built by ``inbound_request``.
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        service_number: str = SERVICE_NUMBER,
    ) -> None:
        if not _ACCOUNT_SID.fullmatch(account_sid):
            raise ValueError(f"An account SID is AC and 32 hex digits, got {account_sid!r}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.service_number = service_number
        self.messages: list[dict] = []
        self.requests: list[dict] = []
        self.inbound: list[dict] = []
        self._failures: collections.deque[tuple[int, int, str]] = collections.deque()
        self._hangs: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, the Api domain's base URL for the SDK."""
        return f"http://{self.address}"

    # --- knobs ----------------------------------------------------------------------------

    def fail_next(self, status: int, code: int, message: str) -> None:
        """The next message create answers this Twilio error and stores nothing.

        For example ``(400, 21211, "Invalid 'To' Phone Number")``, ``(429, 20429, "Too Many
        Requests")`` or ``(500, 20500, "Internal Server Error")``. Calls queue up.
        """
        with self._lock:
            self._failures.append((status, code, message))

    def hang_next(self, seconds: float) -> None:
        """The next message create stores the message, then waits ``seconds`` to answer.

        The client times out although Twilio took the message: the case a sender must
        resolve by looking the message up rather than by sending again.
        """
        with self._lock:
            self._hangs.append(seconds)

    def message(self, sid: str) -> dict:
        """The stored message with this SID (``LookupError`` if there is none)."""
        with self._lock:
            return self._find(sid)

    # --- webhooks to the application ------------------------------------------------------

    def status_callback_request(
        self, sid: str, status: str, error_code: int | None = None
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """The request Twilio makes to the message's ``StatusCallback`` on a status change.

        Returns ``(url, params, headers)``: the parameters go form-encoded in a POST to
        ``url`` with ``headers`` (``X-Twilio-Signature`` among them). The new status is
        recorded on the message, so a later fetch or list agrees with what the application
        was told. ``ValueError`` if the message was created without a ``StatusCallback``.
        """
        now = _now()
        with self._lock:
            message = self._find(sid)
            url = message["status_callback"]
            if not url:
                raise ValueError(f"Message {sid} was created without a StatusCallback")
            if message["from"] is None:
                message["from"] = self.service_number
            message["status"] = status
            message["error_code"] = error_code
            message["date_updated"] = _rfc2822(now)
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "From": message["from"],
                "MessageSid": sid,
                "MessageStatus": status,
                "SmsSid": sid,
                "SmsStatus": status,
                "To": message["to"],
            }
            if message["messaging_service_sid"]:
                params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        if status == "delivered":
            params["RawDlrDoneDate"] = now.strftime("%y%m%d%H%M")
        return url, params, self._webhook_headers(url, params)

    def inbound_request(
        self,
        url: str,
        from_: str,
        to: str,
        body: str,
        *,
        messaging_service_sid: str | None = None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The request Twilio makes to a number's incoming-message webhook ``url``.

        Returns ``(params, headers)``, to POST form-encoded to ``url``. The message is kept
        in ``inbound``.
        """
        sid = "SM" + secrets.token_hex(16)
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "FromCity": "",
            "FromCountry": _country(from_),
            "FromState": "",
            "FromZip": "",
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(sms_length(body).segments),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
            "ToCity": "",
            "ToCountry": _country(to),
            "ToState": "",
            "ToZip": "",
        }
        if messaging_service_sid:
            params["MessagingServiceSid"] = messaging_service_sid
        with self._lock:
            self.inbound.append(dict(params))
        return params, self._webhook_headers(url, params)

    def _webhook_headers(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        # No Content-Type: the caller posts the params form-encoded (``post`` sets it; the
        # Django test client needs its own ``content_type=``).
        return {
            "X-Twilio-Signature": signature(self.auth_token, url, params),
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
        }

    # --- the API --------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: str, authorization: str, body: bytes
    ) -> tuple[int, dict]:
        if not self._authenticated(authorization):
            return _error(401, 20003, "Authenticate")
        list_match = _LIST_PATH.fullmatch(path)
        item_match = _ITEM_PATH.fullmatch(path)
        match = list_match or item_match
        if match is None or match.group("account") != self.account_sid:
            return _not_found(path)
        pairs = urllib.parse.parse_qsl(
            body.decode() if method == "POST" else query, keep_blank_values=True
        )
        params = dict(reversed(pairs))  # the first value of a repeated name
        with self._lock:
            self.requests.append({"method": method, "path": path, "params": pairs})
        if list_match and method == "POST":
            return self._create(params)
        if list_match and method == "GET":
            return self._list(path, params)
        if item_match and method == "GET":
            return self._fetch(path, item_match.group("sid"))
        return _error(405, 20004, "Method not allowed")

    def _authenticated(self, authorization: str) -> bool:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        expected = f"{self.account_sid}:{self.auth_token}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _create(self, params: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure:
            return _error(*failure)
        to = params.get("To", "")
        from_ = params.get("From") or None
        service = params.get("MessagingServiceSid") or None
        body = params.get("Body", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not (from_ or service):
            return _error(
                400,
                21603,
                "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
            )
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not _E164.fullmatch(to):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if len(body) > MAX_BODY:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        sid = "SM" + secrets.token_hex(16)
        stamp = _rfc2822(_now())
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": "0",
            # A Messaging Service has not chosen a sender yet, so Twilio says 0 segments.
            "num_segments": "0" if service else str(sms_length(body).segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": to,
            "uri": f"{uri}.json",
            "status_callback": params.get("StatusCallback") or None,
        }
        with self._lock:
            self.messages.append(message)
            hang = self._hangs.popleft() if self._hangs else 0
        if hang:
            self._stopping.wait(hang)
        return 201, _resource(message)

    def _fetch(self, path: str, sid: str) -> tuple[int, dict]:
        with self._lock:
            try:
                return 200, _resource(self._find(sid))
            except LookupError:
                return _not_found(path)

    def _list(self, path: str, params: dict[str, str]) -> tuple[int, dict]:
        filters = {
            name: params[name]
            for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if params.get(name)
        }
        try:
            checks = [_sent_check(name, filters[name]) for name in filters if "DateSent" in name]
            page_size = min(int(params.get("PageSize", 50)), MAX_PAGE_SIZE)
            page = int(params.get("Page", 0))
        except ValueError as exc:
            return _error(400, 20001, f"Invalid parameter: {exc}")
        if page_size < 1 or page < 0:
            return _error(400, 20001, "Invalid parameter: PageSize or Page")
        with self._lock:
            rows = [
                _resource(m)
                for m in reversed(self.messages)
                if ("To" not in filters or m["to"] == filters["To"])
                and ("From" not in filters or m["from"] == filters["From"])
                and all(check(_parse_rfc2822(m["date_sent"])) for check in checks)
            ]
        start = page * page_size
        chunk = rows[start : start + page_size]

        def page_uri(number: int) -> str:
            query = urllib.parse.urlencode({**filters, "PageSize": page_size, "Page": number})
            return f"{path}?{query}"

        return 200, {
            "messages": chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + page_size < len(rows) else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }

    def _find(self, sid: str) -> dict:
        for message in self.messages:
            if message["sid"] == sid:
                return message
        raise LookupError(f"No message {sid}")


class _Handler(BaseHTTPRequestHandler):
    standin: TwilioStandIn
    server_version = "Twilio-StandIn"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        authorization = self.headers.get("Authorization", "")
        status, payload = self.standin._handle(method, url.path, url.query, authorization, body)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass  # the client gave up waiting

    def log_message(self, *args: object) -> None:
        pass  # keep test output quiet


def _resource(message: dict) -> dict:
    return {key: value for key, value in message.items() if key != "status_callback"}


def _error(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _not_found(path: str) -> tuple[int, dict]:
    return _error(404, 20404, f"The requested resource {path} was not found")


def _sent_check(name: str, value: str):
    """A test on a message's send time for one of the ``DateSent`` filters."""
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        if name == "DateSent<":
            return lambda sent: sent.date() <= day
        if name == "DateSent>":
            return lambda sent: sent.date() >= day
        return lambda sent: sent.date() == day
    instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    if name == "DateSent<":
        return lambda sent: sent <= instant
    if name == "DateSent>":
        return lambda sent: sent >= instant
    return lambda sent: sent.date() == instant.date()


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(name), str(value)) for name, value in items]


def _country(number: str) -> str:
    """The number's country (``US`` for any +1), as Twilio fills ``FromCountry``/``ToCountry``."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ""
    region = phonenumbers.region_code_for_country_code(parsed.country_code)
    return "" if region == phonenumbers.UNKNOWN_REGION else region


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _rfc2822(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC))


def _parse_rfc2822(text: str) -> dt.datetime:
    return email.utils.parsedate_to_datetime(text)


TwilioStandIn.handler = _Handler
TwilioStandIn.thread_name = "twilio-standin"
