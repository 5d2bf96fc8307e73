"""The provider stand-ins, driven by the official SDKs: they answer what the SDKs expect.

No database: these check the stand-ins themselves, so that a backend test that uses one
fails for the backend's reasons and not the stand-in's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from alibabacloud_dysmsapi20170525 import models as sms
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi import utils_models as openapi
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)
from alibabacloud_tea_openapi.utils import Utils as OpenApiUtils
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.request import DaraRequest
from darabonba.runtime import RuntimeOptions
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client as TwilioClient
from urllib3.exceptions import NewConnectionError

from tests.messaging.standins import aliyun, twilio
from tests.messaging.standins.aliyun import AliyunStandIn
from tests.messaging.standins.twilio import TwilioStandIn

CUSTOMER = "+15558675310"
OUR_NUMBER = "+15017122661"
CALLBACK = "https://collections.example/webhooks/twilio/status/"
MAINLAND = "13800138000"
SIGN = "示例金融"


@pytest.fixture
def receiver():
    """A local HTTP server that answers 200 and keeps what was posted to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            received.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            answer = json.dumps({"code": 0, "msg": "成功"}, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- Twilio -----------------------------------------------------------------------------------


def twilio_client(standin: TwilioStandIn, *, token: str | None = None, timeout: float = 5):
    client = TwilioClient(
        standin.account_sid,
        token or standin.auth_token,
        http_client=TwilioHttpClient(timeout=timeout),
    )
    client.api.base_url = standin.base_url
    return client


def test_twilio_sdk_sends_a_message_with_a_status_callback():
    with TwilioStandIn() as standin:
        sent = twilio_client(standin).messages.create(
            to=CUSTOMER, from_=OUR_NUMBER, body="Your installment is due.", status_callback=CALLBACK
        )

    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid)
    assert (sent.status, sent.direction, sent.num_segments) == ("queued", "outbound-api", "1")
    assert (sent.to, sent.from_, sent.body) == (CUSTOMER, OUR_NUMBER, "Your installment is due.")
    assert sent.account_sid == standin.account_sid
    assert sent.error_code is None and sent.price is None
    assert sent.date_created.tzinfo is not None
    assert sent.uri == f"/2010-04-01/Accounts/{standin.account_sid}/Messages/{sent.sid}.json"
    [stored] = standin.messages
    assert stored["sid"] == sent.sid
    assert stored["status_callback"] == CALLBACK
    assert dict(standin.requests[0]["params"])["StatusCallback"] == CALLBACK


def test_twilio_messaging_service_sends_without_a_from():
    with TwilioStandIn() as standin:
        sent = twilio_client(standin).messages.create(
            to=CUSTOMER, messaging_service_sid="MG" + "1" * 32, body="Hello"
        )

    assert (sent.status, sent.from_, sent.num_segments) == ("accepted", None, "0")


def test_twilio_lists_messages_by_recipient_and_send_date():
    with TwilioStandIn() as standin:
        client = twilio_client(standin)
        first = client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="one")
        client.messages.create(to="+15550001111", from_=OUR_NUMBER, body="someone else")
        second = client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="two")
        now = dt.datetime.now(dt.UTC)

        found = client.messages.list(to=CUSTOMER, date_sent_after=now - dt.timedelta(days=1))
        later = client.messages.list(to=CUSTOMER, date_sent_after=now + dt.timedelta(hours=1))
        before = client.messages.list(date_sent_before=now - dt.timedelta(days=1))
        today = client.messages.list(date_sent=now.date().isoformat(), limit=2)
        last_query = standin.requests[-1]["params"]

    assert [m.sid for m in found] == [second.sid, first.sid]  # newest first
    assert later == [] and before == []
    assert len(today) == 2
    assert ("PageSize", "2") in last_query


def test_twilio_list_follows_the_next_page():
    with TwilioStandIn() as standin:
        client = twilio_client(standin)
        for number in range(5):
            client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body=f"message {number}")

        found = list(client.messages.stream(to=CUSTOMER, page_size=2))
        pages = [r for r in standin.requests if r["method"] == "GET"]

    assert [m.body for m in found] == [f"message {n}" for n in range(4, -1, -1)]
    assert len(pages) == 3


def test_twilio_fetches_a_message_or_answers_20404():
    with TwilioStandIn() as standin:
        client = twilio_client(standin)
        sent = client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hello")

        fetched = client.messages(sent.sid).fetch()
        with pytest.raises(TwilioRestException) as missing:
            client.messages("SM" + "0" * 32).fetch()

    assert (fetched.sid, fetched.body) == (sent.sid, "Hello")
    assert (missing.value.status, missing.value.code) == (404, 20404)


