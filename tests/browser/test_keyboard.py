"""A collector's morning by keyboard alone, in English and in Simplified Chinese.

From the queue, Next case (j) opens the first case; the call (c) goes through the gate and the
number to dial appears; the outcome has the cursor, so the arrow keys choose it; Esc leaves the
field, p chooses a promise and puts the cursor on its amount; Ctrl+Enter saves the outcome and
the promise together and opens the next case. Five cases so, then the queue says nothing more
can be worked now. On the Chinese pages no English word is left (the screenshots show them).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from playwright.sync_api import expect

from cases.models import CallDisposition, DispositionCode, install_default_dispositions
from compliance.models import ContactAttempt
from debtors.models import PromiseToPay
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

from .test_journeys import PASSWORD, people  # noqa: F401 - the fixture is used by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMES = ("王芳", "李娜", "张伟", "刘洋", "陈静")
# What may stay in Latin letters on a Chinese page: data the test made (references, numbers,
# currency and zone codes) and the names of keys.
DATA = re.compile(
    r"[DL]-\d+|\+?\d[\d,.:/ ]*|CN¥|US\$|CNY|Asia/Shanghai|alice|Ctrl|Enter|Esc"
    r"|English|中文|简体中文"
)


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def english_left(text: str) -> list[str]:
    """The English words left on a page once the test's own data is taken out."""
    return sorted(set(re.findall(r"[A-Za-z]{2,}", DATA.sub(" ", text))))


@pytest.fixture
def five_cases(people):  # noqa: F811 - pytest fixture by name
    # The shipped outcomes, in their order (a data migration installs them; a transactional
    # test before this one may have emptied the table and not every run restores it).
    install_default_dispositions(DispositionCode)
    made = []
    for index, name in enumerate(NAMES):
        debtor = make_debtor(full_name=name, country="CN", timezone="Asia/Shanghai")
        make_contact_point(debtor, value=f"+86138001380{index:02d}", is_primary=True)
        make_loan(debtor, currency="CNY")
        made.append(make_case(debtor, people["alice"], priority=500 - index))
    return made


def log_in(page, language: str):
    page.goto("/accounts/login/")
    if language != "en":
        page.select_option("#language-select", language)
        page.wait_for_load_state()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_collector_works_five_cases_by_keyboard(browser_page, shots, five_cases, language):
    page = browser_page
    t = lambda text: _t(language, text)  # noqa: E731
    today = dt.datetime.now(SHANGHAI).date()
    morning = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(10, 0), SHANGHAI)
    promised = morning.date() + dt.timedelta(days=3)

    def no_english(label: str):
        shots(page, label)
        if language != "en":
            left = english_left(page.inner_text("body"))
            assert left == [], f"English on the Chinese page {label}: {left}"

    with time_machine.travel(morning, tick=True):
        log_in(page, language)
        expect(page.locator("h1")).to_have_text(t("Work queue"))
        no_english("queue")

        page.keyboard.press("?")
        expect(page.locator("#keys-help")).to_be_visible()
        assert t("Next case") in page.inner_text("#keys-help")
        no_english("shortcuts")
        page.keyboard.press("Escape")
        expect(page.locator("#keys-help")).to_be_hidden()

        page.keyboard.press("j")
        for number, case in enumerate(five_cases, start=1):
            expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
            expect(page.locator("h1")).to_contain_text(case.debtor.full_name)
            no_english(f"case-{number}")

            page.keyboard.press("c")  # ask the gate and call
            expect(page.locator("#dial-link")).to_be_visible()
            outcome = page.locator("select[name=code]")
            expect(outcome).to_be_focused()
            for _step in range(3):  # no answer, busy, voicemail, promise to pay
                page.keyboard.press("ArrowDown")
            expect(outcome.locator("option:checked")).to_have_text(t("Promise to pay"))
            page.keyboard.press("Escape")
            page.keyboard.press("p")
            amount = page.locator("input[name=promise-amount]")
            expect(amount).to_be_focused()
            page.keyboard.type(f"{number}0.50")
            page.keyboard.press("Tab")
            page.keyboard.type(promised.strftime("%m%d%Y"))
            no_english(f"case-{number}-wrap-up")
            page.keyboard.press("Control+Enter")

        # Five promises, each with its call's outcome; nothing left to call just now.
        expect(page.locator(".messages")).to_contain_text(
            t(
                "No case can be worked now: nothing is due, and the rest were worked within the hour, are on hold, or may not be called at this time."
            )
        )
        no_english("nothing-left")

    promises = PromiseToPay.objects.order_by("loan__debtor__full_name")
    assert sorted((p.loan.debtor.full_name, str(p.amount)) for p in promises) == sorted(
        (case.debtor.full_name, f"{n}0.5000") for n, case in enumerate(five_cases, start=1)
    )
    assert {p.promised_date for p in promises} == {promised}
    assert ContactAttempt.objects.filter(channel="call", outcome="conversation").count() == 5
    assert CallDisposition.objects.filter(code__code="promise").count() == 5
