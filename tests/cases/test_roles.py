"""The role groups' permissions follow the models into their apps."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from cases.roles import ADMIN, COLLECTOR, SUPERVISOR, WORKFLOW_APPS


def _granted(role: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


@pytest.mark.django_db
def test_every_role_keeps_its_grants_on_the_workflow_apps():
    collector, supervisor, admin = (_granted(role) for role in (COLLECTOR, SUPERVISOR, ADMIN))
    assert {"cases.view_case", "cases.add_note", "reminders.view_reminder"} <= collector
    assert "cases.change_case" not in collector
    assert {"cases.change_case", "selfservice.change_portalplanrequest"} <= supervisor
    assert "reminders.delete_reminderstrategy" not in supervisor
    assert {"reminders.delete_reminderstrategy", "messaging.change_messagetemplate"} <= admin
    assert {"imports.view_importjob", "api.view_idempotencykey"} <= admin
    # No grant is left on the project's own label, which holds no model any more.
    assert not any(p.startswith("collections_app.") for p in collector | supervisor | admin)
    assert {p.split(".")[0] for p in admin} >= set(WORKFLOW_APPS)
