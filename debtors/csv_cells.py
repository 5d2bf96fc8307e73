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


class CsvWriter:
    """``csv.writer`` over ``file`` (same ``fmtparams``) whose rows are neutralised cell by
    cell; ``writerow`` returns what the file's ``write`` returned."""

    def __init__(self, file, **fmtparams):
        self._writer = csv.writer(file, **fmtparams)

    def writerow(self, row) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])
