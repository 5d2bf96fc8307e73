"""The large path: stream a generated portfolio into PostgreSQL with ``COPY FROM STDIN``.

For benchmark portfolios (a million loans and more; the ``seed`` benchmark: a million loans in
under 5 minutes and 1 GiB). Forked workers generate debtors in
chunks and format each chunk as tab-separated text, one buffer per table; this process copies
the chunks in order. Memory stays bounded by a chunk or two per process, whatever the total.
Ids are assigned here, in chunk order (the tables are locked against other writers for the
duration, and the id sequences moved past the new rows before commit). Foreign keys, unique
constraints and secondary indexes are dropped for the load and rebuilt once at the end, in the
same transaction.

Derived fields: loans are written with the values the generator derives (``derive_loan``,
the rules of ``demo.seeding.derive.refresh_loans``, which recomputes them in SQL
from the installments and plans; ``verify_derived=True`` runs it after the copy, and the tests
check that the two agree). The cases are created from the loans in one ``INSERT ... SELECT``.

This path writes no history rows. It exists for synthetic benchmark data, where a historical
row per row would double the write (and the time and disk) and record nothing anyone will
audit. The small demo path (``demo.seeding.orm``) does write history, attributed to
"system: seed_demo".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import multiprocessing
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction

from cases.models import Case
from compliance.models import ContactAttempt
from debtors.audit import system_actor
from debtors.crypto import blind_index, encrypt
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
from demo.procstat import process_cpu_seconds
from demo.seeding import derive
from demo.seeding.generator import DebtorRecord, PortfolioGenerator, derive_loan

# The actor of the seeded history (as the ORM writer's).
SEED_ACTOR = system_actor("seed_demo")

# Tables in foreign-key order, with the columns this writer fills.
COLUMNS = {
    Debtor: (
        "id",
        "external_ref",
        "full_name",
        "national_id",
        "national_id_index",
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
    ContactAttempt: (
        "id",
        "debtor_id",
        "loan_id",
        "contact_point_id",
        "channel",
        "direction",
        "outcome",
        "occurred_at",
        "actor_label",
        "breach",
        "breach_reasons",
        "created_at",
        "completed_at",
    ),
}
TABLE_ORDER = tuple(COLUMNS)
NULL = "\\N"
COPY_BUFFER = 1 << 20
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def money_text(cents: int) -> str:
    """Minor units as an exact numeric literal PostgreSQL reads: ``12345`` -> ``12345e-2``."""
    return f"{cents}e-2"


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
    # Forked generating processes, and the largest peak resident memory among them (KiB).
    generators: int = 0
    generator_max_rss_kib: int = 0
    # CPU seconds of the PostgreSQL backend that did the work, when it runs on this machine.
    database_cpu_seconds: float | None = None


def _first_ids(cursor) -> dict[str, int]:
    """The first free id per table: past whatever the table and its sequence already hold."""
    first = {}
    for model in TABLE_ORDER:
        table = model._meta.db_table
        cursor.execute(
            f"SELECT GREATEST(COALESCE(MAX(id), 0), "  # noqa: S608 - names from our models
            f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            f"FROM {_sequence(cursor, table)})) FROM {table}"
        )
        first[model._meta.label] = cursor.fetchone()[0] + 1
    return first


def _sequence(cursor, table: str) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop_secondary_structures(cursor, tables: list[str]) -> list[str]:
    """Drop foreign keys, unique constraints and secondary indexes; return how to recreate them.

    Loading into bare tables and building each index once at the end (a sort) is several
    times faster than maintaining five indexes and checking a foreign key per copied row.
    Primary keys and check constraints stay. Everything happens in the caller's transaction:
    if anything fails, PostgreSQL rolls the DDL back with the data.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') "
        "ORDER BY contype, conname",
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        "  AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')"
        ") ORDER BY 1",
        [tables],
    )
    indexes = cursor.fetchall()
    # contype 'f' sorts before 'u': foreign keys go first, and come back last.
    for table, name, _kind, _definition in constraints:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    recreate = [definition for _name, definition in indexes]
    recreate += [
        f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}"
        for table, name, _kind, definition in reversed(constraints)
    ]
    return recreate


