"""End to end: a STOP through Alibaba Cloud's push webhook, the confirmation sent by a real
Celery worker (Redis, PostgreSQL) through the official SDK to the loopback stand-in."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from compliance import gate
from debtors.models import ContactPoint
from messaging import tasks
from messaging.channels.aliyun import CHINA
from messaging.models import InboundMessage, SentMessage
from tests.messaging.standins.aliyun import AliyunStandIn
from tests.reminders.conftest import reachable_debtor
from tests.reminders.processes import RedisServer, Worker, client_for, wait_for

SIGN = "示例金融"
FREE_TEXT = "SMS_465999"
PUSH = "push-token"  # noqa: S105 - a test secret

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def aliyun():
    with AliyunStandIn(templates={FREE_TEXT: "${content}"}, sign_names=[SIGN]) as standin:
        yield standin


@pytest.fixture
def worker(tmp_path, aliyun, settings, monkeypatch):
    settings.ALIYUN_SMS_PUSH_TOKEN = PUSH
    redis = RedisServer(tmp_path).start()
    process = Worker(
        redis,
        tmp_path,
        SMS_BACKEND="aliyun",
        ALIYUN_ACCESS_KEY_ID=aliyun.access_key_id,
        ALIYUN_ACCESS_KEY_SECRET=aliyun.access_key_secret,
        ALIYUN_SMS_SIGN_NAME=SIGN,
        ALIYUN_SMS_ENDPOINT=aliyun.endpoint,
        ALIYUN_SMS_PROTOCOL="http",
        ALIYUN_SMS_FREE_TEXT_TEMPLATE=FREE_TEXT,
        ALIYUN_SMS_PUSH_TOKEN=PUSH,
    ).start()
    # The webhook's queue is this test's Redis (the project's app keeps its own broker).
    app = client_for(redis)
    monkeypatch.setattr(
        tasks.answer_keyword,
        "delay",
        lambda inbound_id: app.send_task(tasks.answer_keyword.name, args=(inbound_id,)),
    )
    yield process
    process.stop()
    redis.stop()


def test_a_worker_sends_the_stop_confirmation_through_alibaba_cloud(client, aliyun, worker):
    debtor = reachable_debtor(language="zh-hans")
    point = debtor.contact_points.get(kind=ContactPoint.Kind.MOBILE)
    now_in_china = timezone.now().astimezone(CHINA) - dt.timedelta(seconds=5)
    payload = [
        {
            "phone_number": point.value.removeprefix("+86"),
            "send_time": now_in_china.strftime("%Y-%m-%d %H:%M:%S"),
            "content": "TD",
            "sign_name": SIGN,
            "dest_code": "1234",
            "sequence_id": 7001,
        }
    ]
    answer = client.post(
        f"/webhooks/aliyun/sms-up/?token={PUSH}", json.dumps(payload), "application/json"
    )
    assert answer.json() == {"code": 0, "msg": "成功"}
    decision = gate.check(debtor=debtor, channel="sms", contact_point=point, at=timezone.now())
    assert "channel_opt_out" in decision.reasons  # (with the hours, at night in China)

    [sent] = wait_for(lambda: list(SentMessage.objects.all()), what="the confirmation")
    inbound = InboundMessage.objects.get(provider="aliyun", provider_ref="7001")
    assert (sent.provider, sent.to, sent.body) == ("aliyun", point.value, inbound.answer)
    [message] = aliyun.messages
    assert message["phone_number"] == point.value.removeprefix("+86")
    assert message["template_code"] == FREE_TEXT
    assert message["template_param"] == {"content": inbound.answer}
    assert message["out_id"] == sent.idempotency_key
    # Nothing else may follow the confirmation.
    with pytest.raises(gate.ContactBlocked):
        gate.request(debtor=debtor, channel="sms", actor="t", contact_point=point)
