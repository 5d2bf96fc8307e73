"""The hash chain over the decision ledger.

The gate only inserts decision rows. A periodic sealer (``tasks.seal_ledger``) takes the rows
not yet sealed, in id order, and gives each one its place in the chain (``seal_seq``), the hash
of the row before it (``prev_hash``) and its own hash (``row_hash``)::

    row_hash = sha256(prev_hash + "\\n" + canonical JSON of the row's recorded fields + seal_seq)

The database lets the sealer fill those three columns once and refuses every other UPDATE or
DELETE (migration 0002). Only one sealer runs at a time (a transaction-level advisory lock), so
the chain never forks. ``verify`` walks the chain in order and names the first row whose hash
or link does not match, or whose position is missing.

A chain kept only in the database can be rewritten by whoever owns its tables: change a row,
hash the chain again, or cut its tail. So each seal also writes an anchor outside the database:
the head's position and hash, with an HMAC under ``LEDGER_ANCHOR_KEY`` (a secret the database
does not hold), appended to ``LEDGER_ANCHOR_PATH`` (or the store ``LEDGER_ANCHOR_STORE``
names). ``verify`` checks every anchor's HMAC, that the chain holds each anchored position with
the anchored hash (a re-hashed chain does not), and that it reaches the last anchored position
(a cut tail does not).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ContactDecision

GENESIS = "0" * 64
SEAL_LOCK_KEY = 0x636F6D706C  # any constant shared by all sealers
HASHED_FIELDS = (
    "id",
    "decided_at",
    "actor_label",
    "actor_user_id",
    "debtor_id",
    "channel",
    "loan_id",
    "contact_point_id",
    "allowed",
    "reasons",
    "next_allowed_at",
    "timezones",
    "policy_id",
    "policy_slug",
    "policy_version",
)


def _canonical(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def row_digest(row: dict, *, prev_hash: str, seal_seq: int) -> str:
    payload = {name: _canonical(row[name]) for name in HASHED_FIELDS}
    payload["seal_seq"] = seal_seq
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _lock_sealer() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def seal(*, batch_size: int = 5000, max_batches: int | None = None) -> int:
    """Chain the rows not yet sealed, in id order; return how many were sealed. Each batch,
    once committed, anchors the new head outside the database.

    Safe to run twice at once or twice in a row: a second sealer finds the lock taken and
    returns 0; a second run finds nothing left to seal.
    """
    sealed = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        head = _seal_batch(batch_size)
        if head is None:
            return sealed
        count, seq, row_hash = head
        # After the commit: an anchor never names a head that was rolled back.
        anchor_store().append(Anchor.make(seq=seq, row_hash=row_hash))
        sealed += count
        batches += 1
    return sealed


def _seal_batch(batch_size: int) -> tuple[int, int, str] | None:
    """Seal one batch in its own transaction: (rows sealed, head position, head hash), or None
    when another sealer holds the lock or nothing is left."""
    with transaction.atomic():
        if not _lock_sealer():
            return None
        last = (
            ContactDecision.objects.filter(seal_seq__isnull=False)
            .order_by("-seal_seq")
            .values("seal_seq", "row_hash")
            .first()
        )
        prev_hash = last["row_hash"] if last else GENESIS
        seq = last["seal_seq"] if last else 0
        rows = list(
            ContactDecision.objects.filter(row_hash__isnull=True)
            .order_by("id")
            .values(*HASHED_FIELDS)[:batch_size]
        )
        if not rows:
            return None
        updates = []
        for row in rows:
            seq += 1
            row_hash = row_digest(row, prev_hash=prev_hash, seal_seq=seq)
            updates.append((row["id"], seq, prev_hash, row_hash))
            prev_hash = row_hash
        _write_seals(updates)
    return len(rows), seq, prev_hash


def seal_many_sql() -> str:
    """SEAL_MANY: fill the chain columns of each ``(id, seal_seq, prev_hash, row_hash)``, the
    one update the ledger's trigger lets through, once per row.

    Hand-written for the ``gate`` benchmark: the sealer runs every minute and must chain the
    decisions faster than the gate writes them (over 1,000 a second). ``bulk_update``, one
    CASE per column over the whole batch, seals about 2,400 rows a second on the benchmark's
    machine; this statement, with the batch as array parameters, about ten times that. The
    tests compare it with ``bulk_update`` on the same rows (``tests/compliance/test_ledger.py``).
    """
    return f"""UPDATE {ContactDecision._meta.db_table} AS d
           SET seal_seq = v.seq, prev_hash = v.prev, row_hash = v.hash
          FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(id, seq, prev, hash)
         WHERE d.id = v.id"""  # noqa: S608 - the table's name comes from the model


def _write_seals(updates: list[tuple[int, int, str, str]]) -> None:
    ids, seqs, prevs, hashes = zip(*updates, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(seal_many_sql(), [list(ids), list(seqs), list(prevs), list(hashes)])


# --- Anchors outside the database -------------------------------------------------------------


def _anchor_mac(seq: int, row_hash: str, at: str) -> str:
    key = settings.LEDGER_ANCHOR_KEY.encode("utf-8")
    return hmac.new(key, f"{seq}:{row_hash}:{at}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one seal: its position, its hash, when, and the HMAC of the three."""

    seq: int
    row_hash: str
    at: str
    mac: str

    @classmethod
    def make(cls, *, seq: int, row_hash: str, at: dt.datetime | None = None) -> Anchor:
        when = (at or timezone.now()).isoformat()
        return cls(seq, row_hash, when, _anchor_mac(seq, row_hash, when))

    @property
    def authentic(self) -> bool:
        return hmac.compare_digest(self.mac, _anchor_mac(self.seq, self.row_hash, self.at))

    def line(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.row_hash, "at": self.at, "mac": self.mac},
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, line: str) -> Anchor | None:
        try:
            data = json.loads(line)
            return cls(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["mac"]))
        except (ValueError, KeyError, TypeError):
            return None