def seed_with_copy(
    records: PortfolioGenerator,
    *,
    today: dt.date,
    now: dt.datetime,
    chunk_debtors: int = 5_000,
    workers: int = 2,
    verify_derived: bool = False,
    progress: Callable[[str], None] | None = None,
) -> CopyResult:
    """Write ``records`` with COPY and create their cases in SQL; one transaction.

    The tables are locked for the duration (their indexes are rebuilt at the end), so this is
    for a database being prepared, such as the benchmark one, not one in use. With
    ``workers`` > 0, that many forked processes generate and format chunks of rows while this
    one copies them (the generator is the slow part; on two cores, two workers keep both busy);
    each process holds at most a chunk or two, so memory stays bounded whatever the total.
    """
    say = progress or (lambda _message: None)
    started = time.monotonic()
    result = CopyResult()
    with transaction.atomic(), connection.cursor() as cursor:
        tables = [m._meta.db_table for m in TABLE_ORDER]
        # Other writers wait: the ids assigned here must stay free.
        cursor.execute(f"LOCK TABLE {', '.join(tables)}, {Case._meta.db_table} IN EXCLUSIVE MODE")
        # Each index is built by one sort: in memory for the largest (7 million installments).
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
        first = _first_ids(cursor)
        # Cases too: they are inserted in one statement after the copy.
        recreate = _drop_secondary_structures(cursor, [*tables, Case._meta.db_table])
        if workers > 0 and "fork" in multiprocessing.get_all_start_methods():
            chunks = _parallel_chunks(records, first, now, chunk_debtors, workers, result)
            result.generators = workers
        else:
            chunks = _chunks(records, first, now, chunk_debtors)
        counts: dict[str, int] = {}
        next_ids: dict[str, int] = dict(first)
        copied = 0
        for kind, payload, extra in chunks:
            if kind == "done":
                counts, next_ids = payload, extra
                break
            for model, text in zip(TABLE_ORDER, payload, strict=True):
                if text:
                    columns = ", ".join(COLUMNS[model])
                    sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
                    cursor.copy_expert(
                        sql, io.BytesIO(text), COPY_BUFFER
                    )  # positional: see staging
            copied += extra
            say(f"{time.monotonic() - started:6.1f}s copied {copied} debtors")
        chunks.close()
        for model in TABLE_ORDER:
            label = model._meta.label
            if next_ids[label] > first[label]:
                sequence = _sequence(cursor, model._meta.db_table)
                cursor.execute("SELECT setval(%s, %s)", [sequence, next_ids[label] - 1])
        if verify_derived:
            # A second opinion, in SQL, on what the generator derived (a pass over every
            # installment; rewrites only the loans that differ: none, unless the two disagree).
            say(f"{time.monotonic() - started:6.1f}s deriving loan balances, status, due dates")
            first_loan = first[Loan._meta.label]
            corrected = derive.refresh_loans(cursor, loan_id_from=first_loan, today=today)
            say(
                f"{time.monotonic() - started:6.1f}s {corrected} loans corrected by the SQL derivation"
            )
        say(f"{time.monotonic() - started:6.1f}s creating cases")
        cases = derive.insert_cases(
            cursor, debtor_id_from=first[Debtor._meta.label], today=today, now=now
        )
        say(f"{time.monotonic() - started:6.1f}s rebuilding indexes and constraints")
        for statement in recreate:
            cursor.execute(statement)
        say(f"{time.monotonic() - started:6.1f}s analyzing")
        cursor.execute(f"ANALYZE {', '.join(tables)}, {Case._meta.db_table}")
        result.counts = dict(counts)
        result.counts[Case._meta.label] = cases
        result.first_debtor_id = first[Debtor._meta.label]
        result.first_loan_id = first[Loan._meta.label]
        result.database_cpu_seconds = process_cpu_seconds(backend)
    return result


