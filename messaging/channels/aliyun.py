"""SMS through Alibaba Cloud SMS (dysmsapi 2017-05-25), with its official SDK.

Alibaba Cloud sends only approved templates: a message goes out as the sign name
(``ALIYUN_SMS_SIGN_NAME``), the code of the message template's approved twin
(``MessageTemplate.provider_template``) and the template's variables as parameters. A
collector's own words go through ``ALIYUN_SMS_FREE_TEXT_TEMPLATE`` (one parameter,
``content``) when the lender has one approved; without it they are refused, never sent
half-way. ``OutId`` carries our idempotency key, and ``QuerySendDetails`` (by number and day)
answers "was it sent?" after a crash by finding that ``OutId``.

How the answers map onto the dispatcher's errors: throttling (``isv.BUSINESS_LIMIT_CONTROL``
and the SDK's ``ThrottlingException``), a server error or a connection that never opened are
``TransientError``; any other refusal is ``PermanentError``; a timeout after the request left
is ``OutcomeUnknown``.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models as sms
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi
from alibabacloud_tea_openapi.exceptions import (
    AlibabaCloudException,
    ServerException,
    ThrottlingException,
)
from darabonba.runtime import RuntimeOptions
from django.conf import settings

from messaging.channels.base import (
    UNKNOWABLE,
    Found,
    OutcomeUnknown,
    PermanentError,
    ReminderBackend,
    TransientError,
)

# Alibaba Cloud's business codes that mean "not now" rather than "never".
TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "Throttling.User",
        "ServiceUnavailable",
    }
)
# Send details' SendStatus: 1 waiting for the carrier, 2 failed, 3 delivered.
SEND_STATUS = {1: "sent", 2: "failed", 3: "delivered"}
CHINA = ZoneInfo("Asia/Shanghai")
# QuerySendDetails answers for the last 30 days.
QUERY_DAYS = 30
# Delivery report codes that say the number cannot take messages (carriers' "empty number",
# "no such subscriber"); ``ALIYUN_SMS_PERMANENT_CODES`` adds the lender's own list.
PERMANENT_CODES = frozenset({"MN:0001", "MN:0011", "CB:0001", "CB:0053", "DB:0101"})


def permanent_codes() -> frozenset[str]:
    return PERMANENT_CODES | frozenset(getattr(settings, "ALIYUN_SMS_PERMANENT_CODES", ()))


def national(number: str) -> str:
    """Alibaba Cloud takes mainland numbers without +86; others keep their country code."""
    if number.startswith("+86"):
        return number[3:]
    return number.lstrip("+")


def client() -> Client:
    config = openapi.Config(
        access_key_id=settings.ALIYUN_ACCESS_KEY_ID,
        access_key_secret=settings.ALIYUN_ACCESS_KEY_SECRET,
        endpoint=settings.ALIYUN_SMS_ENDPOINT,
        protocol=settings.ALIYUN_SMS_PROTOCOL,
    )
    return Client(config)


def _runtime() -> RuntimeOptions:
    millis = int(settings.ALIYUN_SMS_TIMEOUT_SECONDS * 1000)
    # No retries inside the SDK: a retry after a timeout could send the message twice.
    return RuntimeOptions(read_timeout=millis, connect_timeout=millis, autoretry=False)


class AliyunSmsBackend(ReminderBackend):
    channel = "sms"
    provider = "aliyun"
    can_lookup = True

    @classmethod
    def missing_settings(cls) -> list[str]:
        return [
            name
            for name in (
                "ALIYUN_ACCESS_KEY_ID",
                "ALIYUN_ACCESS_KEY_SECRET",
                "ALIYUN_SMS_SIGN_NAME",
                "ALIYUN_SMS_PUSH_TOKEN",
            )
            if not getattr(settings, name, "")
        ]

    def _template(self, message) -> tuple[str, dict]:
        code = message.metadata.get("provider_template", "")
        if code:
            return code, dict(message.metadata.get("variables", {}))
        if settings.ALIYUN_SMS_FREE_TEXT_TEMPLATE:
            return settings.ALIYUN_SMS_FREE_TEXT_TEMPLATE, {"content": message.body}
        raise PermanentError(
            "Alibaba Cloud sends only approved templates: this message's template has no "
            "provider template code, and ALIYUN_SMS_FREE_TEXT_TEMPLATE is not set."
        )

    def _deliver(self, attempt, message) -> str:
        code, params = self._template(message)
        request = sms.SendSmsRequest(
            phone_numbers=national(message.to),
            sign_name=settings.ALIYUN_SMS_SIGN_NAME,
            template_code=code,
            template_param=json.dumps(params, ensure_ascii=False),
            out_id=message.metadata.get("idempotency_key", ""),
        )
        try:
            answer = client().send_sms_with_options(request, _runtime()).body
        except (ThrottlingException, ServerException) as exc:
            raise TransientError(f"Alibaba Cloud SMS: {exc.code}: {exc.message}") from exc
        except AlibabaCloudException as exc:
            if (exc.status_code or 0) >= 500 or exc.code in TRANSIENT_CODES:
                raise TransientError(f"Alibaba Cloud SMS: {exc.code}: {exc.message}") from exc
            raise PermanentError(f"Alibaba Cloud SMS: {exc.code}: {exc.message}") from exc
        except Exception as exc:  # noqa: BLE001 - the SDK's transport errors are not typed
            if _never_connected(exc):
                raise TransientError(f"Alibaba Cloud SMS could not be reached: {exc}") from exc
            raise OutcomeUnknown(f"Alibaba Cloud SMS: {type(exc).__name__}: {exc}") from exc
        if answer.code != "OK":
            text = f"Alibaba Cloud SMS refused the message: {answer.code}: {answer.message}"
            if answer.code in TRANSIENT_CODES:
                raise TransientError(text)
            raise PermanentError(text)
        return answer.biz_id or ""

    def lookup(self, idempotency_key: str, *, to: str = "", since=None, body: str = ""):
        if not to or since is None:
            return UNKNOWABLE
        start, today = since.astimezone(CHINA).date(), dt.datetime.now(CHINA).date()
        if (today - start).days > QUERY_DAYS:
            return UNKNOWABLE  # older than the send details Alibaba Cloud keeps
        for n in range((today - start).days + 1):
            day = start + dt.timedelta(days=n)
            page = 1
            while page <= 20:
                request = sms.QuerySendDetailsRequest(
                    phone_number=national(to),
                    send_date=day.strftime("%Y%m%d"),
                    page_size=50,
                    current_page=page,
                )
                try:
                    answer = client().query_send_details_with_options(request, _runtime()).body
                except Exception:  # noqa: BLE001 - cannot tell: never re-send blindly
                    return UNKNOWABLE
                if answer.code != "OK":
                    return UNKNOWABLE
                details = answer.sms_send_detail_dtos
                rows = (details.sms_send_detail_dto if details else None) or []
                for row in rows:
                    if row.out_id == idempotency_key:
                        return Found(
                            provider_ref=idempotency_key,
                            status=SEND_STATUS.get(int(row.send_status or 1), "sent"),
                        )
                if len(rows) < 50:
                    break
                page += 1
        return None


def _never_connected(exc: Exception) -> bool:
    """Whether the request cannot have left: the connection was refused or never made. The
    SDK wraps transport errors (``UnretryableException.inner_exception``), and the original
    ``requests`` error survives as the context of what it wraps."""
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError) or type(error).__name__ in (
            "NewConnectionError",
            "ConnectTimeout",
            "NameResolutionError",
        ):
            return True
        reason = getattr(error, "reason", None)
        pending += [
            getattr(error, "inner_exception", None),
            error.__cause__,
            error.__context__,
            reason,
            *(error.args[:1] if error.args else ()),
        ]
    return False
