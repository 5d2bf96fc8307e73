"""CSV cells a spreadsheet will not run: text that begins like a formula gets a ``'``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy

from debtors.csv_cells import FORMULA_STARTS, CsvWriter, neutralise, restore_sql

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"], ids=repr)
def test_text_that_begins_like_a_formula_gets_a_quote(start):
    assert start in FORMULA_STARTS
    assert neutralise(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert neutralise(start) == f"'{start}"


def test_text_of_any_kind_is_checked():
    assert neutralise(gettext_lazy("=x")) == "'=x"


@pytest.mark.parametrize(
    "value", ["", "Wang Fang", "O'Brien", "3=3", "a-b", "x@example.com", " =1", "'=1", "王芳"]
)
def test_other_text_is_unchanged(value):
    assert neutralise(value) == value


@pytest.mark.parametrize(
    "value", [None, 0, -7, True, Decimal("-12.50"), Decimal("1500"), -0.25, float("-inf")]
)
def test_numbers_are_kept_as_numbers_whatever_their_sign(value):
    assert neutralise(value) is value


def test_dates_and_instants_are_their_iso_text():
    assert neutralise(dt.date(2026, 2, 3)) == "2026-02-03"
    assert neutralise(dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC)) == "2026-02-03 09:00:00+00:00"


def test_the_writer_neutralises_every_cell_of_a_row():
    out = io.StringIO()
    written = CsvWriter(out).writerow(
        ["=1+1", "plain", Decimal("-12.50"), -3, None, "\rx", '@SUM(A1,"b")']
    )
    assert written == len(out.getvalue())
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [
        ["'=1+1", "plain", "-12.50", "-3", "", "'\rx", '\'@SUM(A1,"b")']
    ]


def test_every_csv_writer_of_the_product_is_this_one():
    """Only the import's COPY stream (bytes for PostgreSQL, not a spreadsheet) writes CSV
    without neutralising it; everything else uses ``CsvWriter``."""
    pattern = re.compile(r"\bcsv\.(writer|DictWriter)\b")
    found = sorted(
        path.relative_to(ROOT).as_posix()
        for top in ROOT.iterdir()
        if top.is_dir() and not top.name.startswith(".") and top.name not in {"tests", "bench"}
        for path in top.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    )
    assert found == ["debtors/csv_cells.py", "imports/formats.py"]


# --- The way back: restore_sql, as the import reads cells -------------------------------------


def _restored(value: str | None) -> str | None:
    with connection.cursor() as cursor:
        # The expression is the product's own SQL; the cell is a parameter.
        statement = f"SELECT {restore_sql('cell')} FROM (SELECT %s::text AS cell) AS t"  # noqa: S608
        cursor.execute(statement, [value])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["-5.00", "+8613800138000", "=Smith", "@SUM(A1)", "\tx", "\rx", "-", "Wang Fang", "O'Brien"],
    ids=repr,
)
def test_a_neutralised_cell_is_restored_to_the_value(value):
    assert _restored(neutralise(value)) == value


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cell", "value"),
    [("'", "'"), ("'abc", "'abc"), ("''-5", "''-5"), (" '-5", " '-5"), ("", ""), (None, None)],
    ids=repr,
)
def test_other_cells_are_read_as_they_are(cell, value):
    assert _restored(cell) == value
