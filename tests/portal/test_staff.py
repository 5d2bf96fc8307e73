"""The back office's side: the case page's portal panel, revocation and proposals in scope."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import translation

from cases.models import Case
from selfservice import services
from selfservice.links import LinkInvalid, link_resolve
from selfservice.models import PortalPlanRequest

from .conftest import local_today
from .test_links import token_of


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_case_page_shows_the_portal_and_its_collector_can_revoke(
    portal, collector, other_collector
):
    case = Case.objects.get(debtor=portal.debtor)
    case.assigned_to = collector
    case.save()
    portal.signed_in()
    services.portal_plan_propose(
        link=portal.debtor.portal_links.get(),
        loan=portal.debtor.loans.get(),
        count=30,
        first_date=local_today() + dt.timedelta(days=2),
        frequency="weekly",
        note="Paid weekly",
    )
    page = _client(collector).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="portal-panel"' in page and "Paid weekly" in page
    proposal = PortalPlanRequest.objects.get()
    assert f"/portal/plans/{proposal.pk}/decide/" in page
    assert "too many installments" in page
    with translation.override("zh-hans"):
        assert "期数过多" in proposal.outside_limit_labels

    url = f"/portal/debtors/{portal.debtor.pk}/revoke/"
    assert _client(other_collector).post(url).status_code == 404
    assert portal.client.get("/p/").status_code == 200
    response = _client(collector).post(url, {"next": f"/cases/{case.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert portal.client.get("/p/").status_code == 404
    try:
        link_resolve(token_of("http://x" + portal.url))
        raise AssertionError("a revoked link still opens")
    except LinkInvalid:
        pass


def test_staff_actions_need_a_signed_in_user_and_a_post(portal):
    assert Client().post(f"/portal/debtors/{portal.debtor.pk}/revoke/").status_code == 302
    assert Client().get("/portal/plans/1/decide/").status_code in (302, 405)
