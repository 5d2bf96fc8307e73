"""Server-side prepared statements for the gate's hot path on PostgreSQL.

The gate runs the same three statements for every decision; planning them costs the server
several times more than running them. Each is prepared once per database session
(``PREPARE``) and then executed by name. A new connection prepares again. ``call`` gives the
``EXECUTE`` text and its parameters, so that several statements can travel to the server in
one message (one round trip).

Turn it off with ``COMPLIANCE_PREPARED_STATEMENTS = False`` when connections go through a
pooler in transaction mode (PgBouncer), where a session-level prepared statement may be on
another server connection than the one the next transaction gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
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
