"""A collector sees only their own cases; supervisors see all."""

import pytest
from django.urls import reverse

from cases.access import debtors_for_user, get_debtor_for_user
from tests.factories import make_case, make_debtor


@pytest.fixture
def others_case(other_collector):
    return make_case(make_debtor(full_name="Someone Else"), other_collector)


def test_collector_opens_their_own_case(client, collector, case):
    client.force_login(collector)

    response = client.get(reverse("case-detail", args=[case.pk]))

    assert response.status_code == 200
    assert case.debtor.full_name in response.content.decode()
    assert case.debtor.national_id not in response.content.decode()


def test_collector_is_refused_another_collectors_case(client, collector, case, others_case):
    client.force_login(collector)

    response = client.get(reverse("case-detail", args=[others_case.pk]))

    assert response.status_code == 404


def test_collector_list_shows_only_their_cases(client, collector, case, others_case):
    client.force_login(collector)

    body = client.get(reverse("home")).content.decode()

    assert case.debtor.full_name in body
    assert "Someone Else" not in body


def test_supervisor_sees_every_case(client, supervisor, case, others_case):
    client.force_login(supervisor)

    assert client.get(reverse("case-detail", args=[others_case.pk])).status_code == 200
    assert set(debtors_for_user(supervisor)) == {case.debtor, others_case.debtor}


def test_access_helper_refuses_with_404(collector, others_case):
    from django.http import Http404

    with pytest.raises(Http404):
        get_debtor_for_user(collector, others_case.debtor.pk)
    with pytest.raises(Http404):
        get_debtor_for_user(collector, "not-a-number")


def test_anonymous_is_sent_to_login(client, case):
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