class FileAnchorStore:
    """Anchors appended to ``LEDGER_ANCHOR_PATH``, one JSON line each (a file the database's
    owner cannot reach: another disk, an append-only mount, a log shipper's input)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.LEDGER_ANCHOR_PATH)

    def append(self, anchor: Anchor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(anchor.line() + "\n")
            handle.flush()

    def read(self) -> list[Anchor | None]:
        """Every line as an anchor, or None for a line that is not one."""
        if not self.path.exists():
            return []
        return [Anchor.parse(line) for line in self.path.read_text("utf-8").splitlines() if line]


def anchor_store():
    """The store ``LEDGER_ANCHOR_STORE`` names (a class with ``append`` and ``read``)."""
    return import_string(settings.LEDGER_ANCHOR_STORE)()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    unsealed: int
    broken_id: int | None = None
    problem: str = ""


def verify(*, chunk_size: int = 5000, anchors: list[Anchor | None] | None = None) -> VerifyResult:
    """Recompute the chain in order, against the anchors; report the first broken row."""
    anchors = anchor_store().read() if anchors is None else anchors
    for number, anchor in enumerate(anchors, start=1):
        if anchor is None or not anchor.authentic:
            return VerifyResult(
                False, 0, 0, None, f"anchor {number} is not authentic (its HMAC does not match)"
            )
    anchored = {anchor.seq: anchor.row_hash for anchor in anchors if anchor.seq > 0}
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    rows = (
        ContactDecision.objects.filter(seal_seq__isnull=False)
        .order_by("seal_seq")
        .values(*HASHED_FIELDS, "seal_seq", "prev_hash", "row_hash")
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        if row["seal_seq"] != expected_seq:
            return VerifyResult(
                False,
                checked,
                0,
                row["id"],
                f"chain position {expected_seq} is missing (found {row['seal_seq']})",
            )
        if row["prev_hash"] != expected_prev:
            return VerifyResult(
                False, checked, 0, row["id"], "link to the previous row does not match"
            )
        if row_digest(row, prev_hash=row["prev_hash"], seal_seq=row["seal_seq"]) != row["row_hash"]:
            return VerifyResult(False, checked, 0, row["id"], "contents do not match the hash")
        if anchored.get(row["seal_seq"], row["row_hash"]) != row["row_hash"]:
            return VerifyResult(
                False,
                checked,
                0,
                row["id"],
                f"the chain was rewritten: position {row['seal_seq']} does not match its anchor",
            )
        expected_prev = row["row_hash"]
        expected_seq += 1
        checked += 1
    last_anchored = max(anchored, default=0)
    if last_anchored >= expected_seq:
        return VerifyResult(
            False,
            checked,
            0,
            None,
            f"rows are missing: the chain ends at position {expected_seq - 1}, but position "
            f"{last_anchored} was anchored",
        )
    unsealed = ContactDecision.objects.filter(row_hash__isnull=True).count()
    return VerifyResult(True, checked, unsealed)
