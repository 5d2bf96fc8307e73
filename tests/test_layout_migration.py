"""Rows written while every workflow model lived in ``collections_app`` are still there, and
read by the apps that own the models now, after ``collections_app.0010`` hands them over.

(``scripts/migrate_forward_check.py`` does the same with a database built by the old code
itself: every table, row, content type and the schema compared.)
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

MOVED_TO = ("cases", "messaging", "reminders", "imports", "selfservice", "api")
# The old code's whole schema: its debtors app too, since later debtors migrations add columns
# (a NOT NULL national id search key among them) that the old models never wrote.
BEFORE = [
    ("collections_app", "0009_portal"),
    ("debtors", "0003_name_prefix_index"),
    *((app, None) for app in MOVED_TO),
]


def _leaves(executor: MigrationExecutor):
    return executor.loader.graph.leaf_nodes()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rows_from_before_the_move_are_kept_and_read_by_their_new_apps():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(("collections_app", "0009_portal")).apps
    ContentType = old.get_model("contenttypes", "ContentType")
    case_type = ContentType.objects.get_or_create(app_label="collections_app", model="case")[0]

    now = timezone.now()
    author = old.get_model("auth", "User").objects.create(username="before-the-move")
    Debtor = old.get_model("debtors", "Debtor")
    debtor = Debtor.objects.create(
        external_ref="MOVE-1", full_name="Before The Move", country="CN", created_at=now
    )
    loan = old.get_model("debtors", "Loan").objects.create(
        debtor=debtor,
        external_ref="MOVE-L1",
        currency="CNY",
        principal=100,
        principal_balance=100,
        opened_on=dt.date(2026, 1, 1),
        created_at=now,
    )
    written = {
        "Case": old.get_model("collections_app", "Case").objects.create(
            debtor=debtor, status="open", priority=7
        ),
        "Note": old.get_model("collections_app", "Note").objects.create(
            debtor=debtor, author=author, body="written before", created_at=now
        ),
        "PortalEvent": old.get_model("collections_app", "PortalEvent").objects.create(
            debtor=debtor, kind="opened", created_at=now
        ),
        "InboxMessage": old.get_model("collections_app", "InboxMessage").objects.create(
            debtor=debtor, idempotency_key="move-1", body="hello", created_at=now
        ),
        "ImportJob": old.get_model("collections_app", "ImportJob").objects.create(
            kind="loans", file="imports/x.csv", original_name="x.csv", created_at=now
        ),
    }
    stage = old.get_model("collections_app", "ReminderStage").objects.first()
    written["Reminder"] = old.get_model("collections_app", "Reminder").objects.create(
        loan=loan,
        installment=old.get_model("debtors", "Installment").objects.create(
            loan=loan, sequence=1, due_date=dt.date(2026, 2, 1), amount_due=100
        ),
        stage=stage,
        debtor=debtor,
        channel=stage.channel,
        due_date=dt.date(2026, 2, 1),
        scheduled_for=dt.date(2026, 2, 1),
        not_before=now,
        created_at=now,
    )
    shipped = {
        name: old.get_model("collections_app", name).objects.count()
        for name in ("MessageTemplate", "ReminderStrategy", "DispositionCode", "QueueWeights")
    }

    executor = MigrationExecutor(connection)
    executor.migrate(_leaves(executor))

    owners = {
        "Case": "cases",
        "Note": "cases",
        "PortalEvent": "selfservice",
        "InboxMessage": "messaging",
        "ImportJob": "imports",
        "Reminder": "reminders",
    }
    for name, row in written.items():
        model = current_apps.get_model(owners[name], name)
        assert model.objects.filter(pk=row.pk).exists(), name
    case = current_apps.get_model("cases", "Case").objects.get(pk=written["Case"].pk)
    assert (case.debtor_id, case.priority) == (debtor.pk, 7)
    for name, count in shipped.items():
        app = (
            "messaging"
            if name == "MessageTemplate"
            else "reminders"
            if "Reminder" in name
            else "cases"
        )
        assert current_apps.get_model(app, name).objects.count() == count > 0, name
    # The content type kept its id (and with it every permission and grant) under its new app.
    renamed = current_apps.get_model("contenttypes", "ContentType").objects.get(pk=case_type.pk)
    assert (renamed.app_label, renamed.model) == ("cases", "case")
