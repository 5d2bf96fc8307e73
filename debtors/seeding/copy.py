"""The large path: stream a generated portfolio into PostgreSQL with ``COPY FROM STDIN``.

For benchmark portfolios (a million loans and more). Debtors are generated in chunks; each
chunk is written as tab-separated text, one buffer per table, and copied in foreign-key order,
so memory stays bounded by the chunk size whatever the total. Ids are assigned here (the
tables are locked against other writers for the duration, and the id sequences moved past
the new rows before commit). The derived fields (loan balances, status and oldest unpaid due
date; the cases) are then computed set-based in SQL by ``debtors.seeding.derive``.

This path writes no history rows. It exists for synthetic benchmark data, where a historical
row per row would double the write (and the time and disk) and record nothing anyone will
audit. The small demo path (``debtors.seeding.orm``) does write history, attributed to
"system: seed_demo".
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from collections_app.models import Case
from debtors.models import (
    ChannelConsent,
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PaymentAllocation,
    PlanInstallment,
    PromiseToPay,
    RepaymentPlan,
)

from . import derive
from .generator import DebtorRecord, money_text

# Tables in foreign-key order, with the columns this writer fills.
COLUMNS = {
    Debtor: (
        "id",
        "external_ref",
        "full_name",
        "national_id",
        "date_of_birth",
        "country",
        "region",
        "preferred_language",
        "timezone",
        "dispute",
        "dispute_reason",
        "dispute_at",
        "bankruptcy",
        "bankruptcy_reason",
        "bankruptcy_at",
        "deceased",
        "deceased_reason",
        "deceased_at",
        "cease_communication",
        "cease_communication_reason",
        "cease_communication_at",
        "hardship_pause_until",
        "hardship_reason",
        "hardship_at",
        "created_at",
        "updated_at",
    ),
    ContactPoint: (
        "id",
        "debtor_id",
        "kind",
        "value",
        "country",
        "timezone",
        "label",
        "owner",
        "owner_name",
        "status",
        "status_changed_at",
        "is_primary",
        "created_at",
    ),
    ChannelConsent: (
        "id",
        "debtor_id",
        "contact_point_id",
        "channel",
        "consented_at",
        "consent_source",
        "opted_out_at",
        "opt_out_source",
    ),
    Loan: (
        "id",
        "debtor_id",
        "external_ref",
        "product",
        "currency",
        "principal",
        "principal_balance",
        "interest_balance",
        "fees_balance",
        "credit_balance",
        "opened_on",
        "status",
        "risk_band",
        "oldest_unpaid_due_date",
        "created_at",
    ),
    Installment: ("id", "loan_id", "sequence", "due_date", "amount_due", "amount_paid", "paid_at"),
    RepaymentPlan: (
        "id",
        "loan_id",
        "status",
        "frequency",
        "outstanding_at_creation",
        "total_amount",
        "discount_amount",
        "discount_reason",
        "discount_approved_at",
        "created_at",
        "activated_at",
        "closed_at",
    ),
    PlanInstallment: (
        "id",
        "plan_id",
        "sequence",
        "due_date",
        "amount_due",
        "amount_paid",
        "paid_at",
    ),
    Payment: (
        "id",
        "loan_id",
        "amount",
        "received_at",
        "method",
        "source",
        "external_ref",
        "allocated_amount",
        "credit_amount",
        "created_at",
    ),
    PaymentAllocation: ("id", "payment_id", "installment_id", "plan_installment_id", "amount"),
    PromiseToPay: (
        "id",
        "loan_id",
        "amount",
        "promised_date",
        "status",
        "created_at",
        "resolved_at",
    ),
}
TABLE_ORDER = tuple(COLUMNS)
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    return value.translate(_ESCAPES)


def _ts(value: dt.datetime | None) -> str:
    return NULL if value is None else value.isoformat()


def _day(value: dt.date | None) -> str:
    return NULL if value is None else value.isoformat()


def _bool(value: bool) -> str:
    return "t" if value else "f"


@dataclass
class CopyResult:
    counts: dict[str, int] = field(default_factory=dict)
    first_debtor_id: int = 0
    first_loan_id: int = 0


class _Ids:
    """Next id per table, starting past whatever the table and its sequence already hold."""

    def __init__(self, cursor) -> None:
        self.next: dict[type, int] = {}
        self.first: dict[type, int] = {}
        for model in TABLE_ORDER:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT GREATEST(COALESCE(MAX(id), 0), "  # noqa: S608 - names from our models
                f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                f"FROM {_sequence(cursor, table)})) FROM {table}"
            )
            start = cursor.fetchone()[0] + 1
            self.next[model] = start
            self.first[model] = start

    def take(self, model: type) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


def _sequence(cursor, table: str) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]


def seed_with_copy(
    records: Iterable[DebtorRecord],
    *,
    today: dt.date,
    now: dt.datetime,
    chunk_debtors: int = 5_000,
    progress: Callable[[str], None] | None = None,
) -> CopyResult:
    """Write ``records`` with COPY, derive loans and cases in SQL; one transaction."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The COPY path needs PostgreSQL; use the ORM path on other databases.")
    result = CopyResult()
    with transaction.atomic(), connection.cursor() as cursor:
        tables = ", ".join(m._meta.db_table for m in (*TABLE_ORDER, Case))
        # Other writers wait (readers do not): the ids assigned here must stay free.
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        ids = _Ids(cursor)
        writer = _ChunkWriter(ids, now)
        pending = 0
        written = 0
        for record in records:
            writer.add(record)
            pending += 1
            if pending >= chunk_debtors:
                written += pending
                writer.flush(cursor)
                pending = 0
                if progress:
                    progress(f"copied {written} debtors, {writer.counts[Loan]} loans")
        writer.flush(cursor)
        for model in TABLE_ORDER:
            table = model._meta.db_table
            last = ids.next[model] - 1
            if last >= ids.first[model]:
                cursor.execute("SELECT setval(%s, %s)", [_sequence(cursor, table), last])
        result.first_debtor_id = ids.first[Debtor]
        result.first_loan_id = ids.first[Loan]
        if progress:
            progress("deriving loan balances, status and oldest unpaid due dates")
        derive.refresh_loans(cursor, loan_id_from=ids.first[Loan], today=today)
        if progress:
            progress("creating cases")
        cases = derive.insert_cases(cursor, debtor_id_from=ids.first[Debtor], today=today, now=now)
        result.counts = {m._meta.label: writer.counts[m] for m in TABLE_ORDER}
        result.counts[Case._meta.label] = cases
    return result


