"""Imports write what changed and nothing else; dry runs and rejected files write nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from cases.models import Case
from debtors.models import ContactPoint, Debtor, Installment, Loan, Payment
from imports.models import ImportJob
from imports.services import rejected_rows_csv
from reminders.models import ReminderStatus
from tests.factories import make_reminder

from .conftest import messages, run_import

pytestmark = pytest.mark.django_db

DEBTORS = (
    "external_ref,full_name,country,timezone,mobile,email\n"
    "D-1,Wang Fang,CN,Asia/Shanghai,13800138000,wang@example.com\n"
    "D-2,Li Lei,CN,,13900139000,\n"
)
LOANS = (
    "external_ref,debtor_ref,currency,principal,interest_balance,opened_on,product\n"
    "L-1,D-1,CNY,300.00,12.50,2025-12-01,personal\n"
    "L-2,D-2,CNY,1000,,2025-11-01,\n"
)
INSTALLMENTS = (
    "loan_ref,sequence,due_date,amount_due\n"
    "L-1,1,2026-01-15,100.00\n"
    "L-1,2,2026-02-15,100.00\n"
    "L-1,3,2026-03-15,112.50\n"
)


def history_rows() -> int:
    return sum(model.history.count() for model in (Debtor, ContactPoint, Loan, Installment, Case))


def portfolio():
    for kind, content in (("debtors", DEBTORS), ("loans", LOANS), ("installments", INSTALLMENTS)):
        job = run_import(kind, content)
        assert job.status == ImportJob.Status.DONE, messages(job)


def test_a_portfolio_imports_with_cases_contact_points_and_derived_loan_state():
    portfolio()
    wang = Debtor.objects.get(external_ref="D-1")
    assert wang.case.assigned_to is None
    assert sorted(wang.contact_points.values_list("kind", "value")) == [
        ("email", "wang@example.com"),
        ("mobile", "+8613800138000"),
    ]
    loan = Loan.objects.get(external_ref="L-1")
    assert loan.principal_balance == Decimal("300.00")
    assert loan.interest_balance == Decimal("12.50")
    assert loan.oldest_unpaid_due_date == dt.date(2026, 1, 15)
    assert loan.installments.count() == 3
    assert loan.history.filter(history_type="+").get().actor_label == "system: tests"


def test_importing_the_same_files_again_changes_nothing_and_writes_no_history():
    portfolio()
    before = history_rows()
    for kind, content in (("debtors", DEBTORS), ("loans", LOANS), ("installments", INSTALLMENTS)):
        job = run_import(kind, content)
        assert (job.created_count, job.updated_count) == (0, 0)
        assert job.unchanged_count == job.total_rows
    assert history_rows() == before


def test_a_changed_row_updates_only_what_changed_with_history():
    portfolio()
    job = run_import("loans", LOANS.replace("12.50", "20.00"))
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    loan = Loan.objects.get(external_ref="L-1")
    assert loan.interest_balance == Decimal("20.00")
    change = loan.history.filter(history_type="~").get()
    assert change.history_change_reason == f"import #{job.pk}"
    assert Loan.objects.get(external_ref="L-2").history.count() == 1


def test_an_empty_cell_keeps_the_stored_value():
    portfolio()
    job = run_import(
        "loans", "external_ref,debtor_ref,currency,principal,product\nL-1,D-1,CNY,300.00,\n"
    )
    assert job.unchanged_count == 1
    assert Loan.objects.get(external_ref="L-1").product == "personal"


def test_a_dry_run_reports_and_writes_nothing():
    job = run_import("debtors", DEBTORS, dry_run=True)
    assert job.status == ImportJob.Status.CHECKED
    assert (job.total_rows, job.created_count) == (2, 2)
    assert not Debtor.objects.exists()
    assert not ContactPoint.objects.exists()
    assert history_rows() == 0


def test_a_dry_run_reports_the_same_problems():
    bad = DEBTORS + "D-3,Bad Phone,CN,,123,\n"
    dry = run_import("debtors", bad, dry_run=True)
    real = run_import("debtors", bad)
    assert (
        messages(dry)
        == messages(real)
        == [(4, "mobile", "123 is not a valid phone number for the country.")]
    )
    assert not Debtor.objects.exists()


def test_a_file_with_bad_rows_imports_nothing_unless_the_valid_rows_are_wanted():
    run_import("debtors", DEBTORS)
    content = LOANS + "L-3,D-404,CNY,10.00,,2025-12-01,\n"
    job = run_import("loans", content)
    assert job.status == ImportJob.Status.REJECTED
    assert (job.total_rows, job.invalid_rows, job.valid_rows) == (3, 1, 2)
    assert not Loan.objects.exists()

    job = run_import("loans", content, valid_rows_only=True)
    assert job.status == ImportJob.Status.DONE
    assert job.created_count == 2
    assert sorted(Loan.objects.values_list("external_ref", flat=True)) == ["L-1", "L-2"]

    rejected = "".join(rejected_rows_csv(job)).lstrip("\ufeff").splitlines()
    assert rejected[0] == (
        "line,external_ref,debtor_ref,currency,principal,interest_balance,opened_on,product,problems"
    )
    assert rejected[1] == (
        "4,L-3,D-404,CNY,10.00,,2025-12-01,,"
        "debtor_ref: No debtor has the reference D-404 (import the debtors first)."
    )


def test_rejected_rows_fixed_and_imported_again():
    run_import("debtors", DEBTORS)
    job = run_import("loans", LOANS + "L-3,D-2,CNY,-1,,,\n", valid_rows_only=True)
    # The bad cell comes back as '-1 (neutralised for spreadsheets): the fix replaces it.
    fixed = "".join(rejected_rows_csv(job)).lstrip("\ufeff").replace("'-1", "10.00")
    # The download has a line and a problems column: both are ignored on the way back in.
    job = run_import("loans", fixed)
    assert job.status == ImportJob.Status.DONE, messages(job)
    assert Loan.objects.get(external_ref="L-3").principal == Decimal("10.00")


def test_xlsx_files_and_semicolons_and_headers_in_any_case():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["External Ref", "Full Name", "Country", "Date of birth"])
    sheet.append(["D-9", "Zhang Wei", "CN", dt.datetime(1990, 3, 7)])
    sheet.append([None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run_import("debtors", buffer.getvalue(), name="debtors.xlsx")
    assert job.status == ImportJob.Status.DONE, messages(job)
    assert Debtor.objects.get(external_ref="D-9").date_of_birth == dt.date(1990, 3, 7)

    job = run_import("debtors", "\ufeffexternal_ref;full_name;country\nD-10;Li Na;CN\n")
    assert job.status == ImportJob.Status.DONE, messages(job)


def test_payments_are_allocated_once_and_cancel_the_reminders_they_make_pointless():
    portfolio()
    loan = Loan.objects.get(external_ref="L-1")
    first = loan.installments.get(sequence=1)
    reminder = make_reminder(loan, first)
    content = (
        "external_ref,loan_ref,amount,received_at,method,source\n"
        "TX-1,L-1,100.00,2026-01-14T09:30:00+08:00,bank_transfer,core\n"
    )
    job = run_import("payments", content)
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 1)
    first.refresh_from_db()
    assert first.amount_paid == Decimal("100.00")
    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == (ReminderStatus.CLOSED, "paid")

    job = run_import("payments", content)
    assert (job.created_count, job.unchanged_count) == (0, 1)
    assert Payment.objects.count() == 1


def test_the_command_imports_with_a_report(tmp_path):
    path = tmp_path / "debtors.csv"
    path.write_text(DEBTORS)
    out = io.StringIO()
    call_command(
        "import_portfolio",
        str(path),
        "--kind",
        "debtors",
        "--dry-run",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "2 rows: 2 new, 0 changed, 0 unchanged, 0 with problems." in out.getvalue()
    assert not Debtor.objects.exists()
    call_command(
        "import_portfolio", str(path), "--kind", "debtors", stdout=out, stderr=io.StringIO()
    )
    assert Debtor.objects.count() == 2


def test_the_command_fails_on_a_rejected_file_and_writes_the_rejected_rows(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text(LOANS)
    rejected = tmp_path / "rejected.csv"
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_portfolio",
            str(path),
            "--kind",
            "loans",
            "--rejected",
            str(rejected),
            stdout=out,
            stderr=io.StringIO(),
        )
    assert "No debtor has the reference D-1" in out.getvalue()
    assert len(rejected.read_text().splitlines()) == 3


# --- Formula injection: the rejected rows are neutralised for spreadsheets ------------------

DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue()


def _rejected(job) -> list[list[str]]:
    text = "".join(rejected_rows_csv(job)).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("start", DANGEROUS, ids=repr)
def test_rejected_rows_neutralise_formulas(start):
    """Every cell of the file (its header too) is text: each gets a ``'`` in front when it
    begins like a formula; the line number is the product's own and stays a number. (A header
    cannot hold a line break, so the header's dangerous cell is always ``=note``.)"""
    name = f"{start}cmd|' /C calc'!A0"
    note = f'{start}HYPERLINK("http://evil","x")'
    content = _csv(
        [
            ["external_ref", "full_name", "country", "mobile", "=note"],
            ["D-1", "Wang Fang", "CN", "13800138000", "plain"],
            [f"{start}D-2", name, "CN", "123", note],
        ]
    )
    job = run_import("debtors", content, valid_rows_only=True)
    assert job.status == ImportJob.Status.DONE, messages(job)
    rejected = _rejected(job)
    assert rejected[0] == [
        "line",
        "external_ref",
        "full_name",
        "country",
        "mobile",
        "'=note",
        "problems",
    ]
    assert rejected[1][:6] == ["3", f"'{start}D-2", f"'{name}", "CN", "123", f"'{note}"]
    assert rejected[1][6].startswith("mobile: 123 is not a valid phone number")


