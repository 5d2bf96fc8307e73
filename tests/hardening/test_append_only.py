"""Contact attempts, history rows, reveal records and portal events cannot be rewritten or
deleted by the application: PostgreSQL refuses it (collections_app migration 0011)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cases.models import RevealLog
from compliance.models import ContactAttempt
from debtors.models import Debtor
from selfservice.models import PortalEvent
from tests.factories import make_contact_point, make_debtor

pytestmark = pytest.mark.django_db


def _refused(statement, params=()):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


@pytest.fixture
def attempt(db):
    debtor = make_debtor()
    point = make_contact_point(debtor)
    return ContactAttempt.objects.create(
        debtor=debtor,
        contact_point=point,
        channel="call",
        direction="outbound",
        outcome="pending",
        occurred_at=timezone.now(),
        actor_label="tests",
    )


def test_an_attempt_records_how_it_ended_and_nothing_else_changes(attempt):
    ContactAttempt.objects.filter(pk=attempt.pk).update(
        outcome="conversation", completed_at=timezone.now(), breach=True
    )
    _refused("UPDATE compliance_contactattempt SET channel = 'sms' WHERE id = %s", [attempt.pk])
    _refused(
        "UPDATE compliance_contactattempt SET direction = 'inbound' WHERE id = %s", [attempt.pk]
    )
    _refused("DELETE FROM compliance_contactattempt WHERE id = %s", [attempt.pk])


def test_a_finished_attempt_keeps_its_circumstances(attempt):
    ContactAttempt.objects.filter(pk=attempt.pk).update(outcome="sent", completed_at=timezone.now())
    for change in (
        "occurred_at = occurred_at - interval '1 hour'",
        "breach = true",
        "breach_reasons = '[\"forged\"]'::jsonb",
        "outcome = 'pending'",
    ):
        _refused(f"UPDATE compliance_contactattempt SET {change} WHERE id = %s", [attempt.pk])  # noqa: S608
    # A delivery report still moves it on.
    assert ContactAttempt.objects.filter(pk=attempt.pk).update(outcome="delivered") == 1


def test_history_rows_cannot_be_changed_or_deleted(db):
    debtor = make_debtor(full_name="First Name")
    debtor.full_name = "Second Name"
    debtor.save()
    row = Debtor.history.model.objects.filter(id=debtor.pk).order_by("history_id").first()
    _refused(
        "UPDATE debtors_historicaldebtor SET full_name = 'Forged' WHERE history_id = %s",
        [row.history_id],
    )
    _refused("DELETE FROM debtors_historicaldebtor WHERE history_id = %s", [row.history_id])


def test_reveal_records_and_portal_events_cannot_be_deleted(attempt, collector):
    reveal = RevealLog.objects.create(
        user=collector, debtor=attempt.debtor, field=RevealLog.Field.NATIONAL_ID
    )
    _refused("DELETE FROM collections_app_reveallog WHERE id = %s", [reveal.pk])
    event = PortalEvent.objects.create(debtor=attempt.debtor, kind=PortalEvent.Kind.REVOKED)
    _refused("DELETE FROM collections_app_portalevent WHERE id = %s", [event.pk])
    _refused("UPDATE collections_app_portalevent SET kind = 'opened' WHERE id = %s", [event.pk])


def test_every_history_table_has_the_trigger(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
            "AND (c.relname LIKE '%%\\_historical%%' OR c.relname = ANY(%s)) "
            "AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid "
            "AND t.tgname = 'append_only')",
            [
                [
                    "compliance_contactattempt",
                    "collections_app_reveallog",
                    "collections_app_portalevent",
                ]
            ],
        )
        assert cursor.fetchall() == []
