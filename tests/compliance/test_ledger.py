"""The decision ledger: append-only in the database, hash-chained by the sealer, verifiable."""

from __future__ import annotations

import contextlib

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from compliance import gate, ledger
from compliance.models import ContactDecision
from compliance.tasks import seal_ledger

from .conftest import NY, local


def _decisions(debtor, n):
    for i in range(n):
        with contextlib.suppress(gate.ContactBlocked):
            gate.request(
                debtor=debtor,
                channel="call",
                actor="tests",
                now=local(NY, 2026, 3, 2, 20 + i % 3, i),
            )


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_update_and_delete_are_refused(us_debtor):
    _decisions(us_debtor, 1)
    row = ContactDecision.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ContactDecision.objects.filter(pk=row.pk).update(allowed=not row.allowed)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql("DELETE FROM compliance_contactdecision WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        # Even while sealing, no other column may change.
        ContactDecision.objects.filter(pk=row.pk).update(
            seal_seq=1, prev_hash="0" * 64, row_hash="f" * 64, reasons=["x"]
        )


def test_the_sealer_fills_the_chain_once(us_debtor):
    _decisions(us_debtor, 5)
    assert ledger.seal(batch_size=2) == 5
    rows = list(ContactDecision.objects.order_by("seal_seq"))
    assert [r.seal_seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == ledger.GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    # Twice changes nothing.
    assert ledger.seal() == 0
    # A sealed row's hash can't be set again.
    with pytest.raises(DatabaseError, match="sealed"), transaction.atomic():
        ContactDecision.objects.filter(pk=rows[0].pk).update(row_hash="f" * 64)
    _decisions(us_debtor, 2)
    assert seal_ledger.apply().get() == 2
    assert ledger.verify().ok


def test_verify_ledger_command_on_an_intact_chain(us_debtor, capsys):
    _decisions(us_debtor, 4)
    ledger.seal()
    _decisions(us_debtor, 1)
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "4 sealed decisions verified" in out and "1 waiting" in out


def _tamper(statement, params):
    """Change the ledger behind the trigger's back, as someone with the owner's rights could."""
    # Replica mode skips ordinary triggers for this session only (superuser in tests).
    _sql("SET session_replication_role = replica")
    try:
        _sql(statement, params)
    finally:
        _sql("SET session_replication_role = origin")


def test_a_tampered_row_is_named(us_debtor):
    _decisions(us_debtor, 6)
    ledger.seal()
    victim = ContactDecision.objects.order_by("seal_seq")[3]
    _tamper(
        "UPDATE compliance_contactdecision SET allowed = NOT allowed WHERE id = %s", [victim.pk]
    )
    result = ledger.verify()
    assert not result.ok and result.broken_id == victim.pk and result.checked == 3
    with pytest.raises(CommandError, match=f"decision {victim.pk}"):
        call_command("verify_ledger")


def test_a_rehashed_row_breaks_the_next_link(us_debtor):
    _decisions(us_debtor, 4)
    ledger.seal()
    rows = list(ContactDecision.objects.order_by("seal_seq"))
    victim = rows[1]
    forged = dict(ContactDecision.objects.filter(pk=victim.pk).values(*ledger.HASHED_FIELDS).get())
    forged["reasons"] = ["forged"]
    forged_hash = ledger.row_digest(forged, prev_hash=victim.prev_hash, seal_seq=victim.seal_seq)
    _tamper(
        "UPDATE compliance_contactdecision SET reasons = %s::jsonb, row_hash = %s WHERE id = %s",
        ['["forged"]', forged_hash, victim.pk],
    )
    result = ledger.verify()
    assert not result.ok and result.broken_id == rows[2].pk


def test_a_deleted_row_is_found(us_debtor):
    _decisions(us_debtor, 4)
    ledger.seal()
    rows = list(ContactDecision.objects.order_by("seal_seq"))
    _tamper("DELETE FROM compliance_contactdecision WHERE id = %s", [rows[1].pk])
    result = ledger.verify()
    assert not result.ok and result.broken_id == rows[2].pk
    assert "missing" in result.problem


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sealers_at_once_make_one_chain():
    import threading

    from django.db import connection as default_connection

    from tests.factories import make_contact_point, make_debtor

    debtor = make_debtor(country="US", timezone="America/New_York")
    make_contact_point(debtor, value="+12125550123")
    _decisions(debtor, 30)
    results = []

    def sealer():
        try:
            results.append(ledger.seal(batch_size=3))
        finally:
            default_connection.close()

    threads = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) + ledger.seal() == 30
    verified = ledger.verify()
    assert verified.ok and verified.checked == 30 and verified.unsealed == 0


def test_seal_many_writes_what_bulk_update_writes(us_debtor):
    """SEAL_MANY and ``bulk_update`` change the same rows the same way: the chain columns are
    what was asked, every other column is untouched. Two batches of decisions, one sealed
    each way."""
    _decisions(us_debtor, 6)
    rows = list(ContactDecision.objects.order_by("id"))
    chain_columns = ("seal_seq", "prev_hash", "row_hash")

    def other_columns(row):
        return {
            f.attname: getattr(row, f.attname)
            for f in ContactDecision._meta.concrete_fields
            if f.attname not in chain_columns
        }

    before = {row.pk: other_columns(row) for row in rows}
    wanted = {row.pk: (n, f"prev-{n}", f"hash-{n}") for n, row in enumerate(rows, start=1)}
    by_statement, by_orm = rows[:3], rows[3:]
    ledger._write_seals([(row.pk, *wanted[row.pk]) for row in by_statement])
    ContactDecision.objects.bulk_update(
        [
            ContactDecision(pk=row.pk, **dict(zip(chain_columns, wanted[row.pk], strict=True)))
            for row in by_orm
        ],
        list(chain_columns),
    )
    after = {row.pk: row for row in ContactDecision.objects.filter(pk__in=before)}
    for batch in (by_statement, by_orm):
        for row in batch:
            fresh = after[row.pk]
            assert tuple(getattr(fresh, c) for c in chain_columns) == wanted[row.pk]
            assert other_columns(fresh) == before[row.pk]
    assert len(after) == 6 and row.row_hash is None  # they started unsealed