class _ChunkWriter:
    def __init__(self, ids: _Ids, now: dt.datetime) -> None:
        self.ids = ids
        self.now = _ts(now)
        self.buffers = {model: io.StringIO() for model in TABLE_ORDER}
        self.counts = dict.fromkeys(TABLE_ORDER, 0)

    def flush(self, cursor) -> None:
        for model in TABLE_ORDER:
            buffer = self.buffers[model]
            if buffer.tell() == 0:
                continue
            buffer.seek(0)
            columns = ", ".join(COLUMNS[model])
            cursor.copy_expert(f"COPY {model._meta.db_table} ({columns}) FROM STDIN", buffer)
            self.buffers[model] = io.StringIO()

    def add(self, d: DebtorRecord) -> None:
        ids = self.ids
        counts = self.counts
        now = self.now
        debtor_id = ids.take(Debtor)
        holds = d.holds
        hold_cols = []
        for flag in ("dispute", "bankruptcy", "deceased", "cease_communication"):
            if flag in holds:
                reason, at = holds[flag]
                hold_cols += ["t", _text(reason), _ts(at)]
            else:
                hold_cols += ["f", "", NULL]
        self.buffers[Debtor].write(
            "\t".join(
                (
                    str(debtor_id),
                    d.external_ref,
                    _text(d.full_name),
                    d.national_id,
                    _day(d.date_of_birth),
                    d.country,
                    d.region,
                    d.preferred_language,
                    d.timezone,
                    *hold_cols,
                    _day(d.hardship_pause_until),
                    _text(d.hardship_reason),
                    _ts(d.hardship_at),
                    _ts(d.created_at),
                    now,
                )
            )
            + "\n"
        )
        counts[Debtor] += 1

        write = self.buffers[ContactPoint].write
        contact_ids = []
        for c in d.contacts:
            contact_id = ids.take(ContactPoint)
            contact_ids.append(contact_id)
            write(
                f"{contact_id}\t{debtor_id}\t{c.kind}\t{_text(c.value)}\t{c.country}\t{c.timezone}\t"
                f"{_text(c.label)}\t{c.owner}\t{_text(c.owner_name)}\t{c.status}\t"
                f"{_ts(c.status_changed_at)}\t{_bool(c.is_primary)}\t{_ts(c.created_at)}\n"
            )
        counts[ContactPoint] += len(d.contacts)

        write = self.buffers[ChannelConsent].write
        for c in d.consents:
            point = NULL if c.contact < 0 else str(contact_ids[c.contact])
            write(
                f"{ids.take(ChannelConsent)}\t{debtor_id}\t{point}\t{c.channel}\t"
                f"{_ts(c.consented_at)}\t{c.consent_source}\t{_ts(c.opted_out_at)}\t{c.opt_out_source}\n"
            )
        counts[ChannelConsent] += len(d.consents)

        loan_write = self.buffers[Loan].write
        inst_write = self.buffers[Installment].write
        plan_write = self.buffers[RepaymentPlan].write
        plan_inst_write = self.buffers[PlanInstallment].write
        pay_write = self.buffers[Payment].write
        alloc_write = self.buffers[PaymentAllocation].write
        promise_write = self.buffers[PromiseToPay].write
        for loan in d.loans:
            loan_id = ids.take(Loan)
            # Derived columns are placeholders here; derive.refresh_loans sets them.
            loan_write(
                f"{loan_id}\t{debtor_id}\t{loan.external_ref}\t{loan.product}\t{loan.currency}\t"
                f"{money_text(loan.principal)}\t0\t0\t0\t0\t{loan.opened_on.isoformat()}\t"
                f"{loan.fixed_status or 'current'}\t{loan.risk_band}\t\\N\t{_ts(loan.created_at)}\n"
            )
            counts[Loan] += 1
            inst_ids = []
            for inst in loan.installments:
                inst_id = ids.take(Installment)
                inst_ids.append(inst_id)
                inst_write(
                    f"{inst_id}\t{loan_id}\t{inst.sequence}\t{inst.due_date.isoformat()}\t"
                    f"{money_text(inst.amount_due)}\t{money_text(inst.amount_paid)}\t{_ts(inst.paid_at)}\n"
                )
            counts[Installment] += len(inst_ids)
            plan_inst_ids = []
            for plan in loan.plans:
                plan_id = ids.take(RepaymentPlan)
                plan_write(
                    f"{plan_id}\t{loan_id}\t{plan.status}\t{plan.frequency}\t"
                    f"{money_text(plan.outstanding_at_creation)}\t{money_text(plan.total_amount)}\t"
                    f"{money_text(plan.discount_amount)}\t{_text(plan.discount_reason)}\t"
                    f"{_ts(plan.discount_approved_at)}\t{_ts(plan.created_at)}\t"
                    f"{_ts(plan.activated_at)}\t{_ts(plan.closed_at)}\n"
                )
                counts[RepaymentPlan] += 1
                these = []
                for inst in plan.installments:
                    inst_id = ids.take(PlanInstallment)
                    these.append(inst_id)
                    plan_inst_write(
                        f"{inst_id}\t{plan_id}\t{inst.sequence}\t{inst.due_date.isoformat()}\t"
                        f"{money_text(inst.amount_due)}\t{money_text(inst.amount_paid)}\t{_ts(inst.paid_at)}\n"
                    )
                counts[PlanInstallment] += len(these)
                plan_inst_ids.append(these)
            for p in loan.payments:
                payment_id = ids.take(Payment)
                amount = money_text(p.amount)
                received = _ts(p.received_at)
                pay_write(
                    f"{payment_id}\t{loan_id}\t{amount}\t{received}\t{p.method}\t{p.source}\t"
                    f"{p.external_ref}\t{amount}\t0\t{received}\n"
                )
                for a in p.allocations:
                    if a.plan < 0:
                        target = f"{inst_ids[a.installment]}\t\\N"
                    else:
                        target = f"\\N\t{plan_inst_ids[a.plan][a.installment]}"
                    alloc_write(
                        f"{ids.take(PaymentAllocation)}\t{payment_id}\t{target}\t{money_text(a.amount)}\n"
                    )
                counts[PaymentAllocation] += len(p.allocations)
            counts[Payment] += len(loan.payments)
            for pr in loan.promises:
                promise_write(
                    f"{ids.take(PromiseToPay)}\t{loan_id}\t{money_text(pr.amount)}\t"
                    f"{pr.promised_date.isoformat()}\t{pr.status}\t{_ts(pr.created_at)}\t{_ts(pr.resolved_at)}\n"
                )
            counts[PromiseToPay] += len(loan.promises)
