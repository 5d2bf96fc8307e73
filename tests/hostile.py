"""Input at the edges: dates Python can barely hold, offsets PostgreSQL refuses, amounts that are
not numbers, strings that databases, spreadsheets and terminals treat specially.

The API answers each with a 400 naming the field, or takes it; never with a server error. The
schema test (``tests/api/test_schema.py``) mixes these into what it generates, the write
endpoints' property test (``tests/hardening/test_write_endpoints_properties.py``) puts them in
every field of every request body.
"""

from __future__ import annotations

from itertools import chain, zip_longest

# Each list starts with the value most likely to break something: a generator that draws only a
# few of them draws those.
DATES = [
    "9999-12-31",
    "0001-01-01",
    "9999-01-01",
    "1969-12-31",
    "2200-01-01",
    "2024-02-29",
    "2026-02-29",  # no such day
]

# Python holds offsets up to ±23:59; PostgreSQL refuses anything beyond ±15:59.
INSTANTS = [
    "2026-01-01T00:00:00+19:12",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-03-02T10:00:00+23:59",
    "2026-03-02T10:00:00-23:59",
    "2026-03-02T10:00:00+14:01",
    "2026-03-02T10:00:00",  # no offset
]

AMOUNTS = [
    "NaN",
    "99999999999999999999999999",
    "-1",
    "1E+400",
    "0",
    "0.001",
    "1.23456789",
    "999999999999999.9999",
    "-0.01",
    "1e308",
    "1e-400",
    "-Infinity",
    "sNaN",
    "0x10",
    "1_000",
]

NUL_STRINGS = ["\x00", "a\x00b", "\x00" * 3]
LONG_STRINGS = ["x" * 10_000, "é" * 100_000]
ODD_STRINGS = [
    "\u202etxt.exe",  # right-to-left override
    "مرحبا بالعالم",
    "😀" * 50,
    '=HYPERLINK("http://example.com")',
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    " ",
    "\r\n",
    "'; SELECT 1; --",
]
STRINGS = [*NUL_STRINGS, *LONG_STRINGS, *ODD_STRINGS]
# Half a surrogate pair: no UTF-8 holds it, so only JSON can carry it (as ``"\ud800"``).
LONE_SURROGATES = ["\ud800", "a\udfffb"]

INTEGERS = [2**63, -1, 0, 2**31, -(2**63), 10**30]
# JSON's own edges: the literals Python writes for floats JSON has not, and wrong types.
JSON_VALUES = [float("nan"), float("inf"), 1e308, -0.0, True, None, [], {}, [None], {"": None}]


def interleaved(per_kind: int | None = None) -> list[str | int]:
    """The values, the first of each kind first: ``9999-12-31``, ``2026-01-01T00:00:00+19:12``,
    ``NaN``, NUL, ``2**63``, then the second of each, and so on (``per_kind`` of each)."""
    kinds = (DATES, INSTANTS, AMOUNTS, STRINGS, INTEGERS)
    groups = zip_longest(*(values[:per_kind] for values in kinds))
    return [value for value in chain.from_iterable(groups) if value is not None]
