"""The Twilio and Alibaba Cloud SMS backends, through the official SDKs, against the local
stand-ins; how SMS numbers are routed to them; and the start-up check of their settings.

Every send spends a real permit from the gate first, as the dispatcher's sends do, and every
test looks at both sides: what the stand-in received and what the backend returned or raised.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from compliance import gate
from compliance.channels import DeliveryResult, OutboundMessage
from debtors.models import ChannelConsent
from messaging.channels.aliyun import AliyunSmsBackend
from messaging.channels.base import (
    Found,
    OutcomeUnknown,
    PermanentError,
    TransientError,
    backend_by_provider,
    check_backends,
    get_backend,
    selected_backends,
)
from messaging.channels.sms import FileSmsBackend
from messaging.channels.twilio import TwilioSmsBackend
from tests.factories import make_contact_point, make_debtor
from tests.messaging.standins.aliyun import AliyunStandIn
from tests.messaging.standins.twilio import TwilioStandIn

US_NUMBER = "+12125550123"
CN_NUMBER = "+8613800138000"
OUR_NUMBER = "+15017122661"
SERVICE_SID = "MG" + "1" * 32
WEBHOOK_BASE_URL = "https://collections.example"
SIGN = "示例金融"
REMINDER_TEMPLATE = "SMS_465001"
FREE_TEXT_TEMPLATE = "SMS_465999"
TEMPLATES = {
    REMINDER_TEMPLATE: "${debtor_name}您好,您的还款${amount_due}元已到期。",
    FREE_TEXT_TEMPLATE: "${content}",
}
VARIABLES = {"debtor_name": "张三", "amount_due": "1,200.00"}
BODY = "Your installment of $120.00 is due today. Reply STOP to opt out."
# Inside each preset's SMS hours (US 08:00-21:00, China 08:00-22:00), in the future so that a
# permit granted then is still unexpired when the real clock spends it.
NY_MORNING = dt.datetime(2030, 3, 5, 10, 0, tzinfo=ZoneInfo("America/New_York"))
SHANGHAI_MORNING = dt.datetime(2030, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


# --- debtors, permits and messages -------------------------------------------------------------


@pytest.fixture
def us_mobile(db):
    """A US debtor's mobile, with the SMS consent Regulation F's preset asks for."""
    debtor = make_debtor(country="US", timezone="America/New_York", national_id="")
    ChannelConsent.objects.create(
        debtor=debtor, channel="sms", consented_at=timezone.now(), consent_source="tests"
    )
    return make_contact_point(debtor, value=US_NUMBER)


@pytest.fixture
def cn_mobile(db):
    debtor = make_debtor(country="CN", timezone="Asia/Shanghai")
    return make_contact_point(debtor, value=CN_NUMBER)


def permit_for(point, *, now) -> gate.Permit:
    return gate.request(
        debtor=point.debtor, channel="sms", actor="system: test", contact_point=point, now=now
    )


def outbound(point, body: str = BODY, **metadata) -> OutboundMessage:
    return OutboundMessage(debtor_id=point.debtor_id, to=point.value, body=body, metadata=metadata)


def closed_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Twilio -------------------------------------------------------------------------------------


@pytest.fixture
def twilio(settings):
    with TwilioStandIn() as standin:
        settings.TWILIO_ACCOUNT_SID = standin.account_sid
        settings.TWILIO_AUTH_TOKEN = standin.auth_token
        settings.TWILIO_FROM = OUR_NUMBER
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_API_BASE_URL = standin.base_url
        settings.TWILIO_TIMEOUT_SECONDS = 5
        settings.WEBHOOK_BASE_URL = WEBHOOK_BASE_URL
        yield standin


def twilio_send(point, message=None) -> tuple[gate.Permit, DeliveryResult]:
    permit = permit_for(point, now=NY_MORNING)
    return permit, TwilioSmsBackend().send(permit.token, message or outbound(point))


def creates(standin: TwilioStandIn) -> list[dict]:
    """The message-create requests the stand-in received, each as name -> value."""
    return [dict(r["params"]) for r in standin.requests if r["method"] == "POST"]


def test_twilio_sends_from_our_number_with_a_status_callback(twilio, us_mobile):
    permit, result = twilio_send(us_mobile)

    [stored] = twilio.messages
    [sent] = creates(twilio)
    assert sent == {
        "To": US_NUMBER,
        "Body": BODY,
        "From": OUR_NUMBER,
        "StatusCallback": "https://collections.example/webhooks/twilio/status/",
    }
    assert re.fullmatch(r"SM[0-9a-f]{32}", stored["sid"])
    assert result.provider_ref == stored["sid"]
    assert result.attempt.pk == permit.attempt_id


def test_twilio_sends_through_a_messaging_service_when_one_is_set(twilio, us_mobile, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID

    _permit, result = twilio_send(us_mobile)

    [sent] = creates(twilio)
    assert sent["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in sent
    [stored] = twilio.messages
    assert (stored["status"], result.provider_ref) == ("accepted", stored["sid"])


@pytest.mark.parametrize(
    "status, code, text",
    [(429, 20429, "Too Many Requests"), (503, 20503, "Service Unavailable")],
)
def test_twilio_rate_limit_or_outage_is_transient(twilio, us_mobile, status, code, text):
    twilio.fail_next(status, code, text)

    with pytest.raises(TransientError, match=f"Twilio answered {status} \\(error {code}\\)"):
        twilio_send(us_mobile)

    assert twilio.messages == []
    assert len(creates(twilio)) == 1  # asked once: the dispatcher owns the retry schedule


def test_twilio_invalid_number_is_permanent(twilio, us_mobile):
    twilio.fail_next(400, 21211, f"Invalid 'To' Phone Number: {US_NUMBER}")

    with pytest.raises(PermanentError, match="Twilio answered 400 \\(error 21211\\)"):
        twilio_send(us_mobile)

    assert twilio.messages == []
    assert len(creates(twilio)) == 1


def test_twilio_timeout_after_the_request_left_is_unknown_and_lookup_finds_it(
    twilio, us_mobile, settings
):
    settings.TWILIO_TIMEOUT_SECONDS = 1
    twilio.hang_next(5)
    since = timezone.now()

    with pytest.raises(OutcomeUnknown):
        twilio_send(us_mobile)
    # What the dispatcher asks before it would send the same reminder again.
    found = TwilioSmsBackend().lookup("reminder-1-sms", to=US_NUMBER, since=since, body=BODY)

    [stored] = twilio.messages  # Twilio took it although the answer never came
    assert isinstance(found, Found)
    assert found.provider_ref == stored["sid"]
    assert [r["method"] for r in twilio.requests] == ["POST", "GET"]  # one send, one query


def test_twilio_lookup_of_a_message_never_sent_is_none(twilio, us_mobile):
    since = timezone.now()
    twilio_send(us_mobile, outbound(us_mobile, "Another reminder to the same number."))
    backend = TwilioSmsBackend()

    assert len(twilio.messages) == 1  # so the lookups below have something not to match
    assert backend.lookup("reminder-1-sms", to=US_NUMBER, since=since, body=BODY) is None
    assert backend.lookup("reminder-1-sms", to="+12125550199", since=since, body=BODY) is None
    queries = [dict(r["params"]) for r in twilio.requests if r["method"] == "GET"]
    assert [q["To"] for q in queries] == [US_NUMBER, "+12125550199"]


def test_twilio_refused_connection_is_transient(twilio, us_mobile, settings):
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{closed_port()}"

    with pytest.raises(TransientError, match="could not be reached"):
        twilio_send(us_mobile)

    assert twilio.requests == [] and twilio.messages == []


# --- Alibaba Cloud ------------------------------------------------------------------------------


@pytest.fixture
def aliyun(settings):
    with AliyunStandIn(templates=TEMPLATES, sign_names=[SIGN]) as standin:
        settings.ALIYUN_ACCESS_KEY_ID = standin.access_key_id
        settings.ALIYUN_ACCESS_KEY_SECRET = standin.access_key_secret
        settings.ALIYUN_SMS_SIGN_NAME = SIGN
        settings.ALIYUN_SMS_ENDPOINT = standin.endpoint
        settings.ALIYUN_SMS_PROTOCOL = "http"
        settings.ALIYUN_SMS_TIMEOUT_SECONDS = 5
        settings.ALIYUN_SMS_FREE_TEXT_TEMPLATE = ""
        settings.ALIYUN_SMS_PUSH_TOKEN = "push-token"
        yield standin


def templated(point, key: str = "reminder-41-sms") -> OutboundMessage:
    return outbound(
        point,
        "张三您好,您的还款1,200.00元已到期。",
        idempotency_key=key,
        provider_template=REMINDER_TEMPLATE,
        variables=VARIABLES,
    )


def aliyun_send(point, message=None) -> tuple[gate.Permit, DeliveryResult]:
    permit = permit_for(point, now=SHANGHAI_MORNING)
    return permit, AliyunSmsBackend().send(permit.token, message or templated(point))


def actions(standin: AliyunStandIn) -> list[str]:
    return [r["action"] for r in standin.requests]


def test_aliyun_sends_the_approved_template_with_our_key(aliyun, cn_mobile):
    permit, result = aliyun_send(cn_mobile)

    [request] = aliyun.requests
    assert request["action"] == "SendSms"
    params = request["params"]
    assert params["PhoneNumbers"] == "13800138000"  # no +86
    assert (params["SignName"], params["TemplateCode"]) == (SIGN, REMINDER_TEMPLATE)
    assert json.loads(params["TemplateParam"]) == VARIABLES
    assert params["OutId"] == "reminder-41-sms"
    [stored] = aliyun.messages
    assert stored["content"] == "【示例金融】张三您好,您的还款1,200.00元已到期。"
    assert result.provider_ref == stored["biz_id"]
    assert result.attempt.pk == permit.attempt_id


def test_aliyun_refuses_free_text_without_an_approved_template(aliyun, cn_mobile):
    message = outbound(cn_mobile, "Please call us back.", idempotency_key="note-7-sms")

    with pytest.raises(PermanentError, match="ALIYUN_SMS_FREE_TEXT_TEMPLATE is not set"):
        aliyun_send(cn_mobile, message)

    assert aliyun.requests == [] and aliyun.messages == []


def test_aliyun_sends_free_text_through_the_free_text_template(aliyun, cn_mobile, settings):
    settings.ALIYUN_SMS_FREE_TEXT_TEMPLATE = FREE_TEXT_TEMPLATE
    message = outbound(cn_mobile, "请回电。", idempotency_key="note-7-sms", provider_template="")

    _permit, result = aliyun_send(cn_mobile, message)

    [request] = aliyun.requests
    assert request["params"]["TemplateCode"] == FREE_TEXT_TEMPLATE
    assert json.loads(request["params"]["TemplateParam"]) == {"content": "请回电。"}
    [stored] = aliyun.messages
    assert stored["content"] == "【示例金融】请回电。"
    assert result.provider_ref == stored["biz_id"]


def test_aliyun_illegal_number_is_permanent(aliyun, cn_mobile):
    aliyun.fail_next("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")

    with pytest.raises(PermanentError, match="isv.MOBILE_NUMBER_ILLEGAL"):
        aliyun_send(cn_mobile)

    assert actions(aliyun) == ["SendSms"]
    assert aliyun.messages == []


def test_aliyun_business_flow_control_is_transient(aliyun, cn_mobile):
    aliyun.fail_next("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")

    with pytest.raises(TransientError, match="isv.BUSINESS_LIMIT_CONTROL"):
        aliyun_send(cn_mobile)

    assert actions(aliyun) == ["SendSms"]
    assert aliyun.messages == []


@pytest.mark.parametrize(
    "code, status, retry_after",
    [
        ("ServiceUnavailable", 503, None),
        ("InternalError", 500, None),
        ("Throttling.User", 400, 2),  # the gateway's throttling: the SDK's ThrottlingException
    ],
)
def test_aliyun_server_error_or_gateway_throttling_is_transient(
    aliyun, cn_mobile, code, status, retry_after
):
    aliyun.fail_next(code, "Try again later.", status, retry_after=retry_after)

    with pytest.raises(TransientError, match=code):
        aliyun_send(cn_mobile)

    assert actions(aliyun) == ["SendSms"]  # the SDK did not retry on its own
    assert aliyun.messages == []


def test_aliyun_wrong_secret_is_permanent(aliyun, cn_mobile, settings):
    settings.ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"

    with pytest.raises(PermanentError, match="SignatureDoesNotMatch"):
        aliyun_send(cn_mobile)

    assert aliyun.requests == [] and aliyun.messages == []


def test_aliyun_timeout_after_the_request_left_is_unknown_and_lookup_finds_it(
    aliyun, cn_mobile, settings
):
    settings.ALIYUN_SMS_TIMEOUT_SECONDS = 1
    aliyun.hang_next(5)
    since = timezone.now()

    with pytest.raises(OutcomeUnknown):
        aliyun_send(cn_mobile)
    # What the dispatcher asks before it would send the same reminder again.
    found = AliyunSmsBackend().lookup("reminder-41-sms", to=CN_NUMBER, since=since)

    [stored] = aliyun.messages  # Alibaba Cloud took it although the answer never came
    assert stored["out_id"] == "reminder-41-sms"
    assert found == Found(provider_ref="reminder-41-sms", status="sent")
    assert actions(aliyun) == ["SendSms", "QuerySendDetails"]  # one send, one query
    assert aliyun.requests[-1]["params"]["PhoneNumber"] == "13800138000"


def test_aliyun_lookup_of_an_unknown_key_is_none(aliyun, cn_mobile):
    since = timezone.now()
    aliyun_send(cn_mobile, templated(cn_mobile, key="reminder-40-sms"))

    found = AliyunSmsBackend().lookup("reminder-41-sms", to=CN_NUMBER, since=since)

    assert [m["out_id"] for m in aliyun.messages] == ["reminder-40-sms"]
    assert "QuerySendDetails" in actions(aliyun)  # it asked, and the answer held another key
    assert found is None


def test_aliyun_refused_connection_is_transient(aliyun, cn_mobile, settings):
    settings.ALIYUN_SMS_ENDPOINT = f"127.0.0.1:{closed_port()}"

    with pytest.raises(TransientError, match="could not be reached"):
        aliyun_send(cn_mobile)

    assert aliyun.requests == [] and aliyun.messages == []


# --- routing and start-up -----------------------------------------------------------------------


@pytest.fixture
def sms_file_backend(settings):
    settings.SMS_BACKEND = "file"
    settings.REMINDER_CHANNEL_BACKENDS = {**settings.REMINDER_CHANNEL_BACKENDS, "sms": "file"}
    settings.SMS_BACKEND_ROUTES = {}


def configure_twilio(settings) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "auth-token"
    settings.TWILIO_FROM = OUR_NUMBER
    settings.WEBHOOK_BASE_URL = WEBHOOK_BASE_URL


def configure_aliyun(settings) -> None:
    settings.ALIYUN_ACCESS_KEY_ID = "LTAI5tKey"
    settings.ALIYUN_ACCESS_KEY_SECRET = "secret"
    settings.ALIYUN_SMS_SIGN_NAME = SIGN
    settings.ALIYUN_SMS_PUSH_TOKEN = "push-token"


def test_sms_numbers_are_routed_by_prefix(sms_file_backend, settings):
    settings.SMS_BACKEND_ROUTES = {"+86": "aliyun", "+1": "twilio"}

    assert type(get_backend("sms", to="+8613800138000")) is AliyunSmsBackend
    assert type(get_backend("sms", to="+14155550100")) is TwilioSmsBackend
    assert type(get_backend("sms", to="+447700900000")) is FileSmsBackend
    assert type(get_backend("sms")) is FileSmsBackend


def test_the_longest_matching_prefix_wins(sms_file_backend, settings):
    settings.SMS_BACKEND_ROUTES = {"+1": "twilio", "+1876": "aliyun"}

    assert type(get_backend("sms", to="+18765550100")) is AliyunSmsBackend
    assert type(get_backend("sms", to="+14155550100")) is TwilioSmsBackend


def test_start_up_check_names_each_missing_setting_of_a_selected_provider(
    sms_file_backend, settings
):
    settings.SMS_BACKEND = "twilio"
    settings.REMINDER_CHANNEL_BACKENDS = {**settings.REMINDER_CHANNEL_BACKENDS, "sms": "twilio"}
    configure_twilio(settings)
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured) as refused:
        check_backends()

    assert str(refused.value) == (
        "Channel backends: twilio is selected but TWILIO_AUTH_TOKEN is not set."
    )


def test_start_up_check_names_every_missing_setting_of_every_selected_provider(
    sms_file_backend, settings
):
    settings.SMS_BACKEND_ROUTES = {"+86": "aliyun", "+1": "twilio"}
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "WEBHOOK_BASE_URL"):
        setattr(settings, name, "")
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME"):
        setattr(settings, name, "")
    settings.ALIYUN_SMS_PUSH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured) as refused:
        check_backends()

    text = str(refused.value)
    assert (
        "twilio is selected but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, WEBHOOK_BASE_URL, " in text
    )
    assert "TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) are not set" in text
    assert (
        "aliyun is selected but ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET, "
        "ALIYUN_SMS_SIGN_NAME, ALIYUN_SMS_PUSH_TOKEN are not set" in text
    )


def test_start_up_check_passes_when_the_selected_providers_are_configured(
    sms_file_backend, settings
):
    settings.SMS_BACKEND_ROUTES = {"+86": "aliyun", "+1": "twilio"}
    configure_twilio(settings)
    configure_aliyun(settings)

    check_backends()

    assert {"aliyun", "twilio"} <= set(selected_backends())


def test_credentials_alone_select_no_provider(sms_file_backend, settings):
    configure_twilio(settings)
    configure_aliyun(settings)

    check_backends()

    assert type(get_backend("sms", to="+14155550100")) is FileSmsBackend
    assert type(get_backend("sms", to="+8613800138000")) is FileSmsBackend
    assert backend_by_provider("twilio") is None
    assert backend_by_provider("aliyun") is None


def manage_check(**overrides: str) -> subprocess.Popen:
    """``manage.py check`` started in a fresh process, with no provider settings in its
    environment but ``overrides``."""
    provider_settings = ("TWILIO_", "ALIYUN_", "SMS_", "WEBHOOK_BASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(provider_settings)}
    env.update(overrides)
    return subprocess.Popen(  # noqa: S603 - our own manage.py, with this interpreter
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_manage_check_refuses_to_start_with_twilio_selected_but_not_configured():
    # Both start at once: each is a Django start-up of its own, about a second.
    refused = manage_check(SMS_BACKEND="twilio")
    configured = manage_check(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="auth-token",
        TWILIO_FROM=OUR_NUMBER,
        WEBHOOK_BASE_URL=WEBHOOK_BASE_URL,
    )
    _out, refused_errors = refused.communicate(timeout=60)
    _out, configured_errors = configured.communicate(timeout=60)

    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused_errors
    assert "TWILIO_ACCOUNT_SID" in refused_errors
    assert configured.returncode == 0, configured_errors  # the same start, configured
