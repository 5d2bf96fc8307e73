"""Teams: collectors led by one or more supervisors.

A team narrows what supervisors look at (the team view and its reassign list, the wallboard,
the dashboards) to its collectors. It grants nothing: who may see a case is still
``cases.access``'s rule alone.

Writes are keyword-only, take the acting user and record the team's history (leaders and
members included) through ``acting_as``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from cases.models import Team
from cases.roles import ADMIN, COLLECTOR, SUPERVISOR, is_supervisor
from debtors.audit import Actor, acting_as


def teams_for(user) -> QuerySet[Team]:
    """Every team, the ones ``user`` leads first, then by name."""
    led = Team.leaders.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk)
    return Team.objects.annotate(led_by_viewer=Exists(led)).order_by("-led_by_viewer", "name")


def team_member_ids(team: Team) -> list[int]:
    """The ids of the team's collectors (active or not: their past work still counts)."""
    return list(team.members.order_by("id").values_list("id", flat=True))


def possible_leaders() -> QuerySet:
    """The users who may lead a team: active supervisors and admins."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=[SUPERVISOR, ADMIN]) | Q(is_superuser=True))
        .order_by("username")
        .distinct()
    )


def _not_in(users: Iterable, allowed: QuerySet) -> list[str]:
    """The usernames of ``users`` that ``allowed`` does not hold (one query)."""
    users = list(users)
    found = set(allowed.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))
    return [u.get_username() for u in users if u.pk not in found]


def _check_people(leaders: list, members: list) -> None:
    not_leaders = _not_in(leaders, possible_leaders())
    if not_leaders:
        raise ValidationError(
            {
                "leaders": _("Not a supervisor: %(names)s.")
                % {"names": ", ".join(sorted(not_leaders))}
            }
        )
    collectors = get_user_model().objects.filter(groups__name=COLLECTOR)
    not_collectors = _not_in(members, collectors)
    if not_collectors:
        raise ValidationError(
            {
                "members": _("Not a collector: %(names)s.")
                % {"names": ", ".join(sorted(not_collectors))}
            }
        )


def _require_supervisor(actor: Actor) -> None:
    # A named system actor (a command setting up the demo) acts for the organisation.
    if isinstance(actor, str):
        return
    if not is_supervisor(actor):
        raise PermissionDenied(_("Only a supervisor may change the teams."))


@transaction.atomic
def team_save(
    *, actor: Actor, team: Team | None = None, name: str, leaders: Iterable, members: Iterable
) -> Team:
    """Create a team, or change ``team``: its name, and exactly these leaders (supervisors or
    admins) and members (collectors)."""
    _require_supervisor(actor)
    leaders, members = list(leaders), list(members)
    team = team or Team()
    team.name = (name or "").strip()
    team.full_clean()
    _check_people(leaders, members)
    with acting_as(actor):
        team.save()
        team.leaders.set(leaders)
        team.members.set(members)
    return team


@transaction.atomic
def team_delete(*, actor: Actor, team: Team) -> None:
    """Remove a team (its history stays); nobody's cases change."""
    _require_supervisor(actor)
    with acting_as(actor):
        team.delete()
