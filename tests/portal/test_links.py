"""The link: signed, expiring, revocable; every bad link gets the same polite page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from messaging.templating import SELF_SERVICE_SALT
from portal.session import COOKIE_NAME
from selfservice import services
from selfservice.links import LinkInvalid, link_make, link_resolve, token_digest
from selfservice.models import PortalEvent, PortalLink, PortalSettings
from tests.factories import make_debtor

from .conftest import Portal, address, path_of


def token_of(url: str) -> str:
    return path_of(url).split("/")[2]


def test_a_valid_link_is_recorded_once_by_its_digest(owing):
    debtor, loan = owing
    token = token_of(link_make(debtor, loan))
    first = link_resolve(token)
    again = link_resolve(token)
    assert first.pk == again.pk
    assert first.debtor_id == debtor.pk and first.loan_id == loan.pk
    assert first.token_digest == token_digest(token)
    assert token not in str(PortalLink.objects.values_list().get(pk=first.pk))


def test_an_altered_or_forged_token_is_refused(owing):
    debtor, loan = owing
    token = token_of(link_make(debtor, loan))
    altered = token[:-3] + ("aaa" if token[-3:] != "aaa" else "bbb")
    for bad in (altered, "not-a-token", token.replace(":", "", 1), ""):
        with pytest.raises(LinkInvalid):
            link_resolve(bad)
    assert not PortalLink.objects.exists()


def test_a_link_expires_after_the_days_the_admins_set(owing):
    debtor, loan = owing
    limits = PortalSettings.current()
    limits.link_days = 5
    limits.save()
    with time_machine.travel(timezone.now() - dt.timedelta(days=6), tick=False):
        old = token_of(link_make(debtor, loan))
    with pytest.raises(LinkInvalid):
        link_resolve(old)
    assert link_resolve(token_of(link_make(debtor, loan)))


def test_revoking_ends_every_link_even_one_never_opened(owing, supervisor):
    debtor, loan = owing
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(seconds=5), tick=False):
        opened = token_of(link_make(debtor, loan))
        unopened = token_of(link_make(debtor))
        link_resolve(opened)
    with time_machine.travel(start, tick=False):
        assert services.links_revoke(actor=supervisor, debtor=debtor) == 1
    for token in (opened, unopened):
        with pytest.raises(LinkInvalid):
            link_resolve(token)
    assert PortalLink.objects.get().revoked_by == supervisor.get_username()
    event = PortalEvent.objects.get(kind=PortalEvent.Kind.REVOKED)
    assert event.actor_label == supervisor.get_username()
    # A link made after the revocation works.
    with time_machine.travel(start + dt.timedelta(seconds=2), tick=False):
        assert link_resolve(token_of(link_make(debtor, loan)))


def test_a_link_to_a_debtor_who_does_not_exist_is_refused(db):
    debtor = make_debtor()
    token = token_of(link_make(debtor))
    debtor.delete()
    with pytest.raises(LinkInvalid):
        link_resolve(token)


def test_forged_expired_revoked_and_unknown_links_get_the_same_answer(owing, supervisor):
    debtor, loan = owing
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=400), tick=False):
        expired = link_make(debtor, loan)
    with time_machine.travel(now - dt.timedelta(seconds=10), tick=False):
        revoked = link_make(debtor, loan)
    services.links_revoke(actor=supervisor, debtor=debtor)
    ghost = make_debtor()
    unknown = link_make(ghost)
    ghost.delete()
    good = path_of(link_make(debtor, loan))
    forged = good[:-4] + ("x" if good[-4] != "x" else "y") + good[-3:]
    answers = []
    for url in (path_of(expired), path_of(revoked), path_of(unknown), forged):
        response = Client(REMOTE_ADDR=address()).get(url)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
        answers.append((response.status_code, response.content, headers, response.cookies.keys()))
    assert answers[0][0] == 404
    assert all(answer == answers[0] for answer in answers)
    assert COOKIE_NAME not in answers[0][3]
    body = answers[0][1].decode()
    assert "This link cannot be used" in body and debtor.full_name not in body


def test_opening_a_link_leaves_its_url_for_the_portal_session(portal):
    response = portal.open()
    assert response.status_code == 302 and response["Location"] == "/p/"
    cookie = portal.client.cookies[COOKIE_NAME]
    assert cookie["path"] == "/p/" and cookie["httponly"]
    assert response["Referrer-Policy"] == "same-origin"
    assert PortalEvent.objects.filter(kind=PortalEvent.Kind.OPENED).count() == 1


def test_a_revoked_link_ends_an_open_portal_session(portal, supervisor):
    portal.signed_in()
    assert portal.client.get("/p/").status_code == 200
    services.links_revoke(actor=supervisor, debtor=portal.debtor)
    response = portal.client.get("/p/")
    assert response.status_code == 404
    assert "This link cannot be used" in response.content.decode()


def test_a_second_portal_works_for_another_debtor_only(owing):
    debtor, loan = owing
    other = Portal(make_debtor(date_of_birth=debtor.date_of_birth)).signed_in()
    page = other.client.get("/p/").content.decode()
    assert loan.external_ref not in page


def test_revoking_ends_a_link_dated_in_the_future_and_never_opened(owing, supervisor):
    debtor, loan = owing
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        # Signed by a clock an hour ahead.
        ahead = link_make(debtor, loan)
    with time_machine.travel(start - dt.timedelta(seconds=5), tick=False):
        current = link_make(debtor)
    with time_machine.travel(start, tick=False):
        services.links_revoke(actor=supervisor, debtor=debtor)
    with time_machine.travel(start + dt.timedelta(seconds=1), tick=False):
        for url in (ahead, current):
            with pytest.raises(LinkInvalid):
                link_resolve(token_of(url))
            response = Client(REMOTE_ADDR=address()).get(path_of(url))
            assert response.status_code == 404
            assert COOKIE_NAME not in response.cookies
    assert not PortalLink.objects.exists()


def test_revoking_ends_an_opened_link_whatever_its_dates(owing, supervisor):
    debtor, loan = owing
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(minutes=5), tick=False):
        opened = Portal(debtor, loan).signed_in()
    with time_machine.travel(start, tick=False):
        assert opened.client.get("/p/").status_code == 200
        assert services.links_revoke(actor=supervisor, debtor=debtor) == 1
        assert opened.client.get("/p/").status_code == 404
        assert opened.open().status_code == 404


def test_a_link_dated_ahead_of_the_clock_is_refused_until_its_date(owing):
    debtor, loan = owing
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        token = token_of(link_make(debtor, loan))
    with time_machine.travel(start, tick=False), pytest.raises(LinkInvalid):
        link_resolve(token)
    assert not PortalLink.objects.exists()
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        assert link_resolve(token).issued_at == start + dt.timedelta(hours=1)


# --- A revocation ends every link issued before it, whatever the link's date -----------------


def test_a_revoked_link_dated_in_the_future_stays_ended_once_its_date_comes(owing, supervisor):
    """The review's finding: a link dated a day ahead (signed by a clock running a day ahead),
    never opened, revoked before that day, opened once the day has come."""
    debtor, loan = owing
    start = timezone.now()
    day = dt.timedelta(days=1)
    with time_machine.travel(start + day, tick=False):
        ahead = link_make(debtor, loan)
    with time_machine.travel(start, tick=False):
        services.links_revoke(actor=supervisor, debtor=debtor)
    with time_machine.travel(start + day + dt.timedelta(minutes=1), tick=False):
        response = Client(REMOTE_ADDR=address()).get(path_of(ahead))
        assert response.status_code == 404
        assert "This link cannot be used" in response.content.decode()
        assert COOKIE_NAME not in response.cookies
        with pytest.raises(LinkInvalid):
            link_resolve(token_of(ahead))
        assert not PortalLink.objects.exists()
        # Links issued after the revocation work, opened and on every page after.
        fresh = Portal(debtor, loan).signed_in()
        assert fresh.client.get("/p/").status_code == 200


def test_a_link_issued_after_a_revocation_works_even_dated_before_it(owing, supervisor):
    """Signed by a clock running behind: dated before the revocation, issued after it."""
    debtor, loan = owing
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.links_revoke(actor=supervisor, debtor=debtor)
    with time_machine.travel(start - dt.timedelta(hours=1), tick=False):
        behind = Portal(debtor, loan)
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        behind.signed_in()
        assert behind.client.get("/p/").status_code == 200
        assert PortalLink.objects.get().issued_at < start


def _token_as_made_before(debtor, loan) -> str:
    """A token as links were made before they carried their issue instant."""
    return signing.dumps({"d": debtor.pk, "l": loan.pk}, salt=SELF_SERVICE_SALT, compress=True)


def test_links_sent_before_they_carried_an_issue_instant_are_judged_as_before(owing, supervisor):
    debtor, loan = owing
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(minutes=10), tick=False):
        before_it = _token_as_made_before(debtor, loan)
    with time_machine.travel(start - dt.timedelta(minutes=5), tick=False):
        # A revocation recorded as they were before: by its date only.
        services.event_record(debtor=debtor, kind=PortalEvent.Kind.REVOKED, actor=supervisor)
    with time_machine.travel(start - dt.timedelta(minutes=4), tick=False):
        after_it = _token_as_made_before(debtor, loan)
    with time_machine.travel(start, tick=False):
        with pytest.raises(LinkInvalid):
            link_resolve(before_it)
        assert link_resolve(after_it).issued_db_at is None


def test_a_revocation_ends_links_made_before_they_carried_an_issue_instant_whatever_their_date(
    owing, supervisor
):
    debtor, loan = owing
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        ahead = _token_as_made_before(debtor, loan)
    with time_machine.travel(start, tick=False):
        services.links_revoke(actor=supervisor, debtor=debtor)
    with (
        time_machine.travel(start + dt.timedelta(hours=2), tick=False),
        pytest.raises(LinkInvalid),
    ):
        link_resolve(ahead)


def test_a_signed_token_with_a_malformed_issue_instant_is_refused(owing):
    debtor, loan = owing
    for issued in (5, "not base62!", "z" * 40):
        token = signing.dumps([debtor.pk, loan.pk, issued], salt=SELF_SERVICE_SALT)
        with pytest.raises(LinkInvalid):
            link_resolve(token)
        assert Client(REMOTE_ADDR=address()).get(f"/p/{token}/").status_code == 404
    assert not PortalLink.objects.exists()
