from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from cases.models import Case, Team
from cases.roles import is_admin, is_collector, is_supervisor
from tests.factories import make_case, make_debtor

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("create_demo_users", stdout=out)
    return out.getvalue()


def test_creates_the_four_demo_users_with_their_roles_and_prints_them():
    output = run()

    users = {user.username: user for user in User.objects.all()}
    assert set(users) == {"collector", "collector2", "supervisor", "admin"}
    assert is_collector(users["collector"]) and is_collector(users["collector2"])
    assert is_supervisor(users["supervisor"]) and not is_admin(users["supervisor"])
    assert is_admin(users["admin"]) and users["admin"].is_staff and users["admin"].is_superuser
    assert users["collector"].check_password("demo-collector-2026")
    assert "collector2" in output and "demo-supervisor-2026" in output


def test_running_twice_changes_nothing_and_resets_a_changed_password():
    run()
    collector = User.objects.get(username="collector")
    collector.set_password("something-else-1")
    collector.save()

    run()

    assert User.objects.count() == 4
    collector.refresh_from_db()
    assert collector.check_password("demo-collector-2026")
    assert collector.groups.count() == 1


def test_unassigned_cases_are_shared_in_turn_and_assigned_ones_are_left_alone(other_collector):
    kept = make_case(make_debtor(), other_collector)
    unassigned = [make_case(make_debtor()) for _ in range(5)]

    run()

    owners = [Case.objects.get(pk=case.pk).assigned_to.username for case in unassigned]
    assert owners == ["collector", "collector2", "collector", "collector2", "collector"]
    assert Case.objects.get(pk=kept.pk).assigned_to == other_collector
    history = Case.objects.get(pk=unassigned[0].pk).history.latest()
    assert history.actor_label == "system: assignment rule Demo collectors"

    run()
    assert [Case.objects.get(pk=case.pk).assigned_to.username for case in unassigned] == owners


def test_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never created in production"):
        run()
    assert not User.objects.exists()


def test_the_supervisor_leads_a_team_of_the_demo_collectors_made_once():
    run()
    team = Team.objects.get()
    assert [u.username for u in team.leaders.all()] == ["supervisor"]
    assert sorted(u.username for u in team.members.all()) == ["collector", "collector2"]
    assert team.history.latest().actor_label == "system: create_demo_users"

    team.members.remove(User.objects.get(username="collector2"))
    run()
    assert Team.objects.count() == 1
    assert [u.username for u in Team.objects.get().members.all()] == ["collector"]
