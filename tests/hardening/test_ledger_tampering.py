"""An insider with the tables' owner rights rewrites the decision ledger: a refused decision
made allowed and the chain hashed again, the newest decisions deleted, an anchor edited.
``verify_ledger`` catches each, against the anchors kept outside the database."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from compliance import gate, ledger
from compliance.models import ContactDecision
from tests.compliance.conftest import NY, local
from tests.factories import make_contact_point, make_debtor

pytestmark = pytest.mark.django_db


def _decisions(debtor, n):
    for i in range(n):
        with contextlib.suppress(gate.ContactBlocked):
            gate.request(
                debtor=debtor, channel="call", actor="tests", now=local(NY, 2026, 3, 2, 20, i)
            )


def _as_owner(*statements):
    """What the tables' owner can do: switch the append-only trigger off, write, switch it on."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE compliance_contactdecision DISABLE TRIGGER USER")
        for statement, params in statements:
            cursor.execute(statement, params)
        cursor.execute("ALTER TABLE compliance_contactdecision ENABLE TRIGGER USER")


def _rehash_everything():
    """Recompute the whole chain from the rows as they now are (the rewrite's last step)."""
    prev = ledger.GENESIS
    statements = []
    for row in ContactDecision.objects.order_by("seal_seq").values(
        *ledger.HASHED_FIELDS, "seal_seq"
    ):
        digest = ledger.row_digest(row, prev_hash=prev, seal_seq=row["seal_seq"])
        statements.append(
            (
                "UPDATE compliance_contactdecision SET prev_hash = %s, row_hash = %s WHERE id = %s",
                [prev, digest, row["id"]],
            )
        )
        prev = digest
    _as_owner(*statements)


@pytest.fixture
def sealed(db):
    us_debtor = make_debtor(country="US", timezone="America/New_York", national_id="")
    make_contact_point(us_debtor, value="+12125550123")
    _decisions(us_debtor, 12)
    assert ledger.seal(batch_size=5) == 12  # three anchors: positions 5, 10, 12
    assert ledger.verify().ok
    return us_debtor


def test_a_refused_decision_made_allowed_and_rehashed_is_caught(sealed):
    refused = ContactDecision.objects.filter(allowed=False).order_by("seal_seq").first()
    _as_owner(
        (
            "UPDATE compliance_contactdecision SET allowed = true, reasons = '[]' WHERE id = %s",
            [refused.pk],
        )
    )
    _rehash_everything()
    result = ledger.verify()
    assert not result.ok and "rewritten" in result.problem
    with pytest.raises(CommandError, match="rewritten"):
        call_command("verify_ledger")


def test_the_newest_decisions_deleted_are_caught(sealed):
    newest = list(ContactDecision.objects.order_by("-seal_seq").values_list("id", flat=True)[:5])
    _as_owner(("DELETE FROM compliance_contactdecision WHERE id = ANY(%s)", [newest]))
    result = ledger.verify()
    assert not result.ok and "missing" in result.problem
    with pytest.raises(CommandError, match="missing"):
        call_command("verify_ledger")


def test_an_edited_or_forged_anchor_is_caught(sealed):
    path = Path(settings.LEDGER_ANCHOR_PATH)
    lines = path.read_text().splitlines()
    anchor = json.loads(lines[-1])
    anchor["seq"] = 3  # claims the chain ended earlier: a cut tail would pass
    lines[-1] = json.dumps(anchor)
    path.write_text("\n".join(lines) + "\n")
    result = ledger.verify()
    assert not result.ok and "not authentic" in result.problem


def test_an_untouched_ledger_verifies(sealed):
    _decisions(sealed, 3)  # unsealed rows are not a problem
    call_command("verify_ledger")
    assert len(Path(settings.LEDGER_ANCHOR_PATH).read_text().splitlines()) == 3