def test_rejected_rows_keep_ordinary_cells_as_they_were():
    run_import("debtors", DEBTORS)
    job = run_import(
        "loans", LOANS + "L-3,D-404,CNY,12.50,,2025-12-01,O'Brien 3=3\n", valid_rows_only=True
    )
    assert _rejected(job)[1][:8] == [
        "4",
        "L-3",
        "D-404",
        "CNY",
        "12.50",
        "",
        "2025-12-01",
        "O'Brien 3=3",
    ]


# --- The way back: a fixed rejected-rows file imports the values as they were ----------------


def _fixed(rows: list[list[str]], *, column: str, value: str, as_xlsx: bool) -> bytes:
    """The rejected rows as a person saves them after fixing ``column`` of every row: CSV as
    a spreadsheet writes it, or a workbook (its cells the text the spreadsheet showed)."""
    index = rows[0].index(column)
    fixed = [rows[0]] + [[*row[:index], value, *row[index + 1 :]] for row in rows[1:]]
    if not as_xlsx:
        return _csv(fixed).encode("utf-8")
    workbook = Workbook()
    for row in fixed:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("as_xlsx", [False, True], ids=["csv", "xlsx"])
def test_a_fixed_rejected_debtor_comes_back_as_it_was(client, supervisor, as_xlsx):
    """Rejected for its country; downloaded from the result page (its cells neutralised);
    fixed; imported again: the reference, name, phone and address are the file's own."""
    original = ["-D-7", "=Smith", "XX", "+8613800138000", "'s-Hertogenbosch"]
    content = _csv([["external_ref", "full_name", "country", "mobile", "address"], original])
    job = run_import("debtors", content, valid_rows_only=True)
    assert (job.status, job.invalid_rows) == (ImportJob.Status.DONE, 1)
    client.force_login(supervisor)
    response = client.get(f"/imports/{job.pk}/rejected.csv")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    # The comparison means something: the download did put quotes in front.
    assert rows[1][1:6] == ["'-D-7", "'=Smith", "XX", "'+8613800138000", "'s-Hertogenbosch"]

    name = "fixed.xlsx" if as_xlsx else "fixed.csv"
    fixed = _fixed(rows, column="country", value="CN", as_xlsx=as_xlsx)
    job = run_import("debtors", fixed, name=name)
    assert job.status == ImportJob.Status.DONE, messages(job)
    debtor = Debtor.objects.get()
    assert (debtor.external_ref, debtor.full_name) == ("-D-7", "=Smith")
    assert sorted(debtor.contact_points.values_list("kind", "value")) == [
        ("address", "'s-Hertogenbosch"),
        ("mobile", "+8613800138000"),
    ]


