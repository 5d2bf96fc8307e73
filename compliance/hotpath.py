"""The gate's hot path: its own transaction control and its prepared statements, kept here and
nowhere else.

Why it exists: the ``gate`` benchmark's targets (over 1,000 decisions a second, p99 under
10 ms, on two cores) are not met through ``transaction.atomic`` and the ORM. A decision there
costs a BEGIN, a lock, several reads, three inserts and a COMMIT, each a round trip, and every
statement planned again. Through this module a batch of requests (``gate.request_many``) costs
two round trips when it owns its transaction:

1. ``BEGIN``, the lock of the debtors and the read of everything the gate judges, sent as one
   message (``begin``);
2. the write of the decisions, attempts and permits and the ``COMMIT`` (``with_commit``): a
   synchronous commit, so no permit is handed out before it is durable.

If anything fails in between, ``rollback`` ends the transaction (and drops a broken session).
Inside a caller's transaction none of this is used: the same statements run in a savepoint.

The statements are prepared once per database session (``PREPARE``) and then executed by
name; planning them costs the server several times more than running them. ``statement``
builds each one once per process; a new connection prepares again. Turn preparing off with
``COMPLIANCE_PREPARED_STATEMENTS = False`` when connections go through a pooler in transaction
mode (PgBouncer), where a session's prepared statement may not be on the next transaction's
server connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

_NAMED = re.compile(r"%\((\w+)\)s")
# (id of the DB-API connection, server process id, statement name) already prepared.
_PREPARED: set[tuple[int, int, str]] = set()


@receiver(connection_created)
def _forget_reused_keys(sender, connection, **kwargs) -> None:
    """A new session has nothing prepared, even if it reuses an old one's object id or pid."""
    if not _PREPARED:
        return
    raw = connection.connection
    pid = raw.get_backend_pid()
    _PREPARED.difference_update({k for k in _PREPARED if k[0] == id(raw) or k[1] == pid})


def enabled() -> bool:
    return getattr(settings, "COMPLIANCE_PREPARED_STATEMENTS", True)


@dataclass
class Statement:
    """An SQL statement with ``%(name)s`` parameters and the PostgreSQL type of each."""

    name: str
    sql: str
    types: dict[str, str]
    _order: list[str] = field(default_factory=list, init=False)
    _prepare: str = field(default="", init=False)
    _execute: str = field(default="", init=False)
    _plain: str = field(default="", init=False)
    _occurrences: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        order: list[str] = []

        def positional(match: re.Match) -> str:
            param = match.group(1)
            if param not in order:
                order.append(param)
            return f"${order.index(param) + 1}"

        body = _NAMED.sub(positional, self.sql)
        missing = [p for p in order if p not in self.types]
        if missing:
            raise ValueError(f"{self.name}: no type for {', '.join(missing)}")
        signature = ", ".join(self.types[p] for p in order)
        self._order = order
        self._prepare = f"PREPARE {self.name} ({signature}) AS {body}"
        # Each parameter cast to its type: a list of NULLs has none of its own.
        casts = ", ".join(f"%s::{self.types[p]}" for p in order)
        self._execute = f"EXECUTE {self.name} ({casts})"
        self._occurrences = _NAMED.findall(self.sql)
        self._plain = _NAMED.sub("%s", self.sql)

    def _prepared(self, cursor) -> bool:
        """Prepare the statement on the cursor's session if needed; False when turned off."""
        if not enabled():
            return False
        raw = cursor.connection
        key = (id(raw), raw.get_backend_pid(), self.name)
        if key not in _PREPARED:
            cursor.execute(self._prepare)
            _PREPARED.add(key)
        return True

    def call(self, cursor, values: dict) -> tuple[str, list]:
        """The SQL that runs the statement and its positional (``%s``) parameters.

        Prepares the statement first when needed, so the text can be sent together with
        others in one message."""
        if self._prepared(cursor):
            return self._execute, [values[p] for p in self._order]
        return self._plain, [values[p] for p in self._occurrences]

    def execute(self, cursor, values: dict) -> None:
        """Execute with ``cursor`` (a cursor of the default connection)."""
        sql, params = self.call(cursor, values)
        cursor.execute(sql, params)


# --- Statements, built once per process -----------------------------------------------------

_STATEMENTS: dict[str, Statement] = {}
_SEQUENCES: dict[str, str] = {}


def statement(name: str, build: Callable[[], Statement]) -> Statement:
    """The statement ``name``, built by ``build`` the first time it is asked for."""
    found = _STATEMENTS.get(name)
    if found is None:
        found = _STATEMENTS[name] = build()
        if found.name != name:
            raise ValueError(f"{name}: built as {found.name}")
    return found


def sequence(cursor, model) -> str:
    """The name of the sequence behind ``model``'s id (looked up once per process)."""
    table = model._meta.db_table
    if table not in _SEQUENCES:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        _SEQUENCES[table] = cursor.fetchone()[0]
    return _SEQUENCES[table]


# --- The batch's own transaction ---------------------------------------------------------------


def begin(statements: list[str]) -> str:
    """One message that opens the transaction and runs ``statements`` in it."""
    return ";\n".join(["BEGIN", *statements])


def with_commit(sql: str) -> str:
    """``sql`` followed by the transaction's COMMIT, in the same message."""
    return f"{sql};\nCOMMIT"


def rollback(cursor) -> None:
    """End the batch's transaction without keeping anything (the locks go with it)."""
    try:
        cursor.execute("ROLLBACK")
    except DatabaseError:
        connection.close()  # the session is gone, and its transaction with it
