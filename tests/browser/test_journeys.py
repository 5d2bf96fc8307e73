"""The daily journeys in a real browser, in English and in Simplified Chinese.

A collector opens a case from the queue, is refused a call at night with the reason and the times
shown, places a call in the daytime and logs its outcome, records a promise and sets up a plan
with a discount; a supervisor sees those changes in the audit history and approves the
discount; an admin changes a policy and the simulator reflects it.

The server's clock is moved with time_machine (the live server runs in this process). The
instants are taken close to the real date, so the browser keeps the session cookie.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from playwright.sync_api import expect

from cases.roles import ADMIN, COLLECTOR, SUPERVISOR
from compliance.models import ContactPolicy
from debtors.models import RepaymentPlan
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "test-pass-123"


def _instants():
    today = dt.datetime.now(SHANGHAI).date()
    night = dt.datetime.combine(today, dt.time(23, 30), SHANGHAI)
    day = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(10, 0), SHANGHAI)
    return night, day


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def people(django_user_model):
    from django.contrib.auth.models import Group

    made = {}
    for name, role in (("alice", COLLECTOR), ("sam", SUPERVISOR), ("ada", ADMIN)):
        user = django_user_model.objects.create_user(username=name, password=PASSWORD)
        user.groups.add(Group.objects.get(name=role))
        made[name] = user
    return made


@pytest.fixture
def case(people):
    debtor = make_debtor(full_name="Wang Fang", country="CN", timezone="Asia/Shanghai")
    make_contact_point(debtor, value="+8613800138000", is_primary=True)
    make_loan(debtor, currency="CNY")
    return make_case(debtor, people["alice"], priority=100)


def log_in(page, username: str, language: str):
    page.goto("/accounts/login/")
    if language != "en":
        page.select_option("#language-select", language)
        page.wait_for_load_state()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def log_out(page):
    page.locator("header form[action$='/logout/'] button").click()
    page.wait_for_load_state()


def open_panel(page, panel: str):
    details = page.locator(f"#{panel}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_collector_supervisor_and_admin_journey(browser_page, shots, case, people, language):
    page = browser_page
    t = lambda text: _t(language, text)  # noqa: E731
    night, day = _instants()
    debtor = case.debtor
    loan = debtor.loans.get()

    # --- The collector -----------------------------------------------------------------
    with time_machine.travel(night, tick=True):
        log_in(page, "alice", language)
        assert t("Work queue") in page.inner_text("h1")
        shots(page, "queue")
        # At night Next case offers nothing the gate would refuse: the case is opened from
        # the queue instead, to see the refusal explained.
        page.click(f"a[href$='/cases/{case.pk}/']")
        page.wait_for_load_state()
        assert debtor.full_name in page.inner_text("h1")
        shots(page, "case")

        page.click("#place-call")
        page.wait_for_selector("#blocked")
        blocked = page.locator("#blocked")
        assert t("Outside the contact hours") in blocked.inner_text()
        # Allowed again at 08:00 in Shanghai; the collector's zone (UTC) shows 00:00.
        assert "8:00" in blocked.locator(".when-debtor").inner_text()
        viewer_time = blocked.locator(".when-viewer").inner_text()
        assert "12:00" in viewer_time or "0:00" in viewer_time
        shots(page, "call-refused")

    with time_machine.travel(day, tick=True):
        # Back the next morning: the night's session ended after 30 idle minutes.
        page.goto(f"/cases/{case.pk}/")
        assert "/accounts/login/" in page.url
        log_in(page, "alice", language)
        page.goto(f"/cases/{case.pk}/")
        page.click("#place-call")
        page.wait_for_selector("#dial-link")
        allowed = t("The gate allowed the call. Dial %(number)s now, then log the outcome.")
        assert allowed % {"number": "+8613800138000"} in page.inner_text(".messages")
        # The number stays in view, as a tel: link, while the collector scrolls.
        dial = page.locator("#dial-link")
        assert dial.get_attribute("href") == "tel:+8613800138000"
        page.mouse.wheel(0, 2000)
        assert dial.is_visible() and dial.bounding_box()["y"] >= 0
        shots(page, "call-allowed")

        # One wrap-up: the outcome, its note and the promise, saved together.
        outcome = open_panel(page, "outcome")
        outcome.locator("select[name=code]").select_option(label=t("Promise to pay"))
        outcome.locator("textarea[name=note]").fill("Will pay on Friday")
        outcome.locator("input[name=follow_up][value=promise]").check()
        outcome.locator("input[name=promise-amount]").fill("100.00")
        outcome.locator("input[name=promise-promised_date]").fill(
            (day.date() + dt.timedelta(days=5)).isoformat()
        )
        page.click("#log-outcome")
        expect(page.locator(".messages")).to_contain_text(
            t("Call outcome and promise to pay recorded.")
        )
        assert "Will pay on Friday" in page.inner_text("#timeline")
        shots(page, "wrapped-up")

        # An inbound call agreeing a plan, with a discount that needs approval.
        outcome = open_panel(page, "outcome")
        outcome.locator("select[name=code]").select_option(label=t("Repayment plan agreed"))
        outcome.locator("input[name=follow_up][value=plan]").check()
        outcome.locator("input[name=plan-count]").fill("2")
        outcome.locator("select[name=plan-frequency]").select_option("monthly")
        outcome.locator("input[name=plan-first_date]").fill(
            (day.date() + dt.timedelta(days=7)).isoformat()
        )
        outcome.locator("input[name=plan-discount_amount]").fill("50")
        outcome.locator("input[name=plan-discount_reason]").fill("Medical bills")
        outcome.get_by_role("button", name=t("Calculate")).click()
        page.wait_for_selector("#plan-preview table")
        assert "¥" in page.inner_text("#plan-preview")
        shots(page, "plan-calculator")
        page.click("#log-outcome")
        expect(page.locator(".messages")).to_contain_text(
            t("Call outcome recorded; the plan's discount waits for a supervisor's approval.")
        )
        shots(page, "plan-proposed")
        log_out(page)

        # --- The supervisor ------------------------------------------------------------
        log_in(page, "sam", language)
        page.goto(f"/audit/debtors/{debtor.pk}/")
        audit = page.inner_text("#audit-table")
        assert "alice" in audit
        assert "Medical bills" in audit
        assert "100" in audit  # the promise's amount
        shots(page, "audit-history")
        page.goto("/approvals/")
        assert "Medical bills" in page.inner_text("#approvals")
        shots(page, "approvals")
        page.locator("#approvals").get_by_role("button", name=t("Approve")).click()
        page.wait_for_load_state()
        assert t("Discount approved; the plan is active.") in page.inner_text(".messages")
        assert RepaymentPlan.objects.get(loan=loan).status == RepaymentPlan.Status.ACTIVE
        assert RepaymentPlan.objects.get(loan=loan).discount_amount == Decimal("50")
        page.goto("/dashboards/")
        # The tiles count the period's work: one outbound call (the gate refused the one at
        # night, and the plan was agreed on an inbound call).
        expect(page.locator("#kpi-attempts .value")).to_have_text("1")
        page.wait_for_selector("#chart-recovery", state="attached")
        shots(page, "dashboards")
        log_out(page)

        # --- The admin -----------------------------------------------------------------
        log_in(page, "ada", language)
        simulate = {
            "debtor": debtor.external_ref,
            "channel": "call",
            "at": day.strftime("%Y-%m-%dT%H:%M"),
            "zone": "Asia/Shanghai",
        }
        query = "&".join(f"{k}={v}" for k, v in simulate.items())
        page.goto(f"/manage/simulator/?{query}")
        assert t("Allowed") in page.inner_text("#simulator-result")
        shots(page, "simulator-before")

        page.goto("/manage/policies/")
        policy = ContactPolicy.objects.get(slug="cn-gbt-45251", is_current=True)
        page.get_by_role("link", name=t(policy.name)).click()
        page.wait_for_load_state()
        rules = json.loads(page.input_value("textarea[name=rules]"))
        rules["call"]["hours"] = [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "11:00", "to": "12:00"}
        ]
        page.fill("textarea[name=rules]", json.dumps(rules, indent=2))
        shots(page, "policy-edit")
        page.click("#save-policy")
        page.wait_for_load_state()
        assert (
            ContactPolicy.objects.get(slug=policy.slug, is_current=True).version
            == policy.version + 1
        )

        page.goto(f"/manage/simulator/?{query}")
        result = page.inner_text("#simulator-result")
        assert t("Blocked") in result
        assert t("Outside the contact hours") in result
        assert f"v{policy.version + 1}" in result
        shots(page, "simulator-after")


def test_layout_holds_on_a_phone_screen(chromium, live_server, shots, case, people):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, "alice", "en")
        page.goto(f"/cases/{case.pk}/")
        shots(page, "case-on-phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the case page scrolls sideways on a phone ({width}px)"
    finally:
        context.close()
