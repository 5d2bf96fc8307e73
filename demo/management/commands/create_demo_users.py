"""Create the demo sign-ins, hand the unassigned cases to the two demo collectors and put them
in a team the demo supervisor leads.

Idempotent: running it again resets the demo passwords and roles, and assigns only the cases
that are still unassigned. It refuses to run in production, where fixed passwords would be a
hole.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.assignment import cases_assign
from cases.models import AssignmentRule, Team
from cases.roles import ADMIN, COLLECTOR, SUPERVISOR
from cases.teams import team_save
from debtors.audit import system_actor
from debtors.models import Debtor, Loan
from selfservice.links import link_make

ACTOR = system_actor("create_demo_users")


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    superuser: bool = False


DEMO_USERS = (
    DemoUser("collector", "demo-collector-2026", COLLECTOR),
    DemoUser("collector2", "demo-collector2-2026", COLLECTOR),
    DemoUser("supervisor", "demo-supervisor-2026", SUPERVISOR),
    DemoUser("admin", "demo-admin-2026", ADMIN, superuser=True),
)


class Command(BaseCommand):
    help = (
        "Create the demo users (collector, collector2, supervisor, admin), assign cases and "
        "make the supervisor's team."
    )

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                _("Demo users have fixed passwords; they are never created in production.")
            )
        with transaction.atomic():
            users = {demo.username: self._ensure_user(demo) for demo in DEMO_USERS}
            collectors = [users[demo.username] for demo in DEMO_USERS if demo.role == COLLECTOR]
            assigned = assign_round_robin(collectors)
            demo_team(leader=users["supervisor"], collectors=collectors)
        self.stdout.write(
            _("%(count)d unassigned case(s) shared between the collectors.") % {"count": assigned}
        )
        self.stdout.write(self._table())
        link = demo_portal_link()
        if link:
            self.stdout.write(link)

    def _ensure_user(self, demo: DemoUser) -> User:
        user, _created = User.objects.get_or_create(
            username=demo.username, defaults={"email": f"{demo.username}@example.com"}
        )
        user.set_password(demo.password)
        user.is_active = True
        user.is_staff = demo.superuser
        user.is_superuser = demo.superuser
        user.save()
        user.groups.set([Group.objects.get(name=demo.role)])
        return user

    def _table(self) -> str:
        headers = (_("username"), _("password"), _("role"))
        rows = [(demo.username, demo.password, demo.role) for demo in DEMO_USERS]
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [headers, *rows]
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)


def demo_portal_link() -> str:
    """One debtor's self-service link and what confirms their identity, for trying the portal."""

    debtor = (
        Debtor.objects.filter(loans__status__in=[Loan.Status.CURRENT, Loan.Status.DELINQUENT])
        .exclude(date_of_birth=None)
        .order_by("id")
        .first()
    )
    if debtor is None:
        return ""
    return _("Debtor portal (%(name)s, date of birth %(dob)s): %(link)s") % {
        "name": debtor.full_name,
        "dob": debtor.date_of_birth.isoformat(),
        "link": link_make(debtor),
    }


DEMO_RULE = "Demo collectors"


def assign_round_robin(collectors: list[User]) -> int:
    """Deal every unassigned case to the collectors in turn, through the product's own
    assignment rules: a round-robin rule over the demo collectors (made once, shown on
    Manage > Assignment). Returns how many cases were assigned."""
    rule, _created = AssignmentRule.objects.get_or_create(
        name=DEMO_RULE, defaults={"order": 100, "method": AssignmentRule.Method.ROUND_ROBIN}
    )
    rule.collectors.add(*collectors)
    return cases_assign(actor=ACTOR)


DEMO_TEAM = "Demo team"


def demo_team(*, leader: User, collectors: list[User]) -> Team:
    """The team the demo supervisor leads, of the demo collectors (made once: a team changed
    on Manage > Teams is left as it is)."""
    team = Team.objects.filter(name=DEMO_TEAM).first()
    if team is None:
        team = team_save(actor=ACTOR, name=DEMO_TEAM, leaders=[leader], members=collectors)
    return team