def test_twilio_refuses_a_wrong_auth_token_with_20003():
    with TwilioStandIn() as standin:
        client = twilio_client(standin, token="not-the-token")
        with pytest.raises(TwilioRestException) as refused:
            client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hello")

    assert (refused.value.status, refused.value.code) == (401, 20003)
    assert refused.value.msg == "Unable to create record: Authenticate"
    assert standin.messages == [] and standin.requests == []


@pytest.mark.parametrize(
    "params, code",
    [
        ({"to": "", "from_": OUR_NUMBER, "body": "Hi"}, 21604),
        ({"to": CUSTOMER, "body": "Hi"}, 21603),
        ({"to": CUSTOMER, "from_": OUR_NUMBER}, 21602),
        ({"to": "5558675310", "from_": OUR_NUMBER, "body": "Hi"}, 21211),
    ],
)
def test_twilio_refuses_a_message_missing_what_it_requires(params, code):
    with TwilioStandIn() as standin, pytest.raises(TwilioRestException) as refused:
        twilio_client(standin).messages.create(**params)

    assert (refused.value.status, refused.value.code) == (400, code)
    assert standin.messages == []


@pytest.mark.parametrize(
    "status, code, message",
    [
        (400, 21211, "Invalid 'To' Phone Number: +15558675310"),
        (400, 21610, "Attempt to send to unsubscribed recipient"),
        (429, 20429, "Too Many Requests"),
        (500, 20500, "Internal Server Error"),
        (503, 20503, "Service Unavailable"),
    ],
)
def test_twilio_fail_next_answers_that_error_once(status, code, message):
    with TwilioStandIn() as standin:
        client = twilio_client(standin)
        standin.fail_next(status, code, message)
        with pytest.raises(TwilioRestException) as refused:
            client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
        client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")

    assert (refused.value.status, refused.value.code) == (status, code)
    assert refused.value.msg == f"Unable to create record: {message}"
    assert len(standin.messages) == 1


def test_twilio_hang_next_times_the_client_out_after_taking_the_message():
    with TwilioStandIn() as standin:
        client = twilio_client(standin, timeout=1)
        standin.hang_next(5)
        with pytest.raises(requests.exceptions.ReadTimeout):
            client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hello")

        found = client.messages.list(to=CUSTOMER)

    assert len(standin.messages) == 1
    assert [m.sid for m in found] == [standin.messages[0]["sid"]]


def test_twilio_unreachable_is_a_connection_error_that_never_connected():
    with TwilioStandIn() as standin:
        client = twilio_client(standin)
    with pytest.raises(requests.exceptions.ConnectionError) as unreachable:
        client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hello")

    assert isinstance(unreachable.value.args[0].reason, NewConnectionError)


