"""The work queue: my cases in priority order, filters, search, keyset pages, next case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.urls import reverse

from cases.models import Case, QueueWeights
from cases.priorities import case_priorities_refresh, queue_weights_save
from cases.teams import team_save
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

from .conftest import DAYTIME, NIGHT


def _cases(collector, n, **debtor_fields):
    made = []
    for i in range(n):
        debtor = make_debtor(full_name=f"Queue Person {i:03d}", **debtor_fields)
        make_contact_point(debtor, value=f"+86138001{i:05d}")
        make_loan(debtor)
        made.append(make_case(debtor, collector, priority=i))
    return made


def test_queue_lists_only_my_open_cases_in_priority_order(client, collector, others_case):
    mine = _cases(collector, 3)
    Case.objects.filter(pk=mine[0].pk).update(
        status=Case.Status.CLOSED, closed_reason=Case.ClosedReason.PAID
    )
    client.force_login(collector)

    body = client.get(reverse("home")).content.decode()

    assert body.index("Queue Person 002") < body.index("Queue Person 001")
    assert "Queue Person 000" not in body
    assert "Someone Else" not in body


def test_queue_shows_whether_the_debtor_may_be_called_now(client, collector, work):
    client.force_login(collector)
    with time_machine.travel(DAYTIME, tick=False):
        assert "badge good" in client.get(reverse("home")).content.decode()
    with time_machine.travel(NIGHT, tick=False):
        body = client.get(reverse("home")).content.decode()
    # "Not now" says why and until when (08:00 in Shanghai, shown in the viewer's zone).
    assert "Not now" in body
    assert "Outside the contact hours" in body
    assert "until " in body


def test_queue_not_now_for_a_hold_says_it_waits_for_the_hold(client, collector, work):
    work.debtor.dispute = True
    work.debtor.save()
    client.force_login(collector)
    with time_machine.travel(DAYTIME, tick=False):
        body = client.get(reverse("home")).content.decode()
    assert "until the hold is lifted" in body


def test_queue_shows_each_balance_with_its_currency(client, collector, work):
    make_loan(work.debtor, currency="USD")
    case_priorities_refresh(debtor_ids=[work.debtor_id])
    client.force_login(collector)
    body = client.get(reverse("home")).content.decode()
    # Never one sum of two currencies: each balance with its own.
    assert "CN¥300.00 · $300.00" in body
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "¥300.00 · US$300.00" in client.get(reverse("home")).content.decode()


def test_queue_runs_a_bounded_number_of_queries(client, collector, django_assert_max_num_queries):
    _cases(collector, 30)
    client.force_login(collector)
    with time_machine.travel(DAYTIME, tick=False), django_assert_max_num_queries(7):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    _cases(collector, 40)
    with time_machine.travel(DAYTIME, tick=False), django_assert_max_num_queries(7):
        client.get(reverse("home"))


def test_keyset_pages_cover_every_case_once(client, collector):
    made = _cases(collector, 60)
    Case.objects.filter(pk__in=[c.pk for c in made[:30]]).update(priority=7)
    client.force_login(collector)
    seen, url = [], reverse("home")
    for _page in range(5):
        response = client.get(url)
        page = response.context["page"]
        seen += [c.pk for c in page.rows]
        if not page.next_cursor:
            break
        url = reverse("home") + f"?after={page.next_cursor}"
    assert sorted(seen) == sorted(c.pk for c in made)
    assert len(seen) == len(set(seen))


def test_more_rows_come_as_a_fragment_for_htmx(client, collector):
    _cases(collector, 30)
    client.force_login(collector)
    first = client.get(reverse("home")).context["page"]
    response = client.get(
        reverse("home") + f"?after={first.next_cursor}", headers={"HX-Request": "true"}
    )
    assert "<html" not in response.content.decode()
    assert "case-link" in response.content.decode()


def test_search_by_name_reference_and_phone(client, collector):
    made = _cases(collector, 5)
    client.force_login(collector)
    target = made[3].debtor

    by_name = client.get(reverse("home"), {"q": "Queue Person 003"}).context["page"].rows
    by_ref = client.get(reverse("home"), {"q": target.external_ref}).context["page"].rows
    by_phone = client.get(reverse("home"), {"q": "138 0010 0003"}).context["page"].rows

    assert [c.pk for c in by_name] == [made[3].pk]
    assert [c.pk for c in by_ref] == [made[3].pk]
    assert [c.pk for c in by_phone] == [made[3].pk]


def test_filters_by_days_past_due(client, collector):
    made = _cases(collector, 3)
    Case.objects.filter(pk=made[1].pk).update(max_days_past_due=90)
    client.force_login(collector)
    rows = client.get(reverse("home"), {"min_dpd": 30}).context["page"].rows
    assert [c.pk for c in rows] == [made[1].pk]


def test_bad_filter_input_is_reported_and_kept(client, collector):
    client.force_login(collector)
    response = client.get(reverse("home"), {"min_dpd": "-4"})
    assert response.status_code == 200
    assert response.context["form"].errors["min_dpd"]
    assert 'value="-4"' in response.content.decode()


def test_next_case_opens_the_top_of_my_queue(client, collector, others_case):
    made = _cases(collector, 3)
    client.force_login(collector)
    # Inside the debtors' call hours: next case never offers one that may not be called now.
    with time_machine.travel(DAYTIME, tick=False):
        response = client.get(reverse("queue-next"))
    assert response.url == reverse("case-detail", args=[made[2].pk])


def test_next_case_with_an_empty_queue_goes_home(client, collector):
    client.force_login(collector)
    assert client.get(reverse("queue-next")).url == reverse("home")


def test_priority_follows_the_admins_weights(collector, admin_user):
    old = make_debtor()
    make_loan(old)  # installments from January 2026: past due by March
    fresh = make_debtor()
    make_loan(fresh, installments=[])
    a, b = make_case(old, collector), make_case(fresh, collector)
    with time_machine.travel(DAYTIME, tick=False):
        case_priorities_refresh()
        a.refresh_from_db()
        b.refresh_from_db()
        assert a.max_days_past_due > 0
        assert a.priority > b.priority
        queue_weights_save(
            actor=admin_user, days_past_due=0, since_contact=0, balance=0, broken_promise=0
        )
        case_priorities_refresh()
    a.refresh_from_db()
    assert a.priority == 0
    assert QueueWeights.current().days_past_due == 0


def test_filters_for_promises_due_today_and_callbacks_due(client, collector):
    from cases.services import callback_schedule, promise_record

    made = _cases(collector, 3)
    with time_machine.travel(DAYTIME, tick=False):
        promise_record(
            actor=collector,
            loan=made[0].debtor.loans.get(),
            amount=Decimal("10"),
            promised_date=DAYTIME.date(),
        )
        callback_schedule(
            actor=collector, debtor=made[1].debtor, due_at=DAYTIME + dt.timedelta(hours=1)
        )
        client.force_login(collector)
        promised = client.get(reverse("home"), {"promise_today": "on"}).context["page"].rows
        calls = client.get(reverse("home"), {"callback_due": "on"}).context["page"].rows
    assert [c.pk for c in promised] == [made[0].pk]
    assert [c.pk for c in calls] == [made[1].pk]


def test_a_callback_due_lifts_the_case_to_the_top(collector):
    from cases.services import callback_schedule

    made = _cases(collector, 3)
    with time_machine.travel(DAYTIME, tick=False):
        case_priorities_refresh()
        callback_schedule(
            actor=collector, debtor=made[0].debtor, due_at=DAYTIME + dt.timedelta(hours=1)
        )
    top = Case.objects.exclude(status="closed").order_by("-priority", "-id").first()
    assert top.pk == made[0].pk


def test_supervisor_narrows_the_queue_to_a_team_and_exports_what_it_shows(
    client, supervisor, collector, other_collector, work, others_case
):
    team = team_save(actor=supervisor, name="Shanghai", leaders=[supervisor], members=[collector])
    client.force_login(supervisor)
    everyone = client.get(reverse("home")).context["page"].rows
    assert {c.pk for c in everyone} == {work.pk, others_case.pk}

    response = client.get(reverse("home"), {"team": team.pk, "status": "open"})
    assert [c.pk for c in response.context["page"].rows] == [work.pk]
    # Cases are given only to the team's collectors, and the export has the same filters.
    assert [u.pk for u in response.context["assignable"]] == [collector.pk]
    body = response.content.decode()
    assert f'href="/exports/cases.csv?status=open&amp;team={team.pk}"' in body
    exported = b"".join(
        client.get(f"/exports/cases.csv?status=open&team={team.pk}").streaming_content
    ).decode()
    assert work.debtor.external_ref in exported
    assert others_case.debtor.external_ref not in exported

    unknown = client.get(reverse("home"), {"team": 999999})
    assert unknown.status_code == 200
    assert unknown.context["form"].errors["team"]


def test_a_collectors_queue_has_no_team_filter_nor_export(client, collector, work):
    client.force_login(collector)
    response = client.get(reverse("home"), {"team": 1})
    assert "team" not in response.context["form"].fields
    assert "export-cases" not in response.content.decode()
