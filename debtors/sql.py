"""Helpers of the few hand-written SQL statements (each one sits beside its domain, named,
with the benchmark target it meets).

* ``literal`` and ``literals``: a model's choice values written into a statement's text, so a
  status is spelled once, in the model's choices (``Loan.CLOSED_STATUSES``, not a copy of
  ``('paid', 'charged_off')``);
* ``instance_from_json``: a model instance from a row read as JSON (``row_to_json``), as if
  the ORM had read it: the statements that read several tables in one round trip
  (``debtors.selectors``, the case timeline) return each row as JSON beside its part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection


def instance_from_json(model, text: str):
    """An instance of ``model`` from ``row_to_json`` of one of its table's rows."""
    data = json.loads(text, parse_float=Decimal)
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias,
        [f.attname for f in fields],
        [_read(f, data[f.column]) for f in fields],
    )


def _read(field, raw):
    """A column's JSON value as the ORM would read it: a field that converts what the
    database holds (an encrypted one decrypts) does so here too."""
    value = field.to_python(raw)
    convert = getattr(field, "from_db_value", None)
    return convert(value, None, connection) if convert is not None else value


_CHOICE = re.compile(r"[a-z][a-z0-9_]*")


def literal(value: str) -> str:
    """A choice value as an SQL string literal (only plain codes: never user input)."""
    if not _CHOICE.fullmatch(str(value)):
        raise ValueError(f"not a choice value: {value!r}")
    return f"'{value}'"


def literals(values: Iterable[str]) -> str:
    """Choice values as an SQL list, for ``IN``: ``('paid', 'charged_off')``."""
    return "(" + ", ".join(literal(v) for v in values) + ")"