def test_twilio_signature_matches_the_published_example():
    # Twilio's webhook-security example: auth token 12345, this URL and these parameters.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }

    assert twilio.signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert RequestValidator("12345").validate(url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert twilio.signature("12345", url, {**params, "Digits": "1235"}) != (
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


def test_twilio_status_callback_is_signed_and_recorded():
    with TwilioStandIn() as standin:
        client = twilio_client(standin)
        sent = client.messages.create(
            to=CUSTOMER, from_=OUR_NUMBER, body="Hello", status_callback=CALLBACK
        )
        url, params, headers = standin.status_callback_request(sent.sid, "undelivered", 30003)
        fetched = client.messages(sent.sid).fetch()

    assert url == CALLBACK
    assert params["MessageSid"] == params["SmsSid"] == sent.sid
    assert params["MessageStatus"] == params["SmsStatus"] == "undelivered"
    assert params["ErrorCode"] == "30003"
    assert (params["From"], params["To"], params["AccountSid"]) == (
        OUR_NUMBER,
        CUSTOMER,
        standin.account_sid,
    )
    validator = RequestValidator(standin.auth_token)
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert not RequestValidator("another-token").validate(
        url, params, headers["X-Twilio-Signature"]
    )
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


def test_twilio_status_callback_needs_a_callback_url():
    with TwilioStandIn() as standin:
        sent = twilio_client(standin).messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
        with pytest.raises(ValueError, match="without a StatusCallback"):
            standin.status_callback_request(sent.sid, "delivered")


def test_twilio_inbound_request_reaches_a_live_server_signed(receiver):
    base, received = receiver
    url = f"{base}/webhooks/twilio/inbound/"
    standin = TwilioStandIn()

    params, headers = standin.inbound_request(url, CUSTOMER, OUR_NUMBER, "STOP")
    status, _answer = twilio.post(url, params, headers)

    assert status == 200
    [request] = received
    posted = dict(urllib.parse.parse_qsl(request["body"].decode(), keep_blank_values=True))
    assert posted == params
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert RequestValidator(standin.auth_token).validate(
        url, posted, request["headers"]["X-Twilio-Signature"]
    )
    assert (posted["Body"], posted["From"], posted["To"]) == ("STOP", CUSTOMER, OUR_NUMBER)
    assert posted["MessageSid"] == posted["SmsMessageSid"] == posted["SmsSid"]
    assert (posted["NumMedia"], posted["NumSegments"], posted["FromCountry"]) == ("0", "1", "US")
    assert standin.inbound == [params]


# --- Alibaba Cloud ------------------------------------------------------------------------------


def aliyun_client(standin: AliyunStandIn, *, secret: str | None = None, key: str | None = None):
    return AliyunClient(
        openapi.Config(
            access_key_id=key or standin.access_key_id,
            access_key_secret=secret or standin.access_key_secret,
            endpoint=standin.endpoint,
            protocol="http",
        )
    )


def send_request(**fields) -> sms.SendSmsRequest:
    values = {
        "phone_numbers": MAINLAND,
        "sign_name": SIGN,
        "template_code": "SMS_465001",
        "template_param": json.dumps({"name": "张三", "amount": "1,200.00"}, ensure_ascii=False),
        "out_id": "attempt-41",
    }
    values.update(fields)
    return sms.SendSmsRequest(**values)


def test_aliyun_sdk_sends_a_message_with_a_verified_signature():
    templates = {"SMS_465001": "${name}您好,您的还款${amount}元已到期。"}
    with AliyunStandIn(templates=templates, sign_names=[SIGN]) as standin:
        answer = aliyun_client(standin).send_sms_with_options(send_request(), RuntimeOptions())

    assert answer.status_code == 200
    assert (answer.body.code, answer.body.message) == ("OK", "OK")
    assert re.fullmatch(r"\d+\^\d+", answer.body.biz_id)
    assert re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", answer.body.request_id)
    [request] = standin.requests
    assert (request["action"], request["version"], request["method"]) == (
        "SendSms",
        "2017-05-25",
        "POST",
    )
    assert set(request["signed_headers"]) >= aliyun.REQUIRED_SIGNED
    [stored] = standin.messages
    assert stored["out_id"] == "attempt-41"
    assert stored["template_param"] == {"name": "张三", "amount": "1,200.00"}
    assert (stored["phone_number"], stored["biz_id"]) == (MAINLAND, answer.body.biz_id)
    assert stored["content"] == "【示例金融】张三您好,您的还款1,200.00元已到期。"


def test_aliyun_our_signature_agrees_with_the_sdks_signer():
    request = DaraRequest()
    request.method = "POST"
    request.pathname = "/"
    request.query = {
        "PhoneNumbers": MAINLAND,
        "SignName": "示例 金融",
        "TemplateParam": '{"a":"b/c~d*"}',
    }
    request.headers = {
        "host": "dysmsapi.aliyuncs.com",
        "x-acs-action": "SendSms",
        "x-acs-version": "2017-05-25",
        "x-acs-date": "2024-01-02T03:04:05Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
        "accept": "application/json",
    }
    sdk = OpenApiUtils.get_authorization(
        request, aliyun.ALGORITHM, request.headers["x-acs-content-sha256"], "AK", "secret"
    )

    canonical = aliyun.canonical_request(
        method="POST", path="/", query=request.query.items(), headers=request.headers
    )

    assert sdk.endswith(f",Signature={aliyun.signature_v3('secret', canonical)}")
    assert "SignName=%E7%A4%BA%E4%BE%8B%20%E9%87%91%E8%9E%8D" in canonical
    assert "TemplateParam=%7B%22a%22%3A%22b%2Fc~d%2A%22%7D" in canonical


def test_aliyun_refuses_a_wrong_secret():
    with AliyunStandIn() as standin:
        client = aliyun_client(standin, secret="not-the-secret")
        with pytest.raises(ClientException) as refused:
            client.send_sms_with_options(send_request(), RuntimeOptions())

    assert (refused.value.status_code, refused.value.code) == (400, "SignatureDoesNotMatch")
    assert refused.value.statusCode == 400
    assert refused.value.data["Code"] == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in refused.value.data["Message"]
    assert standin.messages == [] and standin.requests == []


def test_aliyun_refuses_an_unknown_access_key():
    with AliyunStandIn() as standin:
        client = aliyun_client(standin, key="LTAI5tSomeoneElse000")
        with pytest.raises(ClientException) as refused:
            client.send_sms_with_options(send_request(), RuntimeOptions())

    assert (refused.value.status_code, refused.value.code) == (404, "InvalidAccessKeyId.NotFound")


def test_aliyun_refuses_a_request_changed_after_signing():
    """A query parameter altered after signing breaks the signature: the query is signed."""
    with AliyunStandIn() as standin:
        headers = {
            "host": standin.endpoint,
            "x-acs-action": "SendSms",
            "x-acs-version": "2017-05-25",
            "x-acs-date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": "nonce-1",
            "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
        }
        query = {"PhoneNumbers": MAINLAND, "SignName": SIGN, "TemplateCode": "SMS_1"}
        canonical = aliyun.canonical_request(
            method="POST", path="/", query=query.items(), headers=headers
        )
        authorization = (
            f"{aliyun.ALGORITHM} Credential={standin.access_key_id},"
            f"SignedHeaders={';'.join(sorted(headers))},"
            f"Signature={aliyun.signature_v3(standin.access_key_secret, canonical)}"
        )
        signed = {**headers, "Authorization": authorization}
        changed = urllib.parse.urlencode({**query, "PhoneNumbers": "13900139000"})
        tampered = requests.post(f"{standin.base_url}/?{changed}", headers=signed, timeout=5)
        original = urllib.parse.urlencode(query)
        genuine = requests.post(f"{standin.base_url}/?{original}", headers=signed, timeout=5)
        replayed = requests.post(f"{standin.base_url}/?{original}", headers=signed, timeout=5)

    assert (tampered.status_code, tampered.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert (genuine.status_code, genuine.json()["Code"]) == (200, "OK")
    assert (replayed.status_code, replayed.json()["Code"]) == (400, "SignatureNonceUsed")
    assert [m["phone_number"] for m in standin.messages] == [MAINLAND]


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"phone_numbers": "12345"}, "isv.MOBILE_NUMBER_ILLEGAL"),
        ({"template_code": "SMS_UNKNOWN"}, "isv.SMS_TEMPLATE_ILLEGAL"),
        ({"sign_name": "别的签名"}, "isv.SMS_SIGNATURE_ILLEGAL"),
        ({"template_param": json.dumps({"name": "张三"})}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ({"template_param": json.dumps({"name": "张三", "amount": 12})}, "isv.INVALID_JSON_PARAM"),
    ],
)
def test_aliyun_business_refusals_come_in_the_body_of_a_200(fields, code):
    templates = {"SMS_465001": "${name}您好,您的还款${amount}元已到期。"}
    with AliyunStandIn(templates=templates, sign_names=[SIGN]) as standin:
        answer = aliyun_client(standin).send_sms_with_options(
            send_request(**fields), RuntimeOptions()
        )

    assert answer.status_code == 200
    assert answer.body.code == code
    assert answer.body.biz_id is None
    assert standin.messages == []


