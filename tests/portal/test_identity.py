"""Confirming identity: date of birth or the last 4 of the id, attempts limited, then a lock."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from selfservice import services
from selfservice.links import link_resolve
from selfservice.models import PortalEvent, PortalLink, PortalSettings

from .conftest import DOB, Portal
from .test_links import token_of


def _link(portal):
    return link_resolve(token_of("http://x" + portal.url))


def test_date_of_birth_or_last_four_confirm_identity(portal):
    link = _link(portal)
    assert services.identity_verify(link=link, date_of_birth=DOB)
    assert services.identity_verify(link=link, id_last4="123x")
    assert not services.identity_verify(link=link, date_of_birth=dt.date(1990, 3, 8))
    assert not services.identity_verify(link=link, id_last4="1234")
    link.refresh_from_db()
    assert link.verified_at is not None and link.failed_attempts == 2


def test_too_many_failures_lock_the_link_for_a_while(portal):
    limits = PortalSettings.current()
    limits.identity_attempts, limits.lock_minutes = 3, 30
    limits.save()
    link = _link(portal)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(3):
            assert not services.identity_verify(link=link, id_last4="0000")
        try:
            services.identity_verify(link=link, date_of_birth=DOB)
            raise AssertionError("a locked link checked the identity")
        except services.LinkLocked as locked:
            assert locked.until == start + dt.timedelta(minutes=30)
    assert PortalEvent.objects.filter(kind=PortalEvent.Kind.LOCKED).count() == 1
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert services.identity_verify(link=link, date_of_birth=DOB)
    assert PortalLink.objects.get(pk=link.pk).locked_until is None


def test_the_page_shows_the_lock_and_refuses_even_the_right_answer(portal):
    limits = PortalSettings.current()
    limits.identity_attempts = 2
    limits.save()
    portal.open()
    assert portal.verify(id_last4="0000").status_code == 400
    assert 'id="locked"' in portal.verify(id_last4="0000").content.decode()
    response = portal.verify()
    assert response.status_code == 200
    assert 'id="locked"' in response.content.decode()
    assert portal.client.get("/p/promise/").status_code == 302


def test_before_the_identity_check_the_page_shows_no_amount_or_name(portal):
    response = portal.open()
    page = portal.client.get("/p/").content.decode()
    assert response.status_code == 302
    assert "identity-form" in page
    assert portal.debtor.full_name not in page
    assert "600.00" not in page
    loan = portal.debtor.loans.get()
    assert loan.external_ref not in page and loan.external_ref[-4:] in page
    for path in ("/p/promise/", "/p/plan/", "/p/contact/", "/p/dispute/"):
        assert portal.client.get(path)["Location"] == "/p/"


def test_a_new_session_key_once_the_identity_is_confirmed(portal):
    portal.open()
    before = portal.session_key
    portal.verify()
    after = portal.session_key
    assert before and after and before != after
    page = portal.client.get("/p/").content.decode()
    assert "600.00" in page


def test_a_debtor_with_nothing_to_check_cannot_go_further(db):
    from .conftest import owing_debtor

    debtor, _loan = owing_debtor(date_of_birth=None, national_id="")
    portal = Portal(debtor)
    portal.open()
    page = portal.client.get("/p/").content.decode()
    assert "identity-form" not in page
    assert portal.verify().status_code in (200, 400)
    assert portal.client.get("/p/promise/").status_code == 302
