"""CSV files the product writes, safe to open in a spreadsheet (formula injection, OWASP).

A spreadsheet reads a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula, and one
that begins with a tab or a carriage return may become one once the spreadsheet drops that
character: a debtor named ``=cmd|' /C calc'!A0`` or a payment reference of
``=HYPERLINK("http://evil","x")`` would run on the supervisor's machine. Every CSV the product
hands to a person (exports, dashboards, the import's rejected rows) is written by
``CsvWriter``, which passes each cell through ``neutralise``.

The contract, decided by the kind of a column and never guessed from a value:

* text (``str``, and anything else written as its ``str``: lazy translations, dates and
  instants) that begins with one of ``FORMULA_STARTS`` gets a single quote ``'`` in front, so
  the spreadsheet shows it as text; other text is written unchanged;
* numbers (``int``, ``Decimal``, ``float``; ``bool`` is an ``int``) and ``None`` are written as
  the ``csv`` module writes them, unchanged: a negative amount stays ``-12.50``, a number the
  spreadsheet can add up. A column of figures is therefore handed over as numbers, never as
  text formatted beforehand (``workspace.exports`` passes money as ``Decimal``).

The product's own figures are such numbers: in the case list the days past due, the broken
promises, the total outstanding and the priority (no constraint keeps these last two from being
negative); in the payments the amount, the part allocated and the part kept as credit (never
negative under the ledger's constraints, numbers all the same); the counts, amounts and rates
of the dashboards and the wallboard; the line numbers of the rejected rows. Dates and instants
written in ISO 8601 begin with a digit, so they are never changed.

It lives in ``debtors``, the one app every other app may import (``tests/test_architecture.py``).

The import's COPY stream (``imports.formats``) is not such a file: it feeds PostgreSQL, not a
spreadsheet, and must keep the values as they were (a phone number begins with ``+``).

The way back: a rejected-rows file is fixed and imported again, so the import reads every cell
it stages through ``restore_sql``, which takes off the one ``'`` that ``neutralise`` put in
front. A cell that begins with ``'`` followed by one of ``FORMULA_STARTS`` loses that ``'``
(``'-5.00`` is ``-5.00``, ``'+8613800138000`` is ``+8613800138000``); any other cell is read
as it is (a lone ``'``, ``'abc``, ``''-5``). A value that itself began with ``'`` and a formula
character (``'=1``, which ``neutralise`` leaves unchanged) therefore comes back without its
``'``.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not run (see the module's contract)."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _sql_character(character: str) -> str:
    return f"'{character}'" if character.isprintable() else f"chr({ord(character)})"


def restore_sql(expression: str) -> str:
    """A PostgreSQL expression: the text ``expression`` as it was before ``neutralise``.

    A ``'`` followed by one of ``FORMULA_STARTS`` is taken off; anything else, NULL included,
    is unchanged. ``expression`` is SQL from code (a column's name), never a value."""
    starts = ", ".join(_sql_character(character) for character in FORMULA_STARTS)
    return (
        f"(CASE WHEN left({expression}, 1) = '''' AND substr({expression}, 2, 1) IN ({starts}) "
        f"THEN substr({expression}, 2) ELSE {expression} END)"
    )


class CsvWriter:
    """``csv.writer`` over ``file`` (same ``fmtparams``) whose rows are neutralised cell by
    cell; ``writerow`` returns what the file's ``write`` returned."""

    def __init__(self, file, **fmtparams):
        self._writer = csv.writer(file, **fmtparams)

    def writerow(self, row) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])