def test_aliyun_fail_next_throttles_in_the_body():
    with AliyunStandIn() as standin:
        client = aliyun_client(standin)
        standin.fail_next("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
        throttled = client.send_sms_with_options(send_request(), RuntimeOptions())
        accepted = client.send_sms_with_options(send_request(), RuntimeOptions())

    assert (throttled.body.code, throttled.body.message) == (
        "isv.BUSINESS_LIMIT_CONTROL",
        "触发小时级流控Permits:5",
    )
    assert accepted.body.code == "OK"
    assert len(standin.messages) == 1


def test_aliyun_a_5xx_raises_a_server_exception():
    with AliyunStandIn() as standin:
        standin.fail_next(
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
            503,
        )
        with pytest.raises(ServerException) as failed:
            aliyun_client(standin).send_sms_with_options(send_request(), RuntimeOptions())

    assert (failed.value.status_code, failed.value.code) == (503, "ServiceUnavailable")
    assert standin.messages == []


def test_aliyun_gateway_throttling_with_retry_after_raises_a_throttling_exception():
    with AliyunStandIn() as standin:
        standin.fail_next(
            "Throttling.User", "Request was denied due to user flow control.", 400, retry_after=2
        )
        with pytest.raises(ThrottlingException) as throttled:
            aliyun_client(standin).send_sms_with_options(send_request(), RuntimeOptions())

    assert (throttled.value.status_code, throttled.value.code) == (400, "Throttling.User")
    assert throttled.value.retry_after == 2


def test_aliyun_read_timeout_after_the_message_was_taken():
    with AliyunStandIn() as standin:
        standin.hang_next(5)
        with pytest.raises(UnretryableException) as timed_out:
            aliyun_client(standin).send_sms_with_options(
                send_request(), RuntimeOptions(read_timeout=1000, connect_timeout=1000)
            )

    # The SDK flattens the transport error to text: RetryError("... Read timed out ...").
    inner = timed_out.value.inner_exception
    assert isinstance(inner, RetryError)
    assert "Read timed out" in inner.message
    assert isinstance(inner.__context__, requests.exceptions.ReadTimeout)
    assert [m["out_id"] for m in standin.messages] == ["attempt-41"]


def test_aliyun_unreachable_is_an_unretryable_exception_around_a_refused_connection():
    with AliyunStandIn() as standin:
        client = aliyun_client(standin)
    with pytest.raises(UnretryableException) as unreachable:
        client.send_sms_with_options(send_request(), RuntimeOptions(connect_timeout=1000))

    inner = unreachable.value.inner_exception
    assert isinstance(inner, RetryError)
    assert isinstance(inner.__context__, requests.exceptions.ConnectionError)
    assert isinstance(inner.__context__.args[0].reason, NewConnectionError)


def test_aliyun_query_send_details_finds_the_message_by_phone_and_day():
    with AliyunStandIn() as standin:
        client = aliyun_client(standin)
        sent = client.send_sms_with_options(send_request(), RuntimeOptions()).body
        client.send_sms_with_options(
            send_request(phone_numbers="13900139000", out_id="other"), RuntimeOptions()
        )
        standin.mark(sent.biz_id, aliyun.DELIVERED)
        today = dt.datetime.now(aliyun.CHINA).strftime("%Y%m%d")
        query = sms.QuerySendDetailsRequest(
            phone_number=MAINLAND, send_date=today, page_size=50, current_page=1
        )
        found = client.query_send_details_with_options(query, RuntimeOptions()).body
        query.send_date = (dt.datetime.now(aliyun.CHINA) - dt.timedelta(days=1)).strftime("%Y%m%d")
        yesterday = client.query_send_details_with_options(query, RuntimeOptions()).body

    assert (found.code, found.total_count) == ("OK", 1)
    [detail] = found.sms_send_detail_dtos.sms_send_detail_dto
    assert (detail.out_id, detail.phone_num, detail.send_status) == ("attempt-41", MAINLAND, 3)
    assert (detail.err_code, detail.template_code) == ("DELIVERED", "SMS_465001")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", detail.send_date)
    assert detail.receive_date
    assert yesterday.total_count == 0
    assert yesterday.sms_send_detail_dtos.sms_send_detail_dto == []


def test_aliyun_delivery_report_and_reply_reach_a_live_server(receiver):
    base, received = receiver
    with AliyunStandIn() as standin:
        aliyun_client(standin).send_sms_with_options(
            send_request(phone_numbers="+86" + MAINLAND), RuntimeOptions()
        )
        [message] = standin.messages
        report = standin.report_payload(message, success=False, err_code="MK:0001", err_msg="失败")
        reply = standin.up_payload("+86" + MAINLAND, "退订", SIGN)

    status, answer = aliyun.post_json(f"{base}/webhooks/aliyun/report/?token=t", report)

    assert (status, answer) == (200, {"code": 0, "msg": "成功"})
    [entry] = report
    assert entry["phone_number"] == MAINLAND  # no +86
    assert (entry["success"], entry["err_code"], entry["out_id"]) == (
        False,
        "MK:0001",
        "attempt-41",
    )
    assert entry["biz_id"] == message["biz_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", entry["report_time"])
    assert (message["status"], message["err_code"]) == (aliyun.FAILED, "MK:0001")
    assert json.loads(received[0]["body"].decode()) == report
    assert received[0]["path"] == "/webhooks/aliyun/report/?token=t"
    assert received[0]["headers"]["Content-Type"].startswith("application/json")
    [up] = reply
    assert (up["phone_number"], up["content"], up["sign_name"], up["dest_code"]) == (
        MAINLAND,
        "退订",
        SIGN,
        "",
    )
    assert isinstance(up["sequence_id"], int)