def test_a_fixed_rejected_loan_comes_back_as_it_was():
    """A reference and a product that look like formulas come back unquoted, and so does an
    amount: a negative one is refused again as negative, not as an unreadable amount."""
    run_import("debtors", DEBTORS)
    header = ["external_ref", "debtor_ref", "currency", "principal", "interest_balance", "product"]
    job = run_import(
        "loans",
        _csv([header, ["+L-9", "D-404", "CNY", "300.00", "-5.00", "@promo"]]),
        valid_rows_only=True,
    )
    rows = _rejected(job)
    assert [rows[1][rows[0].index(name)] for name in header] == [
        "'+L-9",
        "D-404",
        "CNY",
        "300.00",
        "'-5.00",
        "'@promo",
    ]

    job = run_import("loans", _fixed(rows, column="debtor_ref", value="D-1", as_xlsx=False))
    assert job.status == ImportJob.Status.REJECTED
    assert [(i.column, i.code, i.value) for i in job.issues.all()] == [
        ("interest_balance", "negative_amount", "-5.00")
    ]

    # Rejected again: its cells are neutralised again (the first download's line and
    # problems columns ride along as columns the format does not know).
    rows = _rejected(job)
    assert [rows[1][rows[0].index(name)] for name in header] == [
        "'+L-9",
        "D-1",
        "CNY",
        "300.00",
        "'-5.00",
        "'@promo",
    ]
    job = run_import("loans", _fixed(rows, column="interest_balance", value="5.00", as_xlsx=False))
    assert job.status == ImportJob.Status.DONE, messages(job)
    loan = Loan.objects.get()
    assert (loan.external_ref, loan.product, loan.interest_balance) == (
        "+L-9",
        "@promo",
        Decimal("5.00"),
    )


@pytest.mark.parametrize(
    ("cell", "stored"),
    [("'", "'"), ("'abc", "'abc"), ("''-5", "''-5"), ("O'Brien", "O'Brien"), ("'\t", "\t")],
    ids=repr,
)
def test_only_a_quote_before_a_formula_character_is_taken_off(cell, stored):
    job = run_import(
        "debtors", _csv([["external_ref", "full_name", "country"], ["D-1", cell, "CN"]])
    )
    assert job.status == ImportJob.Status.DONE, messages(job)
    assert Debtor.objects.get().full_name == stored
