"""The documented file formats (``docs/import-format.md``) and the readers of CSV and XLSX.

A file has a header row naming its columns, in any order; columns this format does not know
are kept in the rejected-rows file but otherwise ignored. Readers turn either format into one
stream of CSV bytes (header removed) that PostgreSQL's ``COPY`` reads directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook

from debtors.models import ContactPoint, Language, Loan, Payment


class ImportKind(models.TextChoices):
    DEBTORS = "debtors", _("Debtors and contact points")
    LOANS = "loans", _("Loans")
    INSTALLMENTS = "installments", _("Installments")
    PAYMENTS = "payments", _("Payments")


# Column types; each has its checks in ``staging``.
TEXT, DATE, INSTANT, MONEY, INTEGER, CHOICE = "text", "date", "instant", "money", "int", "choice"
COUNTRY, TIMEZONE, CURRENCY, PHONE, EMAIL = "country", "timezone", "currency", "phone", "email"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    positive: bool = False  # money: zero is refused too


@dataclass(frozen=True)
class Format:
    kind: str
    columns: tuple[Column, ...]
    # The columns that identify a row (an upsert key); a repeat within one file is refused.
    key: tuple[str, ...]
    extra: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


FORMATS: dict[str, Format] = {
    ImportKind.DEBTORS: Format(
        ImportKind.DEBTORS,
        (
            Column("external_ref", required=True, max_length=64),
            Column("full_name", required=True, max_length=200),
            Column("country", COUNTRY, required=True),
            Column("region", max_length=16),
            Column("timezone", TIMEZONE),
            Column("preferred_language", CHOICE, choices=tuple(Language.values)),
            Column("national_id", max_length=64),
            Column("date_of_birth", DATE),
            Column("mobile", PHONE),
            Column("landline", PHONE),
            Column("email", EMAIL),
            Column("address", max_length=500),
        ),
        key=("external_ref",),
    ),
    ImportKind.LOANS: Format(
        ImportKind.LOANS,
        (
            Column("external_ref", required=True, max_length=64),
            Column("debtor_ref", required=True, max_length=64),
            Column("currency", CURRENCY, required=True),
            Column("principal", MONEY, required=True, positive=True),
            Column("principal_balance", MONEY),
            Column("interest_balance", MONEY),
            Column("fees_balance", MONEY),
            Column("opened_on", DATE),
            Column("product", max_length=64),
            Column("risk_band", CHOICE, choices=tuple(Loan.RiskBand.values)),
        ),
        key=("external_ref",),
    ),
    ImportKind.INSTALLMENTS: Format(
        ImportKind.INSTALLMENTS,
        (
            Column("loan_ref", required=True, max_length=64),
            Column("sequence", INTEGER, required=True),
            Column("due_date", DATE, required=True),
            Column("amount_due", MONEY, required=True, positive=True),
            Column("amount_paid", MONEY),
        ),
        key=("loan_ref", "sequence"),
    ),
    ImportKind.PAYMENTS: Format(
        ImportKind.PAYMENTS,
        (
            Column("external_ref", required=True, max_length=128),
            Column("loan_ref", required=True, max_length=64),
            Column("amount", MONEY, required=True, positive=True),
            Column("received_at", INSTANT, required=True),
            Column("method", CHOICE, required=True, choices=tuple(Payment.Method.values)),
            Column("source", max_length=64),
        ),
        key=("source", "external_ref"),
    ),
}

CONTACT_COLUMNS = {
    "mobile": ContactPoint.Kind.MOBILE,
    "landline": ContactPoint.Kind.LANDLINE,
    "email": ContactPoint.Kind.EMAIL,
    "address": ContactPoint.Kind.ADDRESS,
}
# Payments imported without a ``source`` column are recorded as coming from the import.
DEFAULT_PAYMENT_SOURCE = "import"


class FileFormatError(Exception):
    """The file cannot be read at all (not the rows: the file). Its message is translated."""

    def __init__(self, message, *, line: int = 1):
        super().__init__(str(message))
        self.message = message
        self.line = line


_HEADER_NAME = re.compile(r"[^a-z0-9_]+")


def header_name(raw: str) -> str:
    """``"Debtor Ref"`` -> ``debtor_ref``: headers are matched case- and space-insensitively."""
    return _HEADER_NAME.sub("_", (raw or "").strip().lower()).strip("_")


@dataclass
class Source:
    """A file opened for staging: its header, and a binary stream of CSV rows without it."""

    header: list[str]
    stream: io.RawIOBase
    delimiter: str
    size: int  # bytes (CSV) or rows (XLSX): the unit of progress
    position: Callable[[], int]


def open_source(fileobj, name: str) -> Source:
    """Open a CSV or XLSX file (chosen by its name, then by its first bytes)."""
    start = fileobj.read(4)
    fileobj.seek(0)
    if name.lower().endswith(".xlsx") or start.startswith(b"PK\x03\x04"):
        return _open_xlsx(fileobj)
    return _open_csv(fileobj)


def _open_csv(fileobj) -> Source:
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    first = fileobj.readline()
    if first.startswith(b"\xef\xbb\xbf"):  # the byte-order mark spreadsheets write
        first = first[3:]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(_("The file is not UTF-8 text (save it as CSV UTF-8).")) from exc
    if not text.strip():
        raise FileFormatError(_("The file is empty: the first line must name the columns."))
    delimiter = ";" if text.count(";") > text.count(",") else ","
    header = next(csv.reader([text], delimiter=delimiter))
    counted = _CountingReader(fileobj)
    return Source(header, counted, delimiter, size, counted.tell)


class _CountingReader(io.RawIOBase):
    def __init__(self, fileobj):
        self._file = fileobj

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._file.readline(size)

    def tell(self) -> int:
        return self._file.tell()


def _cell_text(value) -> str:
    """An XLSX cell as the text the CSV format would hold."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time.min and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # A spreadsheet number: its shortest decimal spelling, never binary noise
        # (100.1 stays "100.1"); whole numbers lose the ".0".
        text = repr(value)
        return str(Decimal(text).normalize()) if "e" in text.lower() else text.removesuffix(".0")
    return str(value).strip()


