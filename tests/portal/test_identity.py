"""Confirming identity: date of birth or the last 4 of the id, attempts limited, then a lock.

Wrong answers count per debtor, whichever of their links they come through, and the lock covers
every link of the debtor, one first opened during the lock too.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from selfservice import services
from selfservice.links import link_make, link_resolve
from selfservice.models import PortalEvent, PortalIdentityLock, PortalSettings

from .conftest import DOB, Portal, owing_debtor
from .test_links import token_of

WRONG_ID = "0000"


def _link(portal):
    return link_resolve(token_of("http://x" + portal.url))


def _new_link(debtor, loan=None):
    """Another link of the debtor, made and opened now (its row written)."""
    return link_resolve(token_of(link_make(debtor, loan)))


def _limits(attempts: int = 5, minutes: int = 30) -> None:
    limits = PortalSettings.current()
    limits.identity_attempts, limits.lock_minutes = attempts, minutes
    limits.save()


def _count(debtor) -> int:
    return PortalIdentityLock.objects.get(debtor=debtor).failed_attempts


def test_date_of_birth_or_last_four_confirm_identity(portal):
    link = _link(portal)
    assert services.identity_verify(link=link, date_of_birth=DOB)
    assert services.identity_verify(link=link, id_last4="123x")
    assert not services.identity_verify(link=link, date_of_birth=dt.date(1990, 3, 8))
    assert not services.identity_verify(link=link, id_last4="1234")
    link.refresh_from_db()
    assert link.verified_at is not None and _count(portal.debtor) == 2


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
    assert PortalIdentityLock.objects.get(debtor=portal.debtor).locked_until is None


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
    debtor, _loan = owing_debtor(date_of_birth=None, national_id="")
    portal = Portal(debtor)
    portal.open()
    page = portal.client.get("/p/").content.decode()
    assert "identity-form" not in page
    assert portal.verify().status_code in (200, 400)
    assert portal.client.get("/p/promise/").status_code == 302


# --- One lock per debtor, across links --------------------------------------------------------


def test_wrong_answers_spread_over_two_links_lock_the_debtor(owing):
    debtor, loan = owing
    _limits(attempts=5, minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first, second = _new_link(debtor, loan), _new_link(debtor)
        assert first.pk != second.pk
        for _attempt in range(3):
            assert not services.identity_verify(link=first, id_last4=WRONG_ID)
        assert not services.identity_verify(link=second, id_last4=WRONG_ID)
        assert not first.is_locked(start) and not second.is_locked(start)
        assert not services.identity_verify(link=second, id_last4=WRONG_ID)
        assert first.is_locked(start) and second.is_locked(start)
        for link in (first, second):
            with pytest.raises(services.LinkLocked) as locked:
                services.identity_verify(link=link, date_of_birth=DOB)
            assert locked.value.until == start + dt.timedelta(minutes=30)
    [event] = PortalEvent.objects.filter(kind=PortalEvent.Kind.LOCKED)
    assert event.link_id == second.pk
    assert not PortalEvent.objects.filter(kind=PortalEvent.Kind.VERIFIED).exists()


def test_a_link_first_opened_during_the_lock_is_locked(owing):
    debtor, loan = owing
    _limits(attempts=2, minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = _new_link(debtor, loan)
        for _attempt in range(2):
            assert not services.identity_verify(link=link, id_last4=WRONG_ID)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        # A link made and opened after the lock began.
        fresh = _new_link(debtor)
        assert fresh.issued_at > start
        assert fresh.is_locked(timezone.now())
        with pytest.raises(services.LinkLocked):
            services.identity_verify(link=fresh, date_of_birth=DOB)
        portal = Portal(debtor)
        assert portal.open().status_code == 302
        assert 'id="locked"' in portal.client.get("/p/").content.decode()


def test_the_right_answer_during_the_lock_is_refused_on_any_link(owing):
    debtor, loan = owing
    _limits(attempts=2, minutes=30)
    guessing, owner = Portal(debtor, loan), Portal(debtor)
    guessing.open()
    owner.open()
    assert guessing.verify(id_last4=WRONG_ID).status_code == 400
    assert 'id="locked"' in guessing.verify(id_last4=WRONG_ID).content.decode()
    response = owner.verify()
    assert response.status_code == 200
    assert 'id="locked"' in response.content.decode()
    assert owner.client.get("/p/promise/").status_code == 302
    assert "600.00" not in owner.client.get("/p/").content.decode()
    assert not PortalEvent.objects.filter(kind=PortalEvent.Kind.VERIFIED).exists()


def test_the_lock_ends_after_its_minutes_and_the_count_starts_again(owing):
    debtor, loan = owing
    _limits(attempts=3, minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first, second = _new_link(debtor, loan), _new_link(debtor)
        services.identity_verify(link=first, id_last4=WRONG_ID)
        services.identity_verify(link=second, id_last4=WRONG_ID)
        services.identity_verify(link=first, id_last4=WRONG_ID)
    end = start + dt.timedelta(minutes=30)
    with time_machine.travel(end - dt.timedelta(seconds=1), tick=False):
        assert second.is_locked(timezone.now())
        with pytest.raises(services.LinkLocked):
            services.identity_verify(link=second, date_of_birth=DOB)
    with time_machine.travel(end, tick=False):
        assert not first.is_locked(end) and not second.is_locked(end)
        # The lock started the count again: two more wrong answers do not lock...
        assert not services.identity_verify(link=second, id_last4=WRONG_ID)
        assert not services.identity_verify(link=first, id_last4=WRONG_ID)
        assert not first.is_locked(end)
        # ...and the right one is accepted on either link.
        assert services.identity_verify(link=second, date_of_birth=DOB)
    assert PortalIdentityLock.objects.get(debtor=debtor).locked_until is None
    assert _count(debtor) == 0


def test_a_right_answer_on_one_link_clears_the_count_of_all(owing):
    debtor, loan = owing
    _limits(attempts=3, minutes=30)
    first, second = _new_link(debtor, loan), _new_link(debtor)
    for _attempt in range(2):
        assert not services.identity_verify(link=first, id_last4=WRONG_ID)
    assert services.identity_verify(link=second, date_of_birth=DOB)
    assert _count(debtor) == 0
    for _attempt in range(2):
        assert not services.identity_verify(link=first, id_last4=WRONG_ID)
    assert not first.is_locked(timezone.now())
    assert not services.identity_verify(link=second, id_last4=WRONG_ID)
    assert first.is_locked(timezone.now())


def test_another_debtors_lock_does_not_touch_this_debtor(owing):
    debtor, loan = owing
    other, _other_loan = owing_debtor()
    _limits(attempts=2, minutes=30)
    for _attempt in range(2):
        services.identity_verify(link=_new_link(other), id_last4=WRONG_ID)
    assert _new_link(other).is_locked(timezone.now())
    link = _new_link(debtor, loan)
    assert not link.is_locked(timezone.now())
    assert services.identity_verify(link=link, date_of_birth=DOB)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier_wrong", [0, 1], ids=["first answers", "after one wrong"])
def test_two_wrong_answers_at_once_on_two_links_both_count(earlier_wrong):
    debtor, loan = owing_debtor()
    _limits(attempts=10, minutes=30)
    first, second = _new_link(debtor, loan), _new_link(debtor)
    for _attempt in range(earlier_wrong):
        services.identity_verify(link=first, id_last4=WRONG_ID)
    answered, release = threading.Event(), threading.Event()
    results: list = []

    def hold_first():
        # A wrong answer on the first link whose transaction stays open until released.
        try:
            with transaction.atomic():
                results.append(services.identity_verify(link=first, id_last4=WRONG_ID))
                answered.set()
                release.wait(5)
        finally:
            connection.close()

    def answer_second():
        try:
            results.append(services.identity_verify(link=second, id_last4=WRONG_ID))
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    assert answered.wait(5)
    other = threading.Thread(target=answer_second)
    other.start()
    time.sleep(0.5)
    assert len(results) == 1  # the second answer waits for the first to be counted
    release.set()
    holder.join(5)
    other.join(5)
    assert results == [False, False]
    assert _count(debtor) == earlier_wrong + 2
    assert (
        PortalEvent.objects.filter(debtor=debtor, kind=PortalEvent.Kind.VERIFY_FAILED).count()
        == earlier_wrong + 2
    )
