"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25), as a local HTTP server for tests.

What the official SDK sends by default (``alibabacloud_dysmsapi20170525`` 4.x on
``alibabacloud_tea_openapi`` 0.4): ``POST /`` with the action's parameters in the query
string, an empty body, and the V3 signature in headers: ``host``, ``x-acs-action``,
``x-acs-version``, ``x-acs-date`` (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), ``x-acs-signature-nonce``,
``x-acs-content-sha256`` (hex SHA-256 of the body) and ``Authorization: ACS3-HMAC-SHA256
Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=<hex>``. Point it here with
``Config(access_key_id=..., access_key_secret=..., endpoint=standin.endpoint,
protocol="http")``.

The stand-in checks that signature itself, from Alibaba Cloud's description of V3 (not from
the SDK's code)::

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n HashedRequestPayload
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex(SHA-256(CanonicalRequest))
    Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))

Names and values are percent-encoded per RFC 3986 (a space is ``%20``, ``~`` stays), query
parameters are sorted by name, headers lower-cased, trimmed and sorted, and ``host`` and every
``x-acs-*`` header must be signed. Refusals are the API gateway's, JSON ``{"RequestId",
"HostId", "Code", "Message", "Recommend"}``: 400 ``IncompleteSignature`` (no or malformed
Authorization, a common header left unsigned), 404 ``InvalidAccessKeyId.NotFound``, 400
``SignatureDoesNotMatch`` (its message carries the server's string to sign, as Alibaba
Cloud's does), 400 ``InvalidTimeStamp.Format``/``InvalidTimeStamp.Expired`` (more than 15
minutes off), 400 ``SignatureNonceUsed``, 400 ``Missing<Parameter>``, 400 ``InvalidVersion``,
404 ``InvalidApi.NotFound``. The SDK raises ``ClientException`` for a 4xx answer,
``ServerException`` for a 5xx one, ``ThrottlingException`` when the answer carries
``x-acs-retry-after``.

Refusals of the message itself come the way dysmsapi returns them: HTTP 200 and a ``Code``
other than ``OK`` in the body (``isv.MOBILE_NUMBER_ILLEGAL``, ``isv.SMS_SIGNATURE_ILLEGAL``,
``isv.SMS_TEMPLATE_ILLEGAL``, ``isv.TEMPLATE_MISSING_PARAMETERS``, ``isv.INVALID_JSON_PARAM``,
``isv.BUSINESS_LIMIT_CONTROL`` ...); the SDK raises nothing and the caller reads
``body.code``.

Times are China Standard Time (UTC+8), as Alibaba Cloud writes them (``SendDate`` as
``yyyyMMdd``, ``"2024-01-02 15:04:05"`` in details and pushes).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import itertools
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

from tests.messaging.standins.loopback import LoopbackServer

ALGORITHM = "ACS3-HMAC-SHA256"
API_VERSION = "2017-05-25"
HOST_ID = "dysmsapi.aliyuncs.com"
DEFAULT_ACCESS_KEY_ID = "LTAI5tStandInKey0000"
DEFAULT_ACCESS_KEY_SECRET = "stand-in-access-key-secret"
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
CLOCK_SKEW = dt.timedelta(minutes=15)
# SendStatus in QuerySendDetails.
WAITING, FAILED, DELIVERED = 1, 2, 3
# Headers a V3 request must carry and sign (with any other x-acs-* header it carries).
REQUIRED_SIGNED = frozenset(
    {
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    }
)
MAX_NUMBERS = 1000
# Characters of a single message, and of each part of a longer one (signature included).
SINGLE_SMS, LONG_SMS_PART = 70, 67

_MAINLAND = re.compile(r"1\d{10}")
_INTERNATIONAL = re.compile(r"[1-9]\d{6,14}")
_TEMPLATE_VARIABLE = re.compile(r"\$\{(\w+)\}")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the V3 signature -------------------------------------------------------------------------


