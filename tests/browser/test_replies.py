"""A debtor's reply arrives by Twilio's webhook (a real signed HTTP request to the running
server) and the collector sees it: the unread count in the navigation, the Replies page, the
case's timeline; opening the case reads it. In English and in Simplified Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_case, make_contact_point, make_debtor, make_loan
from tests.messaging.standins import twilio as twilio_standin

from .test_journeys import people  # noqa: F401 - the fixture is used by name
from .test_keyboard import _t, english_left, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TOKEN = "browser-twilio-token"  # noqa: S105 - a test secret
WORDS = {"en": "Can I pay on Friday?", "zh-hans": "我周五可以还款吗"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_reply_reaches_the_collector(
    browser_page,
    shots,
    people,
    live_server,
    settings,
    tmp_path,
    language,  # noqa: F811
):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.WEBHOOK_BASE_URL = ""
    settings.REMINDER_OUTBOX_DIR = tmp_path / "outbox"
    settings.REMINDER_CHANNEL_BACKENDS = {"sms": "messaging.channels.sms.FileSmsBackend"}
    debtor = make_debtor(full_name="王芳", country="CN", timezone="Asia/Shanghai")
    phone = make_contact_point(debtor, value="+8613800138000", is_primary=True)
    make_loan(debtor, currency="CNY")
    case = make_case(debtor, people["alice"], priority=100)
    page = browser_page
    t = lambda text: _t(language, text)  # noqa: E731

    def seen(label: str):
        shots(page, label)
        if language != "en":
            left = english_left(page.inner_text("body"))
            assert left == [], f"English on the Chinese page {label}: {left}"

    url = live_server.url + "/webhooks/twilio/sms/"
    params = {
        "MessageSid": "SM" + "4" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": phone.value,
        "To": "+15005550006",
        "Body": WORDS[language],
        "NumMedia": "0",
    }
    signature = twilio_standin.signature(TOKEN, url, params)
    status, answer = twilio_standin.post(url, params, {"X-Twilio-Signature": signature})
    assert status == 200 and "<Response" in answer

    log_in(page, language)
    expect(page.locator("#unread-replies")).to_have_text("1")
    seen("queue-with-unread")
    page.click("#nav-replies")
    expect(page.locator("h1")).to_have_text(t("Replies"))
    expect(page.locator("#replies")).to_contain_text(WORDS[language])
    seen("replies")
    page.click(f"#replies a[href='/cases/{case.pk}/']")
    expect(page.locator("h1")).to_contain_text("王芳")
    expect(page.locator("body")).to_contain_text(WORDS[language])
    seen("case-timeline")
    expect(page.locator("#unread-replies")).to_have_count(0)
