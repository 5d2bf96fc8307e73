"""Teams: kept on Manage > Teams by supervisors, refused with the field named, and the team
filter of the team view (its figures and its reassign list), the reassignment and the cases
export. Collectors are kept out; a bad team id is never a 500."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case, Team
from cases.roles import SUPERVISOR
from cases.teams import team_delete, team_member_ids, team_save, teams_for
from tests.factories import make_case, make_debtor, make_loan

from .activity import make_collector

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(supervisor, collector):
    return team_save(actor=supervisor, name="East", leaders=[supervisor], members=[collector])


@pytest.fixture
def sup(client, supervisor):
    client.force_login(supervisor)
    return client


# --- The services ---------------------------------------------------------------------------


def test_a_team_is_saved_with_its_leaders_and_members_and_its_history(
    supervisor, collector, other_collector
):
    team = team_save(
        actor=supervisor,
        name="  East ",
        leaders=[supervisor],
        members=[collector, other_collector],
    )
    assert team.name == "East"
    assert team_member_ids(team) == sorted([collector.pk, other_collector.pk])
    assert list(team.leaders.all()) == [supervisor]
    assert team.history.latest().actor_label == "sam"

    team_save(actor=supervisor, team=team, name="East", leaders=[], members=[other_collector])
    assert team_member_ids(team) == [other_collector.pk]
    assert not team.leaders.exists()


def test_only_collectors_are_members_and_only_supervisors_lead(supervisor, collector, admin_user):
    with pytest.raises(ValidationError) as refused:
        team_save(actor=supervisor, name="East", leaders=[collector], members=[])
    assert "leaders" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        team_save(actor=supervisor, name="East", leaders=[], members=[supervisor])
    assert "members" in refused.value.message_dict
    assert not Team.objects.exists()
    # An admin may lead a team too.
    assert team_save(actor=supervisor, name="East", leaders=[admin_user], members=[collector])


def test_names_are_required_and_unique(supervisor, east):
    with pytest.raises(ValidationError) as refused:
        team_save(actor=supervisor, name="East", leaders=[], members=[])
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        team_save(actor=supervisor, name="   ", leaders=[], members=[])
    assert "name" in refused.value.message_dict


def test_collectors_may_not_change_teams(collector, east):
    with pytest.raises(PermissionDenied):
        team_save(actor=collector, name="Mine", leaders=[], members=[collector])
    with pytest.raises(PermissionDenied):
        team_delete(actor=collector, team=east)
    assert Team.objects.count() == 1


def test_a_deleted_team_keeps_its_history_and_nobodys_cases_change(supervisor, east, work):
    team_id = east.pk
    team_delete(actor=supervisor, team=east)
    assert not Team.objects.exists()
    assert Team.history.filter(id=team_id, history_type="-").exists()
    work.refresh_from_db()
    assert work.assigned_to.username == "alice"


def test_the_teams_a_supervisor_leads_come_first(supervisor, collector):
    other = User.objects.create_user("zoe")
    other.groups.add(Group.objects.get(name=SUPERVISOR))
    team_save(actor=supervisor, name="Alpha", leaders=[other], members=[])
    team_save(actor=supervisor, name="Zulu", leaders=[supervisor], members=[])
    team_save(actor=supervisor, name="Beta", leaders=[], members=[])
    assert [t.name for t in teams_for(supervisor)] == ["Zulu", "Alpha", "Beta"]
    assert [t.name for t in teams_for(other)] == ["Alpha", "Beta", "Zulu"]


# --- Manage > Teams -------------------------------------------------------------------------


def test_a_supervisor_adds_edits_and_deletes_teams_in_forms(sup, supervisor, collector):
    assert sup.get(reverse("teams")).status_code == 200
    assert sup.get(reverse("team-new")).status_code == 200
    saved = sup.post(
        reverse("team-new"),
        {"name": "East", "leaders": [supervisor.pk], "members": [collector.pk]},
    )
    assert saved.status_code == 302
    team = Team.objects.get()
    assert team_member_ids(team) == [collector.pk]
    listing = sup.get(reverse("teams")).content.decode()
    assert "East" in listing and "alice" in listing
    page = sup.get(reverse("team-edit", args=[team.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["members"] == [collector]

    sup.post(reverse("team-edit", args=[team.pk]), {"name": "East 2", "members": []})
    team.refresh_from_db()
    assert team.name == "East 2" and team_member_ids(team) == []

    deleted = sup.post(reverse("team-edit", args=[team.pk]), {"delete": "1"})
    assert deleted.status_code == 302
    assert not Team.objects.exists()


def test_a_refused_team_shows_the_field_and_keeps_nothing(sup, supervisor, east, collector):
    duplicate = sup.post(reverse("team-new"), {"name": "East", "members": [collector.pk]})
    assert duplicate.status_code == 400
    assert duplicate.context["form"].errors["name"]
    # A supervisor is not among the collectors offered: the form refuses the choice.
    not_a_collector = sup.post(reverse("team-new"), {"name": "West", "members": [supervisor.pk]})
    assert not_a_collector.status_code == 400
    assert not_a_collector.context["form"].errors["members"]
    assert Team.objects.count() == 1


def test_an_unknown_team_is_404(sup):
    assert sup.get(reverse("team-edit", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("teams", [], "get"),
        ("team-new", [], "get"),
        ("team-new", [], "post"),
        ("team-edit", [1], "get"),
        ("team-edit", [1], "post"),
    ],
)
def test_collectors_get_403_on_the_team_pages(client, collector, name, args, method):
    client.force_login(collector)
    response = getattr(client, method)(reverse(name, args=args), {"name": "Mine"})
    assert response.status_code == 403
    assert not Team.objects.exists()


# --- The team view and its reassign list ----------------------------------------------------


def test_the_team_view_narrows_its_figures_and_cases_to_the_team(
    sup, east, work, others_case, collector
):
    everyone = sup.get(reverse("team"))
    assert {s.user.username for s in everyone.context["stats"]} == {"alice", "bob"}
    assert {case.pk for case in everyone.context["page"].rows} == {work.pk, others_case.pk}

    narrowed = sup.get(reverse("team"), {"team": east.pk})
    assert [s.user.username for s in narrowed.context["stats"]] == ["alice"]
    assert [case.pk for case in narrowed.context["page"].rows] == [work.pk]
    assert [u.username for u in narrowed.context["assignable"]] == ["alice"]
    body = narrowed.content.decode()
    assert f'name="team" value="{east.pk}"' in body
    assert f"{reverse('export-cases')}?team={east.pk}" in body


@pytest.mark.parametrize("team", ["999999", "abc", "0", "1e3"])
def test_an_unknown_team_on_the_team_view_is_a_form_error_and_shows_everyone(
    sup, work, others_case, team
):
    response = sup.get(reverse("team"), {"team": team})
    assert response.status_code == 200
    assert response.context["form"].errors["team"]
    assert len(response.context["page"].rows) == 2


def test_a_team_with_no_collectors_shows_no_cases(sup, supervisor, work):
    empty = team_save(actor=supervisor, name="Empty", leaders=[], members=[])
    response = sup.get(reverse("team"), {"team": empty.pk})
    assert response.context["page"].rows == []
    assert response.context["stats"] == []


def test_the_team_views_more_cases_come_from_the_same_team(sup, east, collector, other_collector):
    for _ in range(30):
        make_case(make_debtor(), collector)
        make_case(make_debtor(), other_collector)
    first = sup.get(reverse("team"), {"team": east.pk})
    cursor = first.context["page"].next_cursor
    assert cursor
    more = sup.get(reverse("team"), {"team": east.pk, "after": cursor}, HTTP_HX_REQUEST="true")
    assert more.templates[0].name == "workspace/_queue_rows.html"
    assert {c.assigned_to_id for c in more.context["page"].rows} == {collector.pk}


def test_the_team_view_runs_the_same_queries_however_many_collectors(sup, supervisor, east, work):
    url = f"{reverse('team')}?team={east.pk}"
    sup.get(url)
    with CaptureQueriesContext(connection) as before:
        sup.get(url)
    for n in range(5):
        someone = make_collector(f"extra{n}")
        make_case(make_debtor(), someone)
        east.members.add(someone)
    with CaptureQueriesContext(connection) as after:
        response = sup.get(url)
    assert len(response.context["stats"]) == 6
    assert len(after) == len(before)


def test_reassigning_within_a_team(sup, supervisor, east, work, others_case, collector):
    outsider_refused = sup.post(
        reverse("reassign"),
        {"cases": [others_case.pk], "to_user": others_case.assigned_to_id, "team": east.pk},
        follow=True,
    )
    assert "Choose the cases and the collector" in outsider_refused.content.decode()
    sup.post(
        reverse("reassign"),
        {"cases": [others_case.pk], "to_user": collector.pk, "team": east.pk, "next": "/team/"},
    )
    others_case.refresh_from_db()
    assert others_case.assigned_to == collector


def test_reassigning_with_an_unknown_team_changes_nothing(sup, work, other_collector):
    response = sup.post(
        reverse("reassign"),
        {"cases": [work.pk], "to_user": other_collector.pk, "team": "999999"},
        follow=True,
    )
    assert response.status_code == 200
    assert "No such team." in response.content.decode()
    work.refresh_from_db()
    assert work.assigned_to.username == "alice"


def test_the_cases_export_narrowed_to_a_team(sup, east, work, others_case):
    response = sup.get(reverse("export-cases"), {"team": east.pk})
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in rows[1:]] == [work.debtor.external_ref]
    refused = sup.get(reverse("export-cases"), {"team": "999999"})
    assert refused.status_code == 400
    assert b"team" in refused.content


def test_a_team_filter_on_the_case_list_of_the_api_too(client, supervisor, east, work, others_case):
    client.force_login(supervisor)
    make_loan(work.debtor)
    response = client.get("/api/v1/cases/", {"team": east.pk})
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [work.pk]
    assert Case.objects.count() == 2