def percent_encode(text: str) -> str:
    """RFC 3986 encoding: letters, digits and ``-_.~`` stay, everything else is %XX (UTF-8)."""
    return urllib.parse.quote(text, safe="~")


def canonical_request(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes = b"",
) -> str:
    """The V3 canonical request; ``headers`` are the signed ones, name to value."""
    uri = "/".join(percent_encode(urllib.parse.unquote(part)) for part in path.split("/"))
    pairs = sorted((percent_encode(name), percent_encode(value)) for name, value in query)
    canonical_query = "&".join(f"{name}={value}" for name, value in pairs)
    signed = {name.lower(): value.strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))
    return "\n".join(
        [
            method.upper(),
            uri or "/",
            canonical_query,
            canonical_headers,
            ";".join(sorted(signed)),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def signature_v3(access_key_secret: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the AccessKey secret."""
    return hmac.new(
        access_key_secret.encode(), string_to_sign(canonical).encode(), hashlib.sha256
    ).hexdigest()


def national(number: str) -> str | None:
    """A number as Alibaba Cloud takes it: mainland without +86/0086/86, others with their
    country code and no ``+``/``00``; ``None`` when it is not a phone number."""
    number = number.strip()
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and _MAINLAND.fullmatch(number[len(prefix) :]):
            return number[len(prefix) :]
    if _MAINLAND.fullmatch(number):
        return number
    for prefix in ("+", "00"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    return number if _INTERNATIONAL.fullmatch(number) else None


def post_json(url: str, payload: object, *, timeout: float = 10) -> tuple[int, object]:
    """POST ``payload`` as UTF-8 JSON to a live ``url``, as Alibaba Cloud's HTTP batch push does.

    Returns the HTTP status and the answer, parsed as JSON when it is JSON.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"Not an HTTP URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json;charset=utf-8"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# --- the stand-in -----------------------------------------------------------------------------


class AliyunStandIn(LoopbackServer):
    """An Alibaba Cloud SMS account on loopback: ``with AliyunStandIn() as aliyun: ...``.

    ``messages`` holds one record per number of every accepted ``SendSms`` (phone number,
    sign name, template code and parameters, ``out_id``, ``biz_id``, send time, content,
    ``status`` 1/2/3 and ``err_code``); ``requests`` every request whose signature checked
    out; ``inbound`` the replies built by ``up_payload``.

    ``templates`` (template code to text with ``${name}`` variables) and ``sign_names`` make
    it refuse unknown ones as Alibaba Cloud does; without them any code or name is taken.
    """

    def __init__(
        self,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
        *,
        templates: Mapping[str, str] | None = None,
        sign_names: Iterable[str] | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.templates = dict(templates) if templates is not None else None
        self.sign_names = set(sign_names) if sign_names is not None else None
        self.messages: list[dict] = []
        self.requests: list[dict] = []
        self.inbound: list[dict] = []
        self._failures: collections.deque[tuple[str, dict, int | None]] = collections.deque()
        self._hangs: collections.deque[tuple[str, float]] = collections.deque()
        self._nonces: set[str] = set()
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``: the SDK Config's ``endpoint`` (with ``protocol="http"``)."""
        return self.address

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    # --- knobs ----------------------------------------------------------------------------

    def fail_next(
        self,
        code: str,
        message: str,
        http_status: int = 200,
        *,
        action: str = "SendSms",
        retry_after: int | None = None,
    ) -> None:
        """The next ``action`` call (after its signature checks out) answers this error.

        With ``http_status`` 200 it is a business refusal in the body (``Code``,
        ``Message``, ``RequestId``), as dysmsapi answers ``isv.*`` codes; otherwise the
        gateway's error body with that status (``ServiceUnavailable`` 503, ``Throttling.User``
        400 ...), and ``retry_after`` adds ``x-acs-retry-after``. Nothing is stored.
        """
        request_id = _request_id()
        if http_status == 200:
            body = {"Code": code, "Message": message, "RequestId": request_id}
        else:
            body = _gateway_body(code, message, request_id)
        with self._lock:
            self._failures.append((action, {"status": http_status, "body": body}, retry_after))

    def hang_next(self, seconds: float, *, action: str = "SendSms") -> None:
        """The next ``action`` call is carried out (a message stored), then waits ``seconds``."""
        with self._lock:
            self._hangs.append((action, seconds))

    def mark(
        self,
        biz_id: str,
        status: int,
        err_code: str | None = None,
        *,
        phone_number: str | None = None,
    ) -> None:
        """Move a send's messages (or one number's) to a SendStatus: 1 waiting, 2 failed,
        3 delivered; ``err_code`` defaults to ``DELIVERED`` or ``UNDELIV``."""
        if status not in (WAITING, FAILED, DELIVERED):
            raise ValueError(f"SendStatus is 1, 2 or 3, got {status}")
        default = {WAITING: "", FAILED: "UNDELIV", DELIVERED: "DELIVERED"}[status]
        now = _now()
        with self._lock:
            found = [
                m
                for m in self.messages
                if m["biz_id"] == biz_id
                and (phone_number is None or m["phone_number"] == national(phone_number))
            ]
            if not found:
                raise LookupError(f"No message with BizId {biz_id}")
            for message in found:
                message["status"] = status
                message["err_code"] = default if err_code is None else err_code
                message["receive_time"] = None if status == WAITING else now

    # --- pushes to the application ----------------------------------------------------------

    def report_payload(
        self,
        message: dict,
        success: bool = True,
        err_code: str = "DELIVERED",
        err_msg: str = "用户接收成功",
    ) -> list[dict]:
        """The delivery report Alibaba Cloud pushes for ``message`` (SmsReport, HTTP batch push).

        A JSON array to POST to the address the lender configured (``post_json``). The outcome
        is recorded on the message, so ``QuerySendDetails`` agrees with the report.
        """
        now = _now()
        with self._lock:
            message["status"] = DELIVERED if success else FAILED
            message["err_code"] = err_code
            message["receive_time"] = now
        return [
            {
                "phone_number": message["phone_number"],
                "send_time": _china(message["send_time"]),
                "report_time": _china(now),
                "success": success,
                "err_code": err_code,
                "err_msg": err_msg,
                "sms_size": str(_parts(message["content"])),
                "biz_id": message["biz_id"],
                "out_id": message["out_id"],
            }
        ]

    def up_payload(
        self,
        phone_number: str,
        content: str,
        sign_name: str,
        dest_code: str = "",
        sequence_id: int | None = None,
    ) -> list[dict]:
        """A reply from a phone as Alibaba Cloud pushes it (SmsUp, HTTP batch push)."""
        reply = {
            "phone_number": national(phone_number) or phone_number,
            "send_time": _china(_now()),
            "content": content,
            "sign_name": sign_name,
            "dest_code": dest_code,
            "sequence_id": next(self._sequence) if sequence_id is None else sequence_id,
        }
        with self._lock:
            self.inbound.append(dict(reply))
        return [reply]

    # --- the API --------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: str, headers: Mapping[str, list[str]], body: bytes
    ) -> tuple[int, dict, dict[str, str]]:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        refusal = self._check_signature(method, path, pairs, headers, body)
        if refusal:
            return refusal
        action = _header(headers, "x-acs-action")
        version = _header(headers, "x-acs-version")
        content_type = _header(headers, "content-type")
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            pairs = pairs + urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        params = dict(reversed(pairs))
        with self._lock:
            self.requests.append(
                {
                    "method": method,
                    "action": action,
                    "version": version,
                    "params": params,
                    "access_key_id": self.access_key_id,
                    "signed_headers": _authorization(headers)["SignedHeaders"].split(";"),
                }
            )
        if version != API_VERSION:
            return _gateway(400, "InvalidVersion", "Specified parameter Version is not valid.")
        handlers = {"SendSms": self._send_sms, "QuerySendDetails": self._query_send_details}
        if action not in handlers:
            return _gateway(
                404,
                "InvalidApi.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        failure = self._take_failure(action)
        if failure:
            return failure
        answer = handlers[action](params)
        with self._lock:
            hang = next((s for a, s in self._hangs if a == action), 0)
            if hang:
                self._hangs.remove((action, hang))
        if hang:
            self._stopping.wait(hang)
        return answer

    def _check_signature(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, list[str]],
        body: bytes,
    ) -> tuple[int, dict, dict[str, str]] | None:
        fields = _authorization(headers)
        if not fields:
            return _gateway(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards.",
            )
        if fields["Credential"] != self.access_key_id:
            return _gateway(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        signed = [name.strip().lower() for name in fields["SignedHeaders"].split(";") if name]
        must_sign = REQUIRED_SIGNED | {name for name in headers if name.startswith("x-acs-")}
        unsigned = sorted(must_sign - set(signed))
        absent = sorted(name for name in signed if name not in headers)
        if unsigned or absent:
            problem = (
                f"headers must be signed: {', '.join(unsigned)}"
                if unsigned
                else f"signed headers are missing: {', '.join(absent)}"
            )
            return _gateway(
                400,
                "IncompleteSignature",
                f"The request signature does not conform to Aliyun standards ({problem}).",
            )
        try:
            sent_at = dt.datetime.strptime(_header(headers, "x-acs-date"), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return _gateway(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        if abs(_now() - sent_at.replace(tzinfo=dt.UTC)) > CLOCK_SKEW:
            return _gateway(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        if _header(headers, "x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            return _gateway(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation: "
                "x-acs-content-sha256 is not the SHA-256 of the body.",
            )
        canonical = canonical_request(
            method=method,
            path=path,
            query=query,
            headers={name: ",".join(sorted(v.strip() for v in headers[name])) for name in signed},
            body=body,
        )
        expected = signature_v3(self.access_key_secret, canonical)
        if not hmac.compare_digest(expected, fields["Signature"].lower()):
            return _gateway(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to "
                f"sign is:{string_to_sign(canonical)}",
            )
        nonce = _header(headers, "x-acs-signature-nonce")
        with self._lock:
            if nonce in self._nonces:
                return _gateway(
                    400, "SignatureNonceUsed", "Specified signature nonce was used already."
                )
            self._nonces.add(nonce)
        return None

    def _take_failure(self, action: str) -> tuple[int, dict, dict[str, str]] | None:
        with self._lock:
            for failure in self._failures:
                if failure[0] == action:
                    self._failures.remove(failure)
                    break
            else:
                return None
        _action, answer, retry_after = failure
        extra = {"x-acs-retry-after": str(retry_after)} if retry_after else {}
        return answer["status"], answer["body"], extra

    def _send_sms(self, params: dict[str, str]) -> tuple[int, dict, dict[str, str]]:
        missing = _missing(params, "PhoneNumbers", "SignName", "TemplateCode")
        if missing:
            return missing
        sign_name, template_code = params["SignName"], params["TemplateCode"]
        numbers = [national(n) for n in params["PhoneNumbers"].split(",")]
        if len(numbers) > MAX_NUMBERS or None in numbers:
            return _business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if self.sign_names is not None and sign_name not in self.sign_names:
            return _business("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法(不存在或被拉黑)")
        try:
            variables = json.loads(params["TemplateParam"]) if params.get("TemplateParam") else {}
        except ValueError:
            variables = None
        if not isinstance(variables, dict) or not all(
            isinstance(v, str) for v in variables.values()
        ):
            return _business("isv.INVALID_JSON_PARAM", "JSON参数不合法,只接受字符串值")
        if self.templates is None:
            text = f"{template_code}{params.get('TemplateParam', '')}"
        elif template_code not in self.templates:
            return _business("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法(不存在或被拉黑)")
        else:
            template = self.templates[template_code]
            if any(name not in variables for name in _TEMPLATE_VARIABLE.findall(template)):
                return _business("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
            text = _TEMPLATE_VARIABLE.sub(lambda m: variables[m.group(1)], template)
        biz_id = f"{secrets.randbelow(10**17) + 10**17}^0"
        request_id = _request_id()
        now = _now()
        with self._lock:
            for number in numbers:
                self.messages.append(
                    {
                        "phone_numbers": params["PhoneNumbers"],
                        "phone_number": number,
                        "sign_name": sign_name,
                        "template_code": template_code,
                        "template_param": variables,
                        "out_id": params.get("OutId", ""),
                        "biz_id": biz_id,
                        "send_time": now,
                        "content": f"【{sign_name}】{text}",
                        "status": WAITING,
                        "err_code": "",
                        "receive_time": None,
                        "request_id": request_id,
                    }
                )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}, {}

    def _query_send_details(self, params: dict[str, str]) -> tuple[int, dict, dict[str, str]]:
        missing = _missing(params, "PhoneNumber", "SendDate", "PageSize", "CurrentPage")
        if missing:
            return missing
        try:
            day = dt.datetime.strptime(params["SendDate"], "%Y%m%d").date()
            page_size, page = int(params["PageSize"]), int(params["CurrentPage"])
        except ValueError:
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        if not 1 <= page_size <= 50 or page < 1:
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        number = national(params["PhoneNumber"]) or params["PhoneNumber"]
        biz_id = params.get("BizId")
        with self._lock:
            rows = [
                m
                for m in self.messages
                if m["phone_number"] == number
                and m["send_time"].astimezone(CHINA).date() == day
                and (not biz_id or m["biz_id"] == biz_id)
            ]
            chunk = [_detail(m) for m in rows[(page - 1) * page_size : page * page_size]]
        return (
            200,
            {
                "Code": "OK",
                "Message": "OK",
                "RequestId": _request_id(),
                "TotalCount": len(rows),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": chunk},
            },
            {},
        )


class _Handler(BaseHTTPRequestHandler):
    standin: AliyunStandIn
    server_version = "Aliyun-StandIn"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        status, payload, extra = self.standin._handle(method, url.path, url.query, headers, body)
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-acs-request-id", payload.get("RequestId", ""))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass  # the client gave up waiting

    def log_message(self, *args: object) -> None:
        pass  # keep test output quiet


def _authorization(headers: Mapping[str, list[str]]) -> dict[str, str]:
    """The fields of a V3 Authorization header; empty when it is absent or malformed."""
    algorithm, _, rest = _header(headers, "authorization").strip().partition(" ")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(",") if "=" in part)
    if algorithm != ALGORITHM or not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return {}
    return fields


def _header(headers: Mapping[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _missing(params: dict[str, str], *names: str) -> tuple[int, dict, dict[str, str]] | None:
    for name in names:
        if not params.get(name):
            return _gateway(400, f"Missing{name}", f"{name} is mandatory for this action.")
    return None


def _gateway_body(code: str, message: str, request_id: str) -> dict:
    return {
        "RequestId": request_id,
        "HostId": HOST_ID,
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi",
    }


def _gateway(status: int, code: str, message: str) -> tuple[int, dict, dict[str, str]]:
    return status, _gateway_body(code, message, _request_id()), {}


def _business(code: str, message: str) -> tuple[int, dict, dict[str, str]]:
    return 200, {"Code": code, "Message": message, "RequestId": _request_id()}, {}


def _detail(message: dict) -> dict:
    return {
        "PhoneNum": message["phone_number"],
        "SendStatus": message["status"],
        "ErrCode": message["err_code"],
        "TemplateCode": message["template_code"],
        "Content": message["content"],
        "SendDate": _china(message["send_time"]),
        "ReceiveDate": _china(message["receive_time"]) if message["receive_time"] else "",
        "OutId": message["out_id"],
    }


def _parts(content: str) -> int:
    return 1 if len(content) <= SINGLE_SMS else -(-len(content) // LONG_SMS_PART)


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _china(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


AliyunStandIn.handler = _Handler
AliyunStandIn.thread_name = "aliyun-standin"