def _chunks(records, first_ids, now, chunk_debtors):
    """Yield ("chunk", [text per table], debtors) per chunk, then ("done", counts, next ids)."""
    writer = _ChunkWriter(first_ids, now, records.today)
    pending = 0
    for record in records:
        writer.add(record)
        pending += 1
        if pending >= chunk_debtors:
            yield "chunk", writer.take(), pending
            pending = 0
    if pending:
        yield "chunk", writer.take(), pending
    counts = {model._meta.label: n for model, n in writer.counts.items()}
    yield "done", counts, writer.next_ids


def _count_rows(records: list[DebtorRecord]) -> dict[str, int]:
    """How many rows of each table ``records`` make (to hand out ids before formatting)."""
    counts = dict.fromkeys(TABLE_ORDER, 0)
    counts[Debtor] = len(records)
    for d in records:
        counts[ContactPoint] += len(d.contacts)
        counts[ChannelConsent] += len(d.consents)
        counts[Loan] += len(d.loans)
        for loan in d.loans:
            counts[Installment] += len(loan.installments)
            counts[RepaymentPlan] += len(loan.plans)
            for plan in loan.plans:
                counts[PlanInstallment] += len(plan.installments)
            counts[Payment] += len(loan.payments)
            for payment in loan.payments:
                counts[PaymentAllocation] += len(payment.allocations)
            counts[PromiseToPay] += len(loan.promises)
        counts[ContactAttempt] += len(d.calls)
    return {model._meta.label: n for model, n in counts.items()}


