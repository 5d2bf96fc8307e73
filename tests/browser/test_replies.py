"""A debtor's SMS reply reaches the collector, in English and in Simplified Chinese.

Twilio's incoming-message webhook is posted to the running server over HTTP with every field
Twilio sends, signed with the auth token; Twilio retries it once, as it does when an answer is
slow. The collector then sees one unread reply in the navigation, the reply on the Replies
page and, through Open case, on the case's timeline. Opening the case as its collector reads
the reply, so the queue no longer shows the count. On the Chinese pages no English word is left.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from messaging.models import ReceivedMessage
from tests.factories import make_case, make_contact_point, make_debtor, make_loan
from tests.messaging.standins import twilio

from .test_journeys import people  # noqa: F401 - the fixture is used by name
from .test_keyboard import SHANGHAI, _t, english_left, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AUTH_TOKEN = "browser-twilio-token"  # noqa: S105 - a test secret
OUR_NUMBER = "+15005550006"
REPLIES = {"en": "Can I pay on Friday?", "zh-hans": "我周五还款"}


@pytest.fixture
def twilio_webhooks(settings, tmp_path):
    """The Twilio webhooks accept what is signed with ``AUTH_TOKEN``; an SMS the server would
    send back goes to a file. The live server runs in this process, so it sees these."""
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.WEBHOOK_BASE_URL = ""
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "messaging.channels.sms.FileSmsBackend"}
    settings.REMINDER_OUTBOX_DIR = tmp_path / "outbox"


@pytest.fixture
def wang_fang(people):  # noqa: F811 - pytest fixture by name
    debtor = make_debtor(full_name="王芳", country="CN", timezone="Asia/Shanghai")
    make_contact_point(debtor, value="+8613800138000", is_primary=True)
    make_loan(debtor, currency="CNY")
    return make_case(debtor, people["alice"], priority=100)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_reply_arrives_and_the_collector_sees_it_in_replies_and_on_the_timeline(
    browser_page, shots, live_server, twilio_webhooks, wang_fang, language
):
    page = browser_page
    case = wang_fang
    phone = case.debtor.contact_points.get()
    words = REPLIES[language]
    t = lambda text: _t(language, text)  # noqa: E731
    if language != "en":  # the comparisons below would otherwise prove nothing
        assert t("Replies") == "回复"
    today = dt.datetime.now(SHANGHAI).date()
    morning = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(10, 0), SHANGHAI)

    def seen(label: str):
        shots(page, label)
        if language != "en":
            left = english_left(page.inner_text("body"))
            assert left == [], f"English on the Chinese page {label}: {left}"

    with time_machine.travel(morning, tick=True):
        url = live_server.url + "/webhooks/twilio/sms/"
        params, headers = twilio.TwilioStandIn(auth_token=AUTH_TOKEN).inbound_request(
            url, from_=phone.value, to=OUR_NUMBER, body=words
        )
        for _delivery in range(2):  # Twilio's retry carries the same MessageSid
            status, answer = twilio.post(url, params, headers)
            assert status == 200, answer
            assert "<Response>" in answer

        log_in(page, language)
        expect(page.locator("h1")).to_have_text(t("Work queue"))
        expect(page.locator("#unread-replies")).to_have_text("1")
        seen("queue-one-unread")

        page.click("#nav-replies")
        expect(page).to_have_url(re.compile(r"/replies/$"))
        expect(page.locator("h1")).to_have_text(t("Replies"))
        expect(page).to_have_title(re.compile(rf"^{re.escape(t('Replies'))} · "))
        rows = page.locator("#replies tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_class(re.compile(r"\bunread\b"))
        expect(rows.first).to_contain_text(words)
        expect(rows.first).to_contain_text(case.debtor.full_name)
        seen("replies")

        rows.first.get_by_role("link", name=t("Open case")).click()
        expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
        expect(page.locator("h1")).to_contain_text(case.debtor.full_name)
        reply = page.locator("#timeline li", has=page.locator("blockquote", has_text=words))
        expect(reply).to_have_count(1)
        seen("case-timeline")

        page.locator("nav.mainnav").get_by_role("link", name=t("Work queue")).click()
        expect(page.locator("h1")).to_have_text(t("Work queue"))
        expect(page.locator("#nav-replies")).to_be_visible()
        expect(page.locator("#unread-replies")).to_have_count(0)
        seen("queue-all-read")

    stored = ReceivedMessage.objects.get()
    assert (stored.debtor_id, stored.body) == (case.debtor_id, words)
    assert stored.read_by == case.assigned_to
