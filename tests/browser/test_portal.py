"""The debtor's portal on a phone screen, in English and in Simplified Chinese.

One journey per language walks every action: open the link, switch language, confirm identity
(a wrong answer first), promise to pay, rate the experience, propose a plan beyond the limits
(declined by a supervisor, the debtor sees it), then one inside them (active at once), choose
channels and hours, raise a dispute with a document, and ask to stop all contact. A third test
opens a forged, an expired and a revoked link.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from cases.roles import SUPERVISOR
from debtors.models import ChannelConsent, PromiseToPay, RepaymentPlan
from selfservice import services
from selfservice.links import link_make
from selfservice.models import PortalDispute, PortalFeedback, PortalPlanRequest
from tests.portal.conftest import DOB, local_today, owing_debtor, path_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def phone(chromium, live_server, settings):
    settings.PORTAL_RATE_PER_ADDRESS = 100_000
    settings.PORTAL_RATE_PER_LINK = 100_000
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def _fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 10, f"the page scrolls sideways on a phone ({width}px)"


def _flash(page) -> str:
    return page.inner_text("#flash")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_debtor_walks_every_action_on_a_phone(
    phone, shots, settings, tmp_path, django_user_model, language
):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = phone
    t = lambda text: _t(language, text)  # noqa: E731
    other = "zh-hans" if language == "en" else "en"
    debtor, loan = owing_debtor(preferred_language=other, full_name="Li Na")
    supervisor = django_user_model.objects.create_user(username="sam", password="x-pass-123")
    supervisor.groups.add(Group.objects.get(name=SUPERVISOR))
    today = local_today()

    # --- The link, the language, the identity -----------------------------------------
    page.goto(path_of(link_make(debtor, loan)))
    assert page.url.endswith("/p/")
    page.locator("#language-switch button").click()
    page.wait_for_load_state()
    assert t("Welcome") in page.inner_text("h1")
    assert "Li Na" not in page.content()
    shots(page, "welcome")
    page.fill("input[name=id_last4]", "0000")
    page.click("#confirm-identity")
    page.wait_for_load_state()
    assert t("That does not match our records. Please try again.") in page.inner_text("#identity")
    page.fill("input[name=id_last4]", "")
    page.fill("input[name=date_of_birth]", DOB.isoformat())
    page.click("#confirm-identity")
    page.wait_for_load_state()
    assert t("Your account") in page.inner_text("#summary")
    assert "600" in page.inner_text("#summary")
    _fits(page)
    shots(page, "account")

    # --- A promise, then the rating ---------------------------------------------------
    page.click("#go-promise")
    page.fill("input[name=amount]", "100")
    page.fill("input[name=promised_date]", (today + dt.timedelta(days=5)).isoformat())
    _fits(page)
    page.click("#save-promise")
    page.wait_for_load_state()
    assert t("Thank you. Your promise to pay is recorded.") in _flash(page)
    shots(page, "promise-recorded")
    page.locator("#rating-form input[name=score][value='5']").check()
    page.fill("#rating-form textarea[name=comment]", "Clear")
    page.click("#send-rating")
    page.wait_for_load_state()
    assert t("Thank you for your feedback.") in _flash(page)

    # --- A plan beyond the limits: reviewed and declined; then one inside them --------
    page.click("#go-plan")
    page.fill("input[name=count]", "24")
    page.select_option("select[name=frequency]", "weekly")
    page.fill("input[name=first_date]", (today + dt.timedelta(days=3)).isoformat())
    page.click("#save-plan")
    page.wait_for_load_state()
    assert t(
        "Thank you. Your plan goes beyond what we can accept at once, so a member "
        "of our team will review it. You will see the answer on this page."
    ) in _flash(page)
    proposed = RepaymentPlan.objects.get(loan=loan)
    assert t("Waiting for our review") in page.inner_text(f"#plan-{proposed.pk}")
    shots(page, "plan-in-review")
    services.plan_request_decide(
        actor=supervisor, request=PortalPlanRequest.objects.get(plan=proposed), approve=False
    )
    page.reload()
    assert t("Not accepted") in page.inner_text(f"#plan-{proposed.pk}")
    page.click("#go-plan")
    page.fill("input[name=count]", "3")
    page.select_option("select[name=frequency]", "monthly")
    page.fill("input[name=first_date]", (today + dt.timedelta(days=7)).isoformat())
    page.click("#save-plan")
    page.wait_for_load_state()
    assert t("Your repayment plan is set up. Thank you.") in _flash(page)
    active = RepaymentPlan.objects.get(loan=loan, status=RepaymentPlan.Status.ACTIVE)
    assert t("Plan active") in page.inner_text(f"#plan-{active.pk}")
    _fits(page)
    shots(page, "plan-active")

    # --- Contact choices ---------------------------------------------------------------
    page.click("#go-contact")
    page.locator("input[name=channels][value=call]").uncheck()
    page.locator("input[name=channels][value=sms]").uncheck()
    page.select_option("select[name=suits_from]", "18:00")
    page.select_option("select[name=suits_until]", "21:00")
    _fits(page)
    shots(page, "contact-choices")
    page.click("#save-contact")
    page.wait_for_load_state()
    assert t("Your contact choices are saved.") in _flash(page)

    # --- A dispute with a document -----------------------------------------------------
    document = tmp_path / "receipt.png"
    document.write_bytes(PNG)
    page.click("#go-dispute")
    page.fill("textarea[name=reason]", "I paid part of this already")
    page.set_input_files("input[name=document]", str(document))
    page.click("#save-dispute")
    page.wait_for_load_state()
    assert t(
        "Your dispute is recorded. We will not contact you about this account "
        "until it has been looked into."
    ) in _flash(page)
    assert page.locator("#disputed").is_visible()

    # --- Stop all contact --------------------------------------------------------------
    page.click("#go-contact")
    page.locator("#cease-form input[name=confirm]").check()
    page.click("#stop-contact")
    page.wait_for_load_state()
    assert t("We have stopped all contact with you. You can still use this page.") in _flash(page)
    shots(page, "contact-stopped")

    # --- What the back office now holds ------------------------------------------------
    debtor.refresh_from_db()
    assert debtor.dispute and debtor.cease_communication
    assert PromiseToPay.objects.get(loan=loan).amount == 100
    assert PortalFeedback.objects.get(debtor=debtor).score == 5
    assert PortalDispute.objects.get(debtor=debtor).document_type == "image/png"
    assert set(
        ChannelConsent.objects.filter(debtor=debtor, opted_out_at__isnull=False).values_list(
            "channel", flat=True
        )
    ) == {"call", "sms"}

    page.click("#leave")
    page.wait_for_load_state()
    page.goto("/p/")
    assert page.locator("#notice").is_visible()


def test_forged_expired_and_revoked_links_get_one_polite_page(phone, shots, django_user_model):
    page = phone
    debtor, loan = owing_debtor()
    supervisor = django_user_model.objects.create_user(username="sam", password="x-pass-123")
    supervisor.groups.add(Group.objects.get(name=SUPERVISOR))
    good = path_of(link_make(debtor, loan))
    forged = good[:-4] + ("x" if good[-4] != "x" else "y") + good[-3:]
    with time_machine.travel(timezone.now() - dt.timedelta(days=400), tick=False):
        expired = path_of(link_make(debtor, loan))
    with time_machine.travel(timezone.now() - dt.timedelta(seconds=30), tick=False):
        revoked = path_of(link_make(debtor, loan))
    services.links_revoke(actor=supervisor, debtor=debtor)
    notices = []
    for name, url in (("forged", forged), ("expired", expired), ("revoked", revoked)):
        response = page.goto(url)
        assert response.status == 404
        notice = page.inner_text("#notice")
        assert _t("en", "This link cannot be used") in notice
        assert _t("zh-hans", "This link cannot be used") in notice
        assert debtor.full_name not in page.content()
        _fits(page)
        shots(page, name)
        notices.append(notice)
    assert notices[0] == notices[1] == notices[2]