def _worker(generator: PortfolioGenerator, index: int, workers: int, chunk: int, now, conn):
    """A forked generator: chunks index, index + workers, ... until told to stop.

    Per chunk: generate the debtors, report their loan counts; receive the first id of each
    table (and, for a loan target, where to cut); report the row counts; format; send the text.
    Generating is the slow part and needs no ids, so the workers generate in parallel and
    wait for each other only for the moment it takes to hand out id ranges.
    """
    # The records are trees without cycles, freed by reference counting: the cyclic collector
    # would only walk the live chunk over and over (a third of the generating time).
    gc.disable()
    try:
        number = index
        while True:
            start = number * chunk
            stop = start + chunk
            if generator.debtors is not None:
                stop = min(stop, generator.debtors)
            records = [generator.record(n) for n in range(start, stop)]
            conn.send(("generated", number, [len(d.loans) for d in records]))
            message = conn.recv()
            if message[0] == "stop":
                conn.send(("rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, None))
                return
            _go, first_ids, keep = message
            if keep is not None:
                debtors, last_loans = keep
                records = records[:debtors]
                # The last debtor made again with its loans capped, as the generator makes it
                # (its calls follow the loans it keeps).
                records[-1] = generator.record(start + debtors - 1, loan_cap=last_loans)
            conn.send(("counts", number, _count_rows(records)))
            writer = _ChunkWriter(first_ids, now, generator.today)
            for record in records:
                writer.add(record)
            conn.send(("text", number, writer.take(), len(records)))
            del records, writer
            number += workers
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("error", traceback.format_exc(), None))


def _receive(conn, process) -> tuple:
    while not conn.poll(5):
        if not process.is_alive():
            raise RuntimeError("A generating process died without a word.")
    message = conn.recv()
    if message[0] == "error":
        raise RuntimeError(f"Generating the portfolio failed:\n{message[1]}")
    return message


def _parallel_chunks(generator: PortfolioGenerator, first_ids, now, chunk, workers, result):
    """Yield what ``_chunks`` yields, from ``workers`` forked generating processes.

    Chunk n goes to worker n % workers; ids are handed out in chunk order, so the rows (ids
    included) are the same as those of the single-process path.
    """
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for index in range(workers):
        parent_end, child_end = context.Pipe()
        # The child never touches the database: it inherits the generator, not a connection
        # to use (and leaves with os._exit, so nothing closes the parent's).
        process = context.Process(
            target=_worker, args=(generator, index, workers, chunk, now, child_end), daemon=True
        )
        process.start()
        child_end.close()
        pipes.append(parent_end)
        processes.append(process)
    next_ids = dict(first_ids)
    totals = dict.fromkeys(first_ids, 0)
    loans = 0
    finished = False
    formatting = None  # the worker whose chunk is being formatted, to copy next
    try:
        number = 0
        while True:
            handed_out = None
            if not finished and generator.debtors is not None:
                finished = number * chunk >= generator.debtors
            if not finished:
                handed_out = number % workers
                pipe, process = pipes[handed_out], processes[handed_out]
                _kind, _number, loan_counts = _receive(pipe, process)
                keep = None
                if generator.loans is not None and loans + sum(loan_counts) >= generator.loans:
                    remaining = generator.loans - loans
                    for position, count in enumerate(loan_counts):
                        if count >= remaining:
                            keep = (position + 1, remaining)
                            break
                        remaining -= count
                    finished = True
                pipe.send(("go", dict(next_ids), keep))
                _kind, _number, counts = _receive(pipe, process)
                for label, n in counts.items():
                    next_ids[label] += n
                    totals[label] += n
                loans += counts[Loan._meta.label]
            # Copy the previous chunk while this one is formatted (and the next generated).
            if formatting is not None:
                _kind, _number, texts, debtors = _receive(pipes[formatting], processes[formatting])
                yield "chunk", texts, debtors
                formatting = None
            if handed_out is None:
                break
            if finished:
                _kind, _number, texts, debtors = _receive(pipes[handed_out], processes[handed_out])
                yield "chunk", texts, debtors
                break
            formatting = handed_out
            number += 1
        yield "done", totals, next_ids
    finally:
        for pipe, process in zip(pipes, processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(Exception):
                    message = _receive(pipe, process)
                    if message[0] == "generated":
                        pipe.send(("stop",))
                        message = _receive(pipe, process)
                    if message[0] == "rss":
                        result.generator_max_rss_kib = max(result.generator_max_rss_kib, message[1])
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
            pipe.close()


class _ChunkWriter:
    """Formats records as COPY text, one buffer per table, assigning ids as it goes."""

    def __init__(self, first_ids: dict[str, int], now: dt.datetime, today: dt.date) -> None:
        self.next = {model: first_ids[model._meta.label] for model in TABLE_ORDER}
        self.now = _ts(now)
        self.today = today
        self.buffers = {model: io.StringIO() for model in TABLE_ORDER}
        self.counts = dict.fromkeys(TABLE_ORDER, 0)

    def take(self) -> list[bytes]:
        # Encoded here, in the generating process, not in the one that copies.
        texts = [self.buffers[model].getvalue().encode() for model in TABLE_ORDER]
        self.buffers = {model: io.StringIO() for model in TABLE_ORDER}
        return texts

    @property
    def next_ids(self) -> dict[str, int]:
        return {model._meta.label: value for model, value in self.next.items()}

    def take_id(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value

    def add(self, d: DebtorRecord) -> None:
        ids = self
        counts = self.counts
        now = self.now
        today = self.today
        debtor_id = ids.take_id(Debtor)
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
                    # Encrypted as the model stores it, with its search key.
                    encrypt(d.national_id) if d.national_id else "",
                    blind_index(d.national_id),
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
            contact_id = ids.take_id(ContactPoint)
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
                f"{ids.take_id(ChannelConsent)}\t{debtor_id}\t{point}\t{c.channel}\t"
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
        # The hot loop (tens of millions of rows): ids in locals, formatting inline.
        nxt = self.next
        loan_id = nxt[Loan]
        inst_id = nxt[Installment]
        plan_id = nxt[RepaymentPlan]
        plan_inst_id = nxt[PlanInstallment]
        payment_id = nxt[Payment]
        alloc_id = nxt[PaymentAllocation]
        promise_id = nxt[PromiseToPay]
        for loan in d.loans:
            # Written as the generator derives them (derive.refresh_loans recomputes the same
            # fields in SQL; the tests check that the two agree).
            derived = derive_loan(loan, today)
            oldest = derived.oldest_unpaid_due_date
            loan_write(
                f"{loan_id}\t{debtor_id}\t{loan.external_ref}\t{loan.product}\t{loan.currency}\t"
                f"{loan.principal}e-2\t{derived.principal_balance}e-2\t"
                f"{derived.interest_balance}e-2\t0\t0\t{loan.opened_on.isoformat()}\t"
                f"{derived.status}\t{loan.risk_band}\t"
                f"{NULL if oldest is None else oldest.isoformat()}\t"
                f"{loan.created_at.isoformat()}\n"
            )
            first_inst = inst_id
            for inst in loan.installments:
                paid_at = inst.paid_at
                inst_write(
                    f"{inst_id}\t{loan_id}\t{inst.sequence}\t{inst.due_date.isoformat()}\t"
                    f"{inst.amount_due}e-2\t{inst.amount_paid}e-2\t"
                    f"{NULL if paid_at is None else paid_at.isoformat()}\n"
                )
                inst_id += 1
            plan_inst_first = []
            for plan in loan.plans:
                plan_write(
                    f"{plan_id}\t{loan_id}\t{plan.status}\t{plan.frequency}\t"
                    f"{money_text(plan.outstanding_at_creation)}\t{money_text(plan.total_amount)}\t"
                    f"{money_text(plan.discount_amount)}\t{_text(plan.discount_reason)}\t"
                    f"{_ts(plan.discount_approved_at)}\t{_ts(plan.created_at)}\t"
                    f"{_ts(plan.activated_at)}\t{_ts(plan.closed_at)}\n"
                )
                plan_inst_first.append(plan_inst_id)
                for inst in plan.installments:
                    plan_inst_write(
                        f"{plan_inst_id}\t{plan_id}\t{inst.sequence}\t{inst.due_date.isoformat()}\t"
                        f"{money_text(inst.amount_due)}\t{money_text(inst.amount_paid)}\t"
                        f"{_ts(inst.paid_at)}\n"
                    )
                    plan_inst_id += 1
                counts[PlanInstallment] += len(plan.installments)
                plan_id += 1
            for p in loan.payments:
                amount = f"{p.amount}e-2"
                received = p.received_at.isoformat()
                pay_write(
                    f"{payment_id}\t{loan_id}\t{amount}\t{received}\t{p.method}\t{p.source}\t"
                    f"{p.external_ref}\t{amount}\t0\t{received}\n"
                )
                for a in p.allocations:
                    if a.plan < 0:
                        target = f"{first_inst + a.installment}\t\\N"
                    else:
                        target = f"\\N\t{plan_inst_first[a.plan] + a.installment}"
                    alloc_write(f"{alloc_id}\t{payment_id}\t{target}\t{a.amount}e-2\n")
                    alloc_id += 1
                counts[PaymentAllocation] += len(p.allocations)
                payment_id += 1
            counts[Payment] += len(loan.payments)
            for pr in loan.promises:
                promise_write(
                    f"{promise_id}\t{loan_id}\t{money_text(pr.amount)}\t"
                    f"{pr.promised_date.isoformat()}\t{pr.status}\t{_ts(pr.created_at)}\t"
                    f"{_ts(pr.resolved_at)}\n"
                )
                promise_id += 1
            counts[PromiseToPay] += len(loan.promises)
            counts[Installment] += len(loan.installments)
            counts[RepaymentPlan] += len(loan.plans)
            loan_id += 1
        counts[Loan] += len(d.loans)
        # The calls' history (see the generator): loans and the mobile by their new ids.
        first_loan = loan_id - len(d.loans)
        attempt_write = self.buffers[ContactAttempt].write
        attempt_id = nxt[ContactAttempt]
        for call in d.calls:
            at = call.occurred_at.isoformat()
            attempt_write(
                f"{attempt_id}\t{debtor_id}\t{first_loan + call.loan}\t{contact_ids[0]}\t"
                f"call\toutbound\t{call.outcome}\t{at}\t{SEED_ACTOR}\tf\t[]\t{at}\t{at}\n"
            )
            attempt_id += 1
        counts[ContactAttempt] += len(d.calls)
        nxt[ContactAttempt] = attempt_id
        nxt[Loan] = loan_id
        nxt[Installment] = inst_id
        nxt[RepaymentPlan] = plan_id
        nxt[PlanInstallment] = plan_inst_id
        nxt[Payment] = payment_id
        nxt[PaymentAllocation] = alloc_id
        nxt[PromiseToPay] = promise_id
