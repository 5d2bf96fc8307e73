"""CSRF, no back-office session in the portal, rate limits, and the token kept out of logs."""

from __future__ import annotations

import logging
import sys

from django.test import Client, RequestFactory
from django.views.debug import ExceptionReporter

from debtors.audit import PORTAL_ACTOR
from debtors.models import PromiseToPay
from portal import logmask, ratelimit
from selfservice.links import link_make
from selfservice.models import PortalEvent

from .conftest import Portal, address, path_of


def test_every_form_needs_its_csrf_token(owing):
    debtor, loan = owing
    portal = Portal(debtor, loan, client=Client(enforce_csrf_checks=True, REMOTE_ADDR=address()))
    portal.open()
    page = portal.client.get("/p/").content.decode()
    assert "csrfmiddlewaretoken" in page
    assert portal.verify().status_code == 403
    for path in (
        "/p/language/",
        "/p/promise/",
        "/p/plan/",
        "/p/contact/",
        "/p/dispute/",
        "/p/rate/",
    ):
        assert portal.client.post(path, {}).status_code == 403, path


def test_a_back_office_session_grants_nothing_on_the_portal(owing, supervisor):
    debtor, loan = owing
    staff = Client(REMOTE_ADDR=address())
    staff.force_login(supervisor)
    for path in ("/p/", "/p/promise/", "/p/contact/"):
        response = staff.get(path)
        assert (
            response.status_code == 404 and "This link cannot be used" in response.content.decode()
        )
    # Signed in to the back office and to the portal in one browser: the portal's writes are
    # still the debtor's, never the supervisor's.
    portal = Portal(debtor, loan, client=staff).signed_in()
    import datetime as dt

    from .conftest import local_today

    portal.client.post(
        "/p/promise/",
        {
            "loan": loan.pk,
            "amount": "20",
            "promised_date": (local_today() + dt.timedelta(days=2)).isoformat(),
        },
    )
    promise = PromiseToPay.objects.get()
    assert promise.created_by is None
    assert promise.history.get().history_user is None
    assert promise.history.get().actor_label == PORTAL_ACTOR


def test_the_portal_cookie_is_not_the_back_office_session(portal, supervisor):
    portal.signed_in()
    assert "sessionid" not in portal.client.cookies
    staff = Client()
    staff.force_login(supervisor)
    staff.cookies["portal_session"] = "forged-value"
    assert staff.get("/p/").status_code == 404


def test_requests_are_limited_per_address(owing, settings):
    debtor, loan = owing
    settings.PORTAL_RATE_PER_ADDRESS = 3
    client = Client(REMOTE_ADDR=address())
    url = path_of(link_make(debtor, loan))
    codes = [client.get(url).status_code for _n in range(4)]
    assert codes[:3] == [302, 302, 302] and codes[3] == 429
    assert "Please wait a moment" in client.get(url).content.decode()
    # Another address is not affected.
    assert Client(REMOTE_ADDR=address()).get(url).status_code == 302


def test_requests_are_limited_per_link_whatever_the_address(owing, settings):
    debtor, loan = owing
    settings.PORTAL_RATE_PER_LINK = 2
    url = path_of(link_make(debtor, loan))
    codes = [Client(REMOTE_ADDR=address()).get(url).status_code for _n in range(3)]
    assert codes == [302, 302, 429]
    assert PortalEvent.objects.filter(kind="opened").count() == 2
    assert ratelimit.WINDOW_SECONDS == 60


def test_the_token_is_masked_in_log_lines(owing, caplog):
    debtor, loan = owing
    url = path_of(link_make(debtor, loan))
    token = url.split("/")[2]
    forged = url[:-3] + "zz/"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client(REMOTE_ADDR=address()).get(forged)
    assert "Not Found" in caplog.text
    assert token[:-3] not in caplog.text and token[:12] not in caplog.text
    assert "[masked]" in caplog.text


def test_the_filter_masks_messages_and_arguments(owing):
    debtor, loan = owing
    url = link_make(debtor, loan)
    token = url.rstrip("/").rsplit("/", 1)[1]
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '"GET %s HTTP/1.1" %s',
        (path_of(url), 200),
        None,
    )
    logmask.PortalTokenFilter().filter(record)
    assert token not in record.getMessage() and "/p/" in record.getMessage()
    assert logmask.mask("/p/verify/") == "/p/verify/"
    assert token not in logmask.mask(f"see {url} now")


def _explode(request):
    raise RuntimeError("boom")


def _report(path: str) -> str:
    """An error report of a request to ``path`` raised a frame below (as a view would)."""
    request = RequestFactory().get(path, HTTP_REFERER=f"https://example.com{path}")
    try:
        _explode(request)
    except RuntimeError:
        report = logmask.PortalExceptionReporter(request, *sys.exc_info())
        return report.get_traceback_text() + report.get_traceback_html()
    return ""


def test_the_token_is_masked_in_error_reports(owing):
    debtor, loan = owing
    url = path_of(link_make(debtor, loan))
    text = _report(url)
    assert "boom" in text and "RuntimeError" in text
    assert url.split("/")[2][:20] not in text
    assert "[masked]" in text
    # And it is the reporter the project uses.
    from django.conf import settings

    assert settings.DEFAULT_EXCEPTION_REPORTER.endswith("PortalExceptionReporter")
    assert issubclass(logmask.PortalExceptionReporter, ExceptionReporter)