class _XlsxCsvStream(io.RawIOBase):
    """The rows of a worksheet after its header, as CSV bytes, produced as COPY reads them."""

    def __init__(self, rows: Iterator[tuple], width: int):
        self._rows = rows
        self._width = width
        self._buffer = b""
        self._empty_pending = 0
        self.rows_read = 0

    def readable(self) -> bool:
        return True

    def _fill(self, wanted: int) -> None:
        out = io.StringIO()
        # Plain csv.writer, not debtors.csv_cells: these bytes feed COPY, not a spreadsheet,
        # and must keep the cells as they were (a phone number begins with "+"). The rejected
        # rows go back to a person through rejected_rows_csv, which neutralises them.
        writer = csv.writer(out, lineterminator="\n")
        while out.tell() < wanted:
            row = next(self._rows, None)
            if row is None:
                break
            cells = [_cell_text(value) for value in row[: self._width]]
            cells += [""] * (self._width - len(cells))
            self.rows_read += 1
            if not any(cells):
                # Spreadsheets keep formatted but empty rows at the end: those are dropped;
                # an empty row between rows is kept, so line numbers stay the sheet's own.
                self._empty_pending += 1
                continue
            for _empty in range(self._empty_pending):
                writer.writerow([""] * self._width)
            self._empty_pending = 0
            writer.writerow(cells)
        self._buffer += out.getvalue().encode("utf-8")

    def read(self, size: int = -1) -> bytes:
        wanted = size if size and size > 0 else 1 << 20
        if len(self._buffer) < wanted:
            self._fill(wanted)
        chunk, self._buffer = self._buffer[:wanted], self._buffer[wanted:]
        return chunk


def _open_xlsx(fileobj) -> Source:
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same user error
        raise FileFormatError(_("The file is not a readable XLSX workbook.")) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if not first or not any(first):
        raise FileFormatError(_("The file is empty: the first line must name the columns."))
    header = [_cell_text(value) for value in first]
    while header and not header[-1]:
        header.pop()
    stream = _XlsxCsvStream(rows, len(header))
    return Source(header, stream, ",", max(1, (sheet.max_row or 1) - 1), lambda: stream.rows_read)
