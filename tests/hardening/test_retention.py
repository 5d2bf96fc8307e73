"""Retention and erasure: debtors idle past ``RETENTION_YEARS`` lose their personal data, in
every table and its history, unless under legal hold; an admin erases one on request; the ledger
still verifies; the append-only records allow erasing and nothing else."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from cases.models import Case, Note
from cases.retention import debtors_past_retention, retention_cutoff
from cases.services import note_add
from compliance import gate
from debtors.erasure import ERASED_NAME, ErasureRefused, debtor_erase
from debtors.models import ContactPoint, Debtor, Erasure, Loan, Payment
from messaging.inbound import Sms, sms_received
from messaging.models import InboundMessage
from selfservice.services import event_record
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

pytestmark = pytest.mark.django_db

NAME = "Zhou Xiuying"
PHONE = "+8613912345678"
EMAIL = "zhou.xiuying@example.com"
NATIONAL_ID = "110101198001011234"
LONG_AGO = dt.datetime(2022, 3, 1, 4, 0, tzinfo=dt.UTC)  # 10:00 or so in Shanghai
NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


def _author():
    return get_user_model().objects.get_or_create(username="note-writer")[0]


def _idle_debtor(*, ref: str = "OLD-1", loan_status=Loan.Status.PAID, **fields) -> Debtor:
    """A debtor worked in 2022 (a note, a call decision, an SMS reply, a portal visit), its
    loan paid and its case closed then."""
    with time_machine.travel(LONG_AGO, tick=False):
        debtor = make_debtor(
            external_ref=ref,
            full_name=NAME,
            national_id=NATIONAL_ID,
            date_of_birth=dt.date(1980, 1, 1),
            **fields,
        )
        make_contact_point(debtor, value=PHONE)
        make_contact_point(debtor, kind=ContactPoint.Kind.EMAIL, value=EMAIL)
        loan = make_loan(debtor, status=loan_status)
        make_case(debtor, status=Case.Status.CLOSED, closed_at=LONG_AGO, closed_reason="paid")
        note_add(actor=_author(), debtor=debtor, body=f"{NAME} said to call {PHONE} after work")
        with contextlib.suppress(gate.ContactBlocked):
            gate.request(debtor=debtor, channel="call", actor="tests", now=LONG_AGO)
        sms_received(
            Sms(
                provider="twilio",
                provider_ref=f"SM-{ref}",
                from_number=PHONE,
                to_number="+15005550006",
                body=f"this is {NAME}, I will pay friday",
            )
        )
        event_record(debtor=debtor, kind="opened", detail=f"{NAME} from {EMAIL}")
        debtor.full_name = NAME  # a change: one more history row with the name
        debtor.region = "Chaoyang"
        debtor.save()
    Payment.objects.filter(loan=loan).update(received_at=LONG_AGO)
    return debtor


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'jsonb') ORDER BY 1, 2"
        )
        return cursor.fetchall()


def _where_found(*needles: str) -> list[str]:
    """Every table and column that holds any of ``needles``, anywhere in the database."""
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            for needle in needles:
                cursor.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',  # noqa: S608
                    [f"%{needle}%"],
                )
                if cursor.fetchone():
                    found.append(f"{table}.{column}: {needle}")
    return found


def test_a_debtor_past_retention_keeps_nothing_that_names_a_person(settings):
    settings.RETENTION_YEARS = 3
    debtor = _idle_debtor()
    assert _where_found(NAME, PHONE, EMAIL), "the test's data must be there to begin with"
    assert Debtor.history.filter(id=debtor.pk, date_of_birth__isnull=False).exists()

    with time_machine.travel(NOW, tick=False):
        out = io.StringIO()
        call_command("apply_retention", stdout=out)
    assert "1 debtors erased." in out.getvalue()

    assert _where_found(NAME, PHONE, EMAIL, "Chaoyang") == []
    debtor.refresh_from_db()
    assert debtor.full_name == ERASED_NAME
    assert (debtor.national_id, debtor.national_id_index, debtor.date_of_birth) == ("", "", None)
    assert debtor.erased_at is not None
    assert not Debtor.history.filter(id=debtor.pk, date_of_birth__isnull=False).exists()
    assert not Debtor.history.filter(id=debtor.pk).exclude(national_id="").exists()
    assert set(debtor.contact_points.values_list("status", flat=True)) == {"invalid"}
    assert Note.objects.get(debtor=debtor).body == ""
    assert InboundMessage.objects.get(provider_ref="SM-OLD-1").from_address == ""
    erasure = Erasure.objects.get(debtor=debtor)
    assert (erasure.reason, erasure.actor_label) == ("retention", "system: apply_retention")
    assert erasure.counts["debtors_historicaldebtor"] >= 2
    # What is not personal stays: the reference, the loan, the money, the ledger.
    assert debtor.external_ref == "OLD-1"
    assert debtor.loans.get().principal == Decimal("300.00")
    call_command("seal_ledger", verbosity=0)
    call_command("verify_ledger", stdout=io.StringIO())


def test_running_twice_erases_nothing_more(settings):
    _idle_debtor()
    with time_machine.travel(NOW, tick=False):
        call_command("apply_retention", stdout=io.StringIO())
        out = io.StringIO()
        call_command("apply_retention", stdout=out)
    assert "0 debtors erased." in out.getvalue()
    assert Erasure.objects.count() == 1


def test_legal_hold_open_loans_and_recent_activity_keep_the_data(settings):
    held = _idle_debtor(ref="HOLD", legal_hold=True, legal_hold_reason="litigation 2026-17")
    collecting = _idle_debtor(ref="OPEN", loan_status=Loan.Status.DELINQUENT)
    recent = _idle_debtor(ref="RECENT")
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        note_add(actor=_author(), debtor=recent, body="called back")
    done = _idle_debtor(ref="DONE")
    with time_machine.travel(NOW, tick=False):
        assert list(debtors_past_retention()) == [done]
        # Not yet three years: nothing.
        settings.RETENTION_YEARS = 5
        assert list(debtors_past_retention()) == []
    for kept in (held, collecting, recent):
        kept.refresh_from_db()
        assert kept.full_name == NAME


def test_an_erasure_request_is_refused_under_legal_hold_and_while_collecting():
    held = _idle_debtor(ref="HOLD", legal_hold=True, legal_hold_reason="litigation 2026-17")
    with pytest.raises(ErasureRefused, match="litigation 2026-17"):
        debtor_erase(debtor=held, actor="tests", reason=Erasure.Reason.REQUEST)
    with pytest.raises(CommandError, match="HOLD: not erased"):
        call_command("apply_retention", debtor="HOLD")
    collecting = _idle_debtor(ref="OPEN", loan_status=Loan.Status.DELINQUENT)
    with pytest.raises(ErasureRefused, match="still being collected"):
        debtor_erase(debtor=collecting, actor="tests", reason=Erasure.Reason.REQUEST)
    with pytest.raises(CommandError, match="No debtor"):
        call_command("apply_retention", debtor="NOBODY")
    assert Erasure.objects.count() == 0
    held.refresh_from_db()
    assert held.full_name == NAME


def test_an_admin_erases_one_debtor_on_request_after_confirming(client, admin_user, supervisor):
    debtor = _idle_debtor()
    url = "/admin/debtors/debtor/"
    form = {"action": "erase_personal_data", "_selected_action": [debtor.pk]}

    supervisor.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    client.force_login(supervisor)
    client.post(url, form)
    debtor.refresh_from_db()
    assert debtor.erased_at is None, "only admins hold debtors.erase_debtor"

    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client.force_login(admin_user)
    confirm = client.post(url, form)
    assert confirm.status_code == 200
    assert b'name="confirmed" value="yes"' in confirm.content
    debtor.refresh_from_db()
    assert debtor.erased_at is None, "nothing happens before the confirmation"

    done = client.post(url, {**form, "confirmed": "yes"}, follow=True)
    assert done.status_code == 200
    debtor.refresh_from_db()
    assert debtor.full_name == ERASED_NAME
    erasure = Erasure.objects.get(debtor=debtor)
    assert (erasure.reason, erasure.actor_label) == ("request", admin_user.username)
    assert _where_found(NAME, PHONE, EMAIL) == []


def test_append_only_history_allows_erasing_a_personal_column_and_nothing_else():
    debtor = _idle_debtor()

    def update(sql: str) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [debtor.pk])

    for rewrite in (
        "UPDATE debtors_historicaldebtor SET full_name = 'Someone Else' WHERE id = %s",
        "UPDATE debtors_historicaldebtor SET date_of_birth = '1990-01-01' WHERE id = %s",
        "UPDATE debtors_historicaldebtor SET full_name = '', country = 'US' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            update(rewrite)
    update("UPDATE debtors_historicaldebtor SET full_name = '', date_of_birth = NULL WHERE id = %s")
    assert set(Debtor.history.filter(id=debtor.pk).values_list("full_name", flat=True)) == {""}


def test_the_retention_cutoff_is_years_before_now(settings):
    settings.RETENTION_YEARS = 3
    assert retention_cutoff(NOW) == NOW.replace(year=2023)
    assert retention_cutoff(dt.datetime(2028, 2, 29, tzinfo=dt.UTC)) == dt.datetime(
        2025, 2, 28, tzinfo=dt.UTC
    )
