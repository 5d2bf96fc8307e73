"""The three roles of the back office, as Django groups (created by a data migration)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.apps import apps as global_apps

COLLECTOR = "collector"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ROLES = (COLLECTOR, SUPERVISOR, ADMIN)


def role_names(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return cached


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or ADMIN in role_names(user))


def is_supervisor(user) -> bool:
    """Supervisors and admins see every case."""
    return is_admin(user) or SUPERVISOR in role_names(user)


def is_collector(user) -> bool:
    return user.is_authenticated and COLLECTOR in role_names(user)


# The apps of the collections workflow (what the project's single app held before each area
# became an app of its own): every role's grants on them are the same.
WORKFLOW_APPS = ("cases", "messaging", "reminders", "imports", "selfservice", "api")

# What each role may do, as (app label, permission codename pattern) pairs. The data
# migration creates the groups; ``sync_role_permissions`` (run after every migrate) keeps
# their permissions in step as later migrations add models.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    COLLECTOR: [
        ("debtors", "view_*"),
        ("debtors", "change_debtor"),
        ("debtors", "add_contactpoint"),
        ("debtors", "change_contactpoint"),
        ("debtors", "add_channelconsent"),
        ("debtors", "change_channelconsent"),
        ("debtors", "add_promisetopay"),
        ("debtors", "add_repaymentplan"),
        ("debtors", "add_planinstallment"),
        ("compliance", "view_*"),
        *((app, pattern) for app in WORKFLOW_APPS for pattern in ("view_*", "add_*")),
    ],
    SUPERVISOR: [
        ("debtors", "view_*"),
        ("debtors", "add_*"),
        ("debtors", "change_*"),
        ("debtors", "approve_discount"),
        ("compliance", "view_*"),
        *((app, p) for app in WORKFLOW_APPS for p in ("view_*", "add_*", "change_*")),
    ],
    ADMIN: [
        ("debtors", "*"),
        ("compliance", "*"),
        *((app, "*") for app in WORKFLOW_APPS),
        ("auth", "*_user"),
        ("auth", "view_group"),
        ("authtoken", "*"),
    ],
}


def sync_role_permissions(apps=None) -> None:
    """Create the role groups if missing and set their permissions from ROLE_PERMISSIONS."""

    if apps is None:
        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.select_related("content_type"))
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = [
            perm
            for perm in permissions
            if any(
                perm.content_type.app_label == app_label and fnmatchcase(perm.codename, pattern)
                for app_label, pattern in patterns
            )
        ]
        group.permissions.set(wanted)
